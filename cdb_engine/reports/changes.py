"""The diff against a base (`cdb preview --diff BASE`) as every report format shows it."""

from __future__ import annotations

import json
from typing import Any

from cdb_engine.reports.diff import SYMBOLS, Change, Diff, ResourceKey

MAX_VALUE = 120  # a changed value longer than this is cut in text: the JSON report has it whole


def change_dict(change: Change) -> dict[str, Any]:
    key = change.identity
    by_urn = {"urn": key.urn, "type": key.type} if isinstance(key, ResourceKey) else {}
    return {
        "action": change.action,
        "object": str(key),
        **by_urn,
        # Kubernetes objects: their identity; other resources: kind is the type token, name the resource's
        "group": key.group, "kind": key.kind, "namespace": key.namespace,
        "name": key.object.name if isinstance(key, ResourceKey) and key.object is not None else key.name,
        "fields": [{"path": f.path, "old": f.old, "new": f.new} for f in change.fields],
        "replaceBecause": list(change.replace_because),
    }


def diff_dict(diff: Diff) -> dict[str, Any]:
    """Counts of every action and the objects that change (unchanged ones are only counted)."""
    counts = diff.counts
    return {
        "base": diff.base,
        "summary": diff.summary(),
        "counts": {action: counts[action] for action in ("create", "update", "replace", "delete", "same")},
        "changes": [change_dict(c) for c in diff.changed],
    }


def value_text(value: Any) -> str:
    if value is None:
        text = "(none)"
    elif isinstance(value, str) and value.isprintable():
        text = value
    else:  # structures, and strings with line breaks: one line, quoted
        text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def change_lines(change: Change, indent: str = "") -> list[str]:
    """`~ Deployment.apps ai/chat` and, below it, one line per changed field: `path: old => new`."""
    head = f"{indent}{SYMBOLS[change.action]} {change.action:<8}{change.identity}"
    if change.replace_because:
        head += f"  (replace: {', '.join(change.replace_because)} cannot change in place)"
    return [head] + [f"{indent}      {f.path}: {value_text(f.old)} => {value_text(f.new)}" for f in change.fields]


def diff_lines(diff: Diff) -> list[str]:
    lines = [f"Changes against {diff.base}:"]
    for change in diff.changed:
        lines += change_lines(change, "    ")
    if not diff.changed:
        lines.append("    no changes")
    return lines + ["", f"    {diff.summary()}"]
