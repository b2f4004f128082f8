"""`published.lock.json`: the schemas as they were published, kept next to the schemas in Git.

The lock stores each published schema in full, so `cdb events schemas --check` judges a change
against what readers actually received, without a network and without Git history (shallow CI
clones have none). A published version may change only in ways both its old readers and the
events already stored under it accept (compat.breaking_changes, both ways); anything else needs a
new version number (a new file `<name>.v<N+1>.schema.json` and thus new subjects).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cdb_core.schema_compat import CheckResult, breaking_changes, semantic
from cdb_ops.events.envelope import canonical_json
from cdb_ops.events.schemas import ENVELOPE_FILE, LOCK_FILE, SchemaFileError, load_schema_files, read_schema

ENVELOPE_KEY = "envelope"


def current_schemas(root: Path) -> dict[str, dict[str, Any]]:
    """The schemas in the working tree, keyed like the lock ('orders.created v1', 'envelope')."""
    found: dict[str, dict[str, Any]] = {str(k): s for k, s in load_schema_files(root).items()}
    found[ENVELOPE_KEY] = read_schema(root / ENVELOPE_FILE)
    return found


def read_lock(root: Path) -> dict[str, dict[str, Any]]:
    path = root / LOCK_FILE
    if not path.exists():
        return {}
    try:
        published = json.loads(path.read_text(encoding="utf-8"))["published"]
    except (ValueError, KeyError, TypeError) as exc:
        raise SchemaFileError(f"{path}: unreadable lock ({exc!r}); restore it from Git") from None
    for key, entry in published.items():
        if _digest(entry.get("schema")) != entry.get("sha256"):
            raise SchemaFileError(f"{path}: entry {key!r} does not match its sha256; restore the lock from Git")
    return published


def check(root: Path) -> CheckResult:
    result = CheckResult()
    schemas, published = current_schemas(root), read_lock(root)
    if not published:
        result.errors.append(f"{root / LOCK_FILE}: no published schemas recorded; run `cdb events schemas --lock`")
    for key, entry in sorted(published.items()):
        if key not in schemas:
            result.errors.append(f"{key}: published but its file is gone; restore it (replays still carry it)")
            continue
        problems = breaking_changes(entry["schema"], schemas[key])
        if problems:
            result.errors += [f"{key}: incompatible with the published version: {p}; {_fix(key)}" for p in problems]
        elif semantic(entry["schema"]) != semantic(schemas[key]):
            result.notes.append(f"{key}: compatible change; run `cdb events schemas --lock` to record it")
    for key in sorted(set(schemas) - set(published)):
        result.errors.append(f"{key}: not recorded as published; run `cdb events schemas --lock`")
    result.errors += _version_gaps(schemas)
    result.notes += _successors(schemas)
    return result


def write_lock(root: Path) -> CheckResult:
    """Record the current schemas as published, unless that would hide a breaking change."""
    result = check(root)
    blocking = [e for e in result.errors if "not recorded as published" not in e and "no published" not in e]
    if blocking:
        return CheckResult(errors=blocking, notes=result.notes)
    schemas = current_schemas(root)
    lock = {
        "comment": "Written by `cdb events schemas --lock`. Published schemas; never edit by hand.",
        "published": {key: {"sha256": _digest(s), "schema": s} for key, s in sorted(schemas.items())},
    }
    (root / LOCK_FILE).write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return CheckResult(notes=result.notes + [f"recorded {len(schemas)} schemas in {root / LOCK_FILE}"])


def _digest(schema: Any) -> str:
    return hashlib.sha256(canonical_json(schema)).hexdigest()


def _fix(key: str) -> str:
    if key == ENVELOPE_KEY:
        return "revert it (every reader depends on the envelope)"
    type_name, version = key.rsplit(" v", 1)
    domain, name = type_name.split(".", 1)
    return f"revert it, or publish the change as {domain}/{name}.v{int(version) + 1}.schema.json"


def _versions(schemas: dict[str, Any]) -> dict[str, list[int]]:
    versions: dict[str, list[int]] = {}
    for key in schemas:
        if key != ENVELOPE_KEY:
            type_name, version = key.rsplit(" v", 1)
            versions.setdefault(type_name, []).append(int(version))
    return {t: sorted(v) for t, v in versions.items()}


def _version_gaps(schemas: dict[str, Any]) -> list[str]:
    return [
        f"{t}: versions {v} are not 1..{len(v)}; number versions without gaps"
        for t, v in sorted(_versions(schemas).items())
        if v != list(range(1, len(v) + 1))
    ]


def _successors(schemas: dict[str, Any]) -> list[str]:
    notes = []
    for type_name, versions in sorted(_versions(schemas).items()):
        for previous, version in zip(versions, versions[1:]):
            problems = breaking_changes(schemas[f"{type_name} v{previous}"], schemas[f"{type_name} v{version}"])
            verdict = f"breaking ({len(problems)} changes), hence the new version" if problems else "compatible"
            notes.append(f"{type_name} v{version}: {verdict} relative to v{previous}")
    return notes
