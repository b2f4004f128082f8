"""SARIF 2.1.0 for GitHub code scanning: one run, one rule per pack policy, one result per finding.

GitHub needs a physical location on every result, so a resource without a known source line points at
its nearest ancestor's line, else at `Pulumi.yaml` line 1; the message and a logical location name the
resource. Findings
that could not be checked and remote components that were not expanded are `note` results: visible
in the alert list, never silently absent.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from cdb_engine.model import Finding, PolicyMeta, Resource, SourceLocation, Verdict
from cdb_engine.reports.changes import diff_dict
from cdb_engine.reports.common import (
    FRAMEWORK, INFORMATION_URI, TOOL_NAME, Index, clause_label, pack_label, summarize, tool_version,
)

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FALLBACK_SOURCE = SourceLocation(path="Pulumi.yaml", line=1)
REMOTE_RULE_ID = "cdb/remote-component-not-expanded"
FINGERPRINT_KEY = "cdbFinding/v1"
# GitHub's bands: critical >= 9.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
_LEVELS = {"mandatory": "error", "remediate": "error", "advisory": "warning", "disabled": "none"}


def render_sarif(verdict: Verdict) -> str:
    # Compact: logs of thousands of results upload faster and the C encoder is 3x quicker than indent.
    return json.dumps(sarif_dict(verdict), ensure_ascii=False, separators=(",", ":")) + "\n"


def sarif_dict(verdict: Verdict) -> dict[str, Any]:
    index = Index(verdict)
    rules = _rules(verdict, index)
    position = {rule["id"]: i for i, rule in enumerate(rules)}
    results = [_violation(f, index, position) for f in index.ordered(verdict.violations)]
    results += [_unchecked(f, index, position) for f in index.ordered(verdict.unchecked)]
    results += [_remote(r, index, position) for r in verdict.remote]
    _add_fingerprints(results)
    summary = summarize(verdict)
    run = {
        "tool": {"driver": {
            "name": TOOL_NAME,
            "version": tool_version(),
            "informationUri": INFORMATION_URI,
            "rules": rules,
            "properties": {"policyPack": pack_label(verdict)},
        }},
        "automationDetails": {"id": f"{TOOL_NAME}/{verdict.mode}/{verdict.stack}/"},
        "invocations": [_invocation(verdict, summary.exit_code)],
        "results": results,
        "properties": {
            "mode": verdict.mode, "project": verdict.project, "stack": verdict.stack,
            "verdict": summary.outcome, "complete": summary.complete,
        },
    }
    if verdict.diff is not None:  # SARIF has no place for a plan: a property bag carries it
        run["properties"]["diff"] = diff_dict(verdict.diff)
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def level_of(enforcement: str) -> str:
    return _LEVELS.get(enforcement.lower(), "warning")


def _rules(verdict: Verdict, index: Index) -> list[dict[str, Any]]:
    policies = list(verdict.pack.policies) if verdict.pack else []
    known = {p.name for p in policies}
    # A finding whose policy the pack did not announce still needs a rule for its ruleIndex.
    for finding in index.ordered(verdict.violations + verdict.unchecked):
        if finding.policy not in known:
            known.add(finding.policy)
            policies.append(PolicyMeta(
                name=finding.policy, description=finding.description or finding.policy,
                enforcement=finding.enforcement, severity=finding.severity, clause=finding.clause,
                kind="resource",
            ))
    rules = [_rule(p) for p in policies]
    if verdict.remote:
        rules.append(_remote_rule())
    return rules


def _rule(policy: PolicyMeta) -> dict[str, Any]:
    clause = clause_label(policy.clause)
    remediation = policy.remediation or "See the policy documentation."
    markdown = (
        f"**{clause}**, severity {policy.severity}, {policy.enforcement}\n\n{policy.description}\n\n"
        f"**Remediation**\n\n{remediation}\n"
        + (f"\n[Policy documentation]({policy.url})\n" if policy.url else "")
    )
    rule: dict[str, Any] = {
        "id": policy.name,
        "name": policy.name,
        "shortDescription": {"text": _first_line(policy.description) or policy.name},
        "fullDescription": {"text": f"{policy.description} ({clause})"},
        "help": {"text": f"{clause}: {policy.description}\nRemediation: {remediation}", "markdown": markdown},
        "defaultConfiguration": {"level": level_of(policy.enforcement)},
        "properties": {
            "tags": ["security", FRAMEWORK, f"{FRAMEWORK}:{policy.clause}", f"{policy.kind}-policy"],
            "security-severity": SECURITY_SEVERITY.get(policy.severity.lower(), "5.5"),
            "precision": "very-high",
            "clause": policy.clause,
            "severity": policy.severity,
            "enforcement": policy.enforcement,
        },
    }
    if policy.url:
        rule["helpUri"] = policy.url
    return rule


def _remote_rule() -> dict[str, Any]:
    text = ("A remote component (for example a Helm chart) registers no children under the offline "
            "engine, so the resources it would create were not checked by any policy.")
    return {
        "id": REMOTE_RULE_ID,
        "name": "remote-component-not-expanded",
        "shortDescription": {"text": "Remote component not expanded: its children were not checked"},
        "fullDescription": {"text": text},
        "help": {"text": text, "markdown": f"{text}\n\nRender it to manifests and run `cdb check` on them."},
        "defaultConfiguration": {"level": "note"},
        "properties": {"tags": ["security", FRAMEWORK, "not-checked"], "precision": "very-high"},
    }


def _violation(finding: Finding, index: Index, position: dict[str, int]) -> dict[str, Any]:
    type_, name = index.type_and_name(finding.urn)
    text = f"[{clause_label(finding.clause)}] {type_}: {name}: {finding.message or finding.description}"
    return _result(finding, index, position, level_of(finding.enforcement), text)


def _unchecked(finding: Finding, index: Index, position: dict[str, int]) -> dict[str, Any]:
    type_, name = index.type_and_name(finding.urn)
    text = (f"Not checked: policy {finding.policy} could not run on {type_}: {name} because a value is "
            f"unknown during preview; this is not a pass. {finding.message}")
    result = _result(finding, index, position, "note", text.strip())
    result["properties"]["status"] = "not-checked"
    return result


def _result(
    finding: Finding, index: Index, position: dict[str, int], level: str, text: str
) -> dict[str, Any]:
    type_, name = index.type_and_name(finding.urn)
    return {
        "ruleId": finding.policy,
        "ruleIndex": position[finding.policy],
        "level": level,
        "message": {"text": text},
        "locations": [_location(index.nearest_source(finding.urn), type_, name, finding.urn)],
        "properties": {
            "urn": finding.urn, "resourceType": type_, "resourceName": name, "clause": finding.clause,
            "severity": finding.severity, "enforcement": finding.enforcement,
        },
    }


def _remote(resource: Resource, index: Index, position: dict[str, int]) -> dict[str, Any]:
    text = (f"Not checked: remote component {resource.type}: {resource.name}; the offline engine cannot "
            "expand its children, so none of them was checked by any policy.")
    return {
        "ruleId": REMOTE_RULE_ID,
        "ruleIndex": position[REMOTE_RULE_ID],
        "level": "note",
        "message": {"text": text},
        "locations": [
            _location(index.nearest_source(resource.urn), resource.type, resource.name, resource.urn)
        ],
        "properties": {"urn": resource.urn, "resourceType": resource.type, "resourceName": resource.name,
                       "status": "not-checked"},
    }


def _location(source: SourceLocation | None, type_: str, name: str, urn: str) -> dict[str, Any]:
    source = source or FALLBACK_SOURCE
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": artifact_uri(source.path)},
            "region": {"startLine": max(source.line, 1), "startColumn": max(source.column, 1)},
        },
        "logicalLocations": [{"name": name, "fullyQualifiedName": urn or type_, "kind": "resource"}],
    }


def artifact_uri(path: str) -> str:
    """A repository-relative URI with forward slashes, as GitHub maps alerts to files."""
    posix = path.replace("\\", "/")
    if PurePath(path).is_absolute():
        try:
            posix = Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
        except ValueError:  # outside the working tree: an absolute file URI is the honest answer
            return Path(path).resolve().as_uri()
    while posix.startswith("./"):
        posix = posix[2:]
    return quote(posix, safe="/")


def _add_fingerprints(results: list[dict[str, Any]]) -> None:
    """Stable per policy and resource; repeats on one resource get an ordinal so none is merged away."""
    seen: dict[str, int] = {}
    for result in results:
        status = result["properties"].get("status", "")
        key = "\0".join(filter(None, [result["ruleId"], result["properties"]["urn"], status]))
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        seen[digest] = seen.get(digest, 0) + 1
        result["partialFingerprints"] = {
            FINGERPRINT_KEY: digest if seen[digest] == 1 else f"{digest}:{seen[digest]}"
        }


def _invocation(verdict: Verdict, exit_code: int) -> dict[str, Any]:
    notifications = [
        {"level": "error", "message": {"text": error}, "descriptor": {"id": "cdb/error"}}
        for error in verdict.errors
    ]
    notifications += [
        {"level": "warning", "message": {"text": f"remote component {r.type}: {r.name} not expanded offline"},
         "descriptor": {"id": REMOTE_RULE_ID}}
        for r in verdict.remote
    ]
    notifications += [
        {"level": "warning", "message": {"text": f"invoke {token} not answered offline; what the program built "
                                                 "from it was not checked"},
         "descriptor": {"id": "cdb/invoke-not-answered"}}
        for token in verdict.unanswered
    ]
    if not verdict.errors and not verdict.mandatory and not verdict.complete:
        notifications.append({
            "level": "note" if verdict.accept_incomplete else "error",
            "message": {"text": "incomplete verdict accepted by --accept-incomplete" if verdict.accept_incomplete
                        else "incomplete verdict: not everything could be checked offline (exit 3)"},
            "descriptor": {"id": "cdb/incomplete"}})
    invocation: dict[str, Any] = {"executionSuccessful": not verdict.errors, "exitCode": exit_code}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
