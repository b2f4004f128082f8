"""Machine-readable report: one JSON object, stable key order, findings in the shared order.

`schemaVersion` changes only when a key is removed or changes meaning; new keys may appear at any time.
"""

from __future__ import annotations

import json
from typing import Any

from cdb_engine.model import Finding, PackMeta, Resource, SourceLocation, Verdict
from cdb_engine.reports.changes import diff_dict
from cdb_engine.reports.common import (
    FRAMEWORK, TOOL_NAME, Index, is_mandatory, summarize, tool_version,
)

SCHEMA_VERSION = 1


def render_json(verdict: Verdict) -> str:
    return _layout(report_dict(verdict), "") + "\n"


_compact = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def _layout(value: Any, indent: str) -> str:
    """Objects indented by two spaces; each element of a list on one line of its own.

    A line per resource and per finding reads and diffs well, and those lines come from json's C
    encoder: indent=2 all the way down takes json's pure-Python path, a tenth of a second per 1,000
    resources.
    """
    inner = indent + "  "
    if isinstance(value, dict) and value:
        fields = (f"{inner}{_compact(key)}: {_layout(item, inner)}" for key, item in value.items())
        return "{\n" + ",\n".join(fields) + "\n" + indent + "}"
    if isinstance(value, list) and value:
        return "[\n" + ",\n".join(inner + _compact(item) for item in value) + "\n" + indent + "]"
    return _compact(value)


def report_dict(verdict: Verdict) -> dict[str, Any]:
    index = Index(verdict)
    summary = summarize(verdict)
    report = {
        "schemaVersion": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": tool_version()},
        "mode": verdict.mode,
        "project": verdict.project,
        "stack": verdict.stack,
        "pack": _pack(verdict.pack),
        "resources": [_resource(r) for r in verdict.resources],
        "violations": [_finding(f, index) for f in index.ordered(verdict.violations)],
        "unchecked": [_finding(f, index) for f in index.ordered(verdict.unchecked)],
        "remote": [_remote(r) for r in verdict.remote],
        "unanswered": list(verdict.unanswered),
        "errors": list(verdict.errors),
        "skipped": [{"path": path, "reason": reason} for path, reason in verdict.skipped],
        "summary": {
            "resources": summary.resources,
            "create": summary.create,
            "violations": {
                "mandatory": summary.mandatory,
                "advisory": summary.advisory,
                "total": summary.mandatory + summary.advisory,
            },
            "unchecked": summary.unchecked,
            "remote": summary.remote,
            "unanswered": summary.unanswered,
            "errors": summary.errors,
            "complete": summary.complete,
            "incompleteAccepted": summary.accepted,
            "verdict": summary.outcome,
            "exitCode": summary.exit_code,
        },
    }
    if verdict.diff is not None:  # only with --diff BASE: a new key, so schemaVersion stays
        report["diff"] = diff_dict(verdict.diff)
    return report


def _source(source: SourceLocation | None) -> dict[str, Any] | None:
    return None if source is None else {"path": source.path, "line": source.line}


def _pack(pack: PackMeta | None) -> dict[str, Any] | None:
    if pack is None:
        return None
    return {
        "name": pack.name,
        "version": pack.version,
        "path": pack.path,
        "framework": FRAMEWORK,
        "policies": [
            {
                "name": p.name,
                "clause": p.clause,
                "severity": p.severity,
                "enforcement": p.enforcement,
                "kind": p.kind,
                "description": p.description,
                "remediation": p.remediation,
                "url": p.url,
            }
            for p in pack.policies
        ],
    }


def _resource(resource: Resource) -> dict[str, Any]:
    return {
        "urn": resource.urn,
        "type": resource.type,
        "name": resource.name,
        "parent": resource.parent,
        "custom": resource.custom,
        "remote": resource.remote,
        "source": _source(resource.source),
    }


def _finding(finding: Finding, index: Index) -> dict[str, Any]:
    type_, name = index.type_and_name(finding.urn)
    resource = index.by_urn.get(finding.urn)
    return {
        "policy": finding.policy,
        "clause": finding.clause,
        "severity": finding.severity,
        "enforcement": finding.enforcement,
        "mandatory": is_mandatory(finding),
        "urn": finding.urn,
        "type": type_,
        "name": name,
        "message": finding.message,
        "description": finding.description,
        "source": _source(resource.source if resource else None),
    }


def _remote(resource: Resource) -> dict[str, Any]:
    return {
        "urn": resource.urn,
        "type": resource.type,
        "name": resource.name,
        "source": _source(resource.source),
        "reason": "remote component: the offline engine cannot expand its children, so they were not checked",
    }
