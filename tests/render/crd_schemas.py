"""Custom resources checked against their CRDs' schemas, stored trimmed in data/crds (each file names
the upstream repository, commit and path it was cut from; data/trim_crd.py adds more)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

CRD_DIR = Path(__file__).resolve().parent / "data" / "crds"


@cache
def stored() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> stored CRD data."""
    found = {}
    for path in sorted(CRD_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        found[(data["apiVersion"], data["kind"])] = data
    return found


def unknown_fields(value: Any, schema: dict[str, Any], where: str = "spec") -> list[str]:
    """Every key of `value` the schema does not declare, recursively (what the API server would prune
    or, with strict field validation, refuse)."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    found: list[str] = []
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, sub in value.items():
            if props is not None and key in props:
                found += unknown_fields(sub, props[key], f"{where}.{key}")
            elif isinstance(extra, dict):
                found += unknown_fields(sub, extra, f"{where}.{key}")
            elif extra is not True:
                found.append(f"{where}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            found += unknown_fields(item, schema["items"], f"{where}[{index}]")
    return found


def _json_schema(schema: Any) -> Any:
    """OpenAPI v3 structural schema -> JSON Schema: int-or-string and nullable spelled out."""
    if isinstance(schema, dict):
        out = {k: _json_schema(v) for k, v in schema.items() if not k.startswith("x-kubernetes-") and k != "nullable"}
        if schema.get("x-kubernetes-int-or-string"):
            out.pop("type", None)
            out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        if schema.get("nullable") and "type" in out:
            out["type"] = [out["type"], "null"]
        if schema.get("x-kubernetes-preserve-unknown-fields") and "type" not in out:
            out = {}
        return out
    if isinstance(schema, list):
        return [_json_schema(v) for v in schema]
    return schema


@cache
def _validator(key: tuple[str, str]) -> jsonschema.Draft7Validator:
    """One validator per CRD for the session: it keeps the references and formats it has resolved."""
    return jsonschema.Draft7Validator(_json_schema(stored()[key]["spec"]))


def problems(manifest: dict[str, Any]) -> list[str]:
    """Unknown fields and schema violations of one custom resource's spec."""
    key = (manifest["apiVersion"], manifest["kind"])
    data = stored().get(key)
    if data is None:
        return [
            f"no CRD schema stored for {key[0]} {key[1]}; add it with tests/render/data/trim_crd.py from the upstream CRD"
        ]
    spec = manifest.get("spec", {})
    found = [f"unknown field {path}" for path in unknown_fields(spec, data["spec"])]
    validator = _validator(key)
    found += [f"spec.{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(spec)]
    return found
