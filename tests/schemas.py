"""Schema validators built once per test session and shared by the tests that use them.

A jsonschema validator resolves `$ref`s and compiles formats lazily and keeps what it found; building
a new one per call (or `jsonschema.validate`, which also checks the schema against its meta-schema each
time) pays that again for every object. `kubernetes_validate.validate` reads the multi-megabyte
definitions file and builds a validator on every call; `kubernetes_validate` here keeps one validator
per schema file, with the library's own version resolution, files and exceptions.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
from kubernetes_validate import utils as k8s
from referencing import Registry, Resource

SARIF_SCHEMA = Path(__file__).resolve().parent / "engine" / "data" / "sarif-schema-2.1.0.json"


@lru_cache(maxsize=None)
def json_schema(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def validator(path: Path, formats: bool = False, draft: type | None = None) -> jsonschema.protocols.Validator:
    """The validator of the schema in `path` (for its declared draft unless `draft` names one)."""
    schema = json_schema(path)
    cls = draft or jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER if formats else None)


def sarif_validator(formats: bool = False) -> jsonschema.protocols.Validator:
    """The OASIS SARIF 2.1.0 schema (draft-04), checked against its meta-schema once."""
    found = validator(SARIF_SCHEMA, formats)
    if not formats:
        _checked(SARIF_SCHEMA)
    return found


@lru_cache(maxsize=None)
def _checked(path: Path) -> None:
    jsonschema.validators.validator_for(json_schema(path)).check_schema(json_schema(path))


@lru_cache(maxsize=None)
def _k8s_definitions(schema_dir: str, desired_version: str) -> Resource:
    return Resource.from_contents(k8s.schema_contents(f"kubernetes-json-schema/{schema_dir}/_definitions.json", desired_version))


@lru_cache(maxsize=None)
def _k8s_validator(schema_dir: str, kind: str, api_version: str, desired_version: str):
    try:
        schema = k8s.schema_contents(f"kubernetes-json-schema/{schema_dir}/{kind.lower()}-{api_version}.json", desired_version)
    except FileNotFoundError:
        return None
    registry = _k8s_definitions(schema_dir, desired_version) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def kubernetes_validate(data: dict[str, Any], desired_version: str, strict: bool = False) -> str:
    """`kubernetes_validate.validate` with one validator per schema file for the session."""
    desired_version = desired_version.removeprefix("v")
    if k8s.major_minor(desired_version) > k8s.latest_version():
        raise k8s.VersionNotSupportedError(version=k8s.major_minor(desired_version))
    version = [v for v in k8s.all_versions() if k8s.major_minor(v) <= k8s.major_minor(desired_version)][-1]
    api_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", data["apiVersion"])
    schema_dir = f"v{version}-local" + ("-strict" if strict else "")
    checker = _k8s_validator(schema_dir, data["kind"], api_version, desired_version)
    if checker is None:
        raise k8s.SchemaNotFoundError(version=k8s.major_minor(desired_version), kind=data["kind"],
                                      api_version=data["apiVersion"])
    try:
        checker.validate(data)
    except jsonschema.ValidationError as exc:
        raise k8s.ValidationError(exc, version=k8s.major_minor(version)) from None
    return k8s.major_minor(version)
