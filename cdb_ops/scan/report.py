"""Text, JSON and SARIF 2.1.0 renderings of a scan. None of them carries a secret value: a finding has
only path, line, detector, description and the salted fingerprint."""

from __future__ import annotations

import json
from typing import Any

from cdb_ops.scan.model import Finding, ScanResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_URI = "https://github.com/cdb/cdb-infra/blob/main/docs/policies.md#no-secrets-in-repo"
FORMATS = ("text", "json", "sarif")


def render(result: ScanResult, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(to_json(result), indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(to_sarif(result), indent=2) + "\n"
    return to_text(result)


def to_text(result: ScanResult) -> str:
    lines = [f"{f.path}:{f.line}: {f.detector}: {f.description}" for f in result.findings]
    lines += [f"warning: {w}" for w in result.warnings]
    lines += [f"warning: allow-list entry matched nothing (remove it): {e}" for e in result.unused_allow_entries]
    verdict = (f"{len(result.findings)} secret finding(s) in {result.files_scanned} file(s); "
               "remove them from Git history or add an allow-list entry with a reason"
               if result.findings else f"no secrets found in {result.files_scanned} file(s)")
    lines.append(f"{verdict} ({len(result.allowlisted)} allow-listed)")
    return "\n".join(lines) + "\n"


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {"path": finding.path, "line": finding.line, "detector": finding.detector,
            "fingerprint": finding.fingerprint, "description": finding.description}


def to_json(result: ScanResult) -> dict[str, Any]:
    return {
        "version": 1,
        "filesScanned": result.files_scanned,
        "findings": [_finding_json(f) for f in result.findings],
        "allowlisted": [_finding_json(f) for f in result.allowlisted],
        "warnings": result.warnings,
        "unusedAllowListEntries": result.unused_allow_entries,
    }


def _location(finding: Finding) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": {"uri": finding.path, "uriBaseId": "%SRCROOT%"},
                                 "region": {"startLine": finding.line}}}


def _result(finding: Finding, rule_index: dict[str, int], suppressed: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "ruleId": finding.detector,
        "ruleIndex": rule_index[finding.detector],
        "level": "error",
        "message": {"text": f"{finding.description} (value not shown)"},
        "locations": [_location(finding)],
        "partialFingerprints": {"cdbSecretFingerprint/v1": finding.fingerprint},
    }
    if suppressed:
        entry["suppressions"] = [{"kind": "external", "justification": "listed in the audited allow-list"}]
    return entry


def to_sarif(result: ScanResult) -> dict[str, Any]:
    rules = sorted(result.detectors.values(), key=lambda d: d.id)
    rule_index = {rule.id: i for i, rule in enumerate(rules)}
    results = [_result(f, rule_index, False) for f in result.findings]
    results += [_result(f, rule_index, True) for f in result.allowlisted]
    notifications = [{"level": "warning", "message": {"text": w}} for w in result.warnings]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "cdb scan",
                "informationUri": TOOL_URI,
                "rules": [{"id": r.id, "shortDescription": {"text": r.description},
                           "properties": {"source": r.source, "tags": ["security", "secrets"]},
                           "defaultConfiguration": {"level": "error"}} for r in rules],
            }},
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
            "results": results,
        }],
    }
