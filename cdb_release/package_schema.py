"""The `cdb` package's schema as a contract (`cdb provider --check` / `--write`).

`provider/schema.json` records the schema of the version in `provider/package.py`; it is what the
provider reports (GetSchema) and what `pulumi package add` generates each language's SDK from. A
change is judged the way `cdb events schemas --check` judges event schemas: each component's inputs
and outputs become JSON Schemas and `events.compat` finds where they accept different things.
  breaking (needs a new major version)   a removed or renamed input, a narrowed input type (a type
      or enum value no longer accepted), a new required input, an input that now takes only plain
      values, a removed output or an output type that now holds more, a removed component
  additive (needs a new minor version)   any other change of what the schema accepts or returns
  descriptions only                      no version change needed
Every version the schema records must have an entry in CHANGELOG.md; releases are tagged v<version>.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from cdb_core.errors import CdbError
from cdb_core.schema_compat import CheckResult, accepted_by_new, refused_by_new, semantic

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "provider" / "schema.json"
INPUTS_FILE = ROOT / "provider" / "inputs.py"
CHANGELOG = ROOT / "CHANGELOG.md"
_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def version_of(schema: Any) -> tuple[int, int, int]:
    if not isinstance(schema, dict):
        raise ValueError("not a JSON object")
    match = _SEMVER.match(str(schema.get("version", "")))
    if not match:
        raise ValueError(f"schema version {schema.get('version')!r} is not MAJOR.MINOR.PATCH")
    return int(match[1]), int(match[2]), int(match[3])


def _type_schema(spec: dict[str, Any], types: dict[str, Any], depth: int = 0) -> Any:
    """A schema property (or type reference) as JSON Schema; references resolved inline."""
    if depth > 32:
        raise ValueError("type references nest deeper than 32 levels")
    ref = spec.get("$ref")
    if ref is not None:
        token = ref.rsplit("/", 1)[-1]
        if not ref.startswith("#/types/") or token not in types:
            return True  # pulumi.json#/Any, or another package's type: anything
        defined = types[token]
        if "enum" in defined:
            return {"type": defined["type"], "enum": [v["value"] for v in defined["enum"]]}
        return _object(defined.get("properties", {}), defined.get("required", []), types, depth + 1)
    kind = spec.get("type")
    if kind == "array":
        return {"type": "array", "items": _type_schema(spec.get("items", {}), types, depth + 1)}
    if kind == "object":
        return {"type": "object", "additionalProperties": _type_schema(spec.get("additionalProperties", {}), types, depth + 1)}
    return {"type": kind} if kind else True


def _object(properties: dict[str, Any], required: list[str], types: dict[str, Any], depth: int, closed: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "properties": {name: _type_schema(p, types, depth) for name, p in properties.items()},
        "required": sorted(required),
    }
    if closed:
        out["additionalProperties"] = False
    return out


def component_schemas(schema: dict[str, Any]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Per component token: (what its inputs accept, what its outputs hold), as JSON Schemas."""
    types = schema.get("types", {})
    found = {}
    for token, resource in schema.get("resources", {}).items():
        inputs = _object(resource.get("inputProperties", {}), resource.get("requiredInputs", []), types, 0)
        # Outputs are open: a new output breaks no one; a missing one does.
        outputs = _object(resource.get("properties", {}), resource.get("required", []), types, 0, closed=False)
        found[token] = (inputs, outputs)
    return found


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Every way `new` breaks a program written against `old`."""
    problems: list[str] = []
    old_parts, new_parts = component_schemas(old), component_schemas(new)
    for token in sorted(old_parts):
        if token not in new_parts:
            problems.append(f"{token}: the component was removed")
            continue
        (old_in, old_out), (new_in, new_out) = old_parts[token], new_parts[token]
        problems += [f"existing programs: {p}" for p in refused_by_new(old_in, new_in, f"{token}.inputs")]
        problems += [f"code reading outputs: {p}" for p in accepted_by_new(old_out, new_out, f"{token}.outputs")]
        old_props = old["resources"][token].get("inputProperties", {})
        for name, prop in new["resources"][token].get("inputProperties", {}).items():
            if prop.get("plain") and name in old_props and not old_props[name].get("plain"):
                problems.append(f"existing programs: {token}.inputs.{name}: now takes only plain values, no outputs")
    return problems


def check(recorded: dict[str, Any], current: dict[str, Any], changelog: str | None) -> CheckResult:
    """Judge the schema the code gives now (`current`) against the recorded one."""
    result = CheckResult()
    try:
        old_version, new_version = version_of(recorded), version_of(current)
    except ValueError as exc:
        return CheckResult(errors=[str(exc)])
    breaks = breaking_changes(recorded, current)
    changed = semantic(recorded) != semantic(current)
    versions = f"{'.'.join(map(str, old_version))} -> {'.'.join(map(str, new_version))}"
    if new_version < old_version:
        result.errors.append(f"version {versions} goes backwards; raise VERSION in provider/package.py")
    elif breaks and new_version[0] <= old_version[0]:
        fix = f"restore it, or release a new major version ({old_version[0] + 1}.0.0 in provider/package.py, with a CHANGELOG entry)"
        result.errors += [f"breaking change without a new major version ({versions}): {p}; {fix}" for p in breaks]
    elif changed and new_version[:2] == old_version[:2] and not breaks:
        result.errors.append(
            f"the schema changed without a new minor version ({versions}); set {old_version[0]}.{old_version[1] + 1}.0 "
            "in provider/package.py and add a CHANGELOG entry"
        )
    if changelog is not None and not re.search(rf"^## \[?{re.escape(current.get('version', ''))}\]?\b", changelog, re.M):
        result.errors.append(f"CHANGELOG.md has no entry '## {current.get('version')}'; add one saying what changed")
    if breaks and not result.errors:
        result.notes += [f"breaking, released as a new major version: {p}" for p in breaks]
    return result


def current_schema(inputs_file: Path | None = None) -> dict[str, Any]:
    """The schema the provider reports with the code as it is now (inputs read from `inputs_file`)."""
    import provider
    from provider import host, interface

    spec = importlib.util.spec_from_file_location("provider.inputs", inputs_file or INPUTS_FILE)
    module = importlib.util.module_from_spec(spec)
    sys.modules["provider.inputs"] = provider.inputs = module
    spec.loader.exec_module(module)
    importlib.reload(interface)  # its declarations name the types of the inputs just read
    return host.CdbComponentProvider().schema_json()


def dumps(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)  # a reader never sees half a file


def read_recorded(path: Path | None = None) -> dict[str, Any]:
    path = path or SCHEMA_FILE
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
        version_of(recorded)
    except OSError as exc:
        raise CdbError(f"{path}: cannot read: {exc.strerror}; restore it from Git") from None
    except ValueError as exc:
        raise CdbError(f"{path}: not a recorded package schema ({exc}); restore it from Git") from None
    if not isinstance(recorded.get("resources"), dict):
        raise CdbError(f"{path}: has no resources; restore it from Git")
    return recorded


def run(write: bool) -> CheckResult:
    """`--check` (write=False) or `--write`: regenerate inputs.py and schema.json unless that hides a break."""
    from provider import generate

    recorded = read_recorded()
    changelog = CHANGELOG.read_text(encoding="utf-8") if CHANGELOG.is_file() else ""
    old_inputs, new_inputs = INPUTS_FILE.read_text(encoding="utf-8"), generate.render()
    if write and new_inputs != old_inputs:
        _write(INPUTS_FILE, new_inputs)
    try:
        current = current_schema(INPUTS_FILE)
        result = check(recorded, current, changelog)
    except Exception:
        if write:
            _write(INPUTS_FILE, old_inputs)
        raise
    if write:
        if not result.ok:
            _write(INPUTS_FILE, old_inputs)  # nothing half-written: the break stays unrecorded
            current_schema(INPUTS_FILE)
            return result
        if dumps(current) != dumps(recorded):
            _write(SCHEMA_FILE, dumps(current))
            result.notes.append(f"recorded the schema of version {current['version']} in provider/schema.json")
        return result
    if new_inputs != old_inputs:
        result.errors.append("provider/inputs.py is not what the Args models give now; run `cdb provider --write`")
    elif dumps(current) != dumps(recorded):
        result.errors.append("provider/schema.json is not what the provider reports; run `cdb provider --write`")
    return result
