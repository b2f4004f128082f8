"""Runs the real program (`__main__.py`) for a stack under the offline engine and gives its recorded wire
inputs to the tests of the secrets, object-storage, observability and AI-class parts."""

from __future__ import annotations

import dataclasses
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdb_engine.model import Resource
from cdb_engine.preview.program import run_program
from cdb_core.project import load_project
from cdb_core.errors import SettingsError
from cdb_stack.settings import parse_settings
from cdb_stack.stack import plan_stack

ROOT = Path(__file__).resolve().parents[2]
STS = "kubernetes:apps/v1:StatefulSet"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
NAMESPACE = "kubernetes:core/v1:Namespace"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
VAULT_AUTH = "kubernetes:secrets.hashicorp.com/v1beta1:VaultAuth"
VSS = "kubernetes:secrets.hashicorp.com/v1beta1:VaultStaticSecret"
POLICY = "vault:index/policy:Policy"
ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole"
STATE_CLASS = "cdb-infra.io/workload-class"
STATE_KIND = "cdb-infra.io/platform-state"


def stack_config(stack: str, **overrides: Any) -> dict[str, Any]:
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    config.update({f"cdb-infra:{key}": value for key, value in overrides.items()})
    return config


def _run(stack: str, config_json: str) -> tuple[Resource, ...]:
    config = json.loads(config_json)
    project = load_project(ROOT, stack)
    flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    result = run_program(dataclasses.replace(project, config=flat))
    assert not result.errors, result.errors
    return tuple(result.resources)


@lru_cache(maxsize=8)
def _cached(stack: str, config_json: str) -> tuple[Resource, ...]:
    return _run(stack, config_json)


def run_stack(stack: str, **overrides: Any) -> tuple[Resource, ...]:
    """Every registration of the stack program, with some `cdb-infra:<key>` values replaced."""
    return _cached(stack, json.dumps(stack_config(stack, **overrides), sort_keys=True))


def refusal(stack: str, **overrides: Any) -> str:
    """The one-line SettingsError the stack's planning raises for these settings."""
    with pytest.raises(SettingsError) as caught:
        settings = parse_settings(stack_config(stack, **overrides), source=f"Pulumi.{stack}.yaml")
        plan_stack(settings, "cdb-infra", stack, source=f"Pulumi.{stack}.yaml")
    message = str(caught.value)
    assert "\n" not in message
    return message


def of_type(resources: tuple[Resource, ...], type_: str) -> list[Resource]:
    return [r for r in resources if r.type == type_]


def one(resources: tuple[Resource, ...], type_: str, name: str) -> dict[str, Any]:
    found = [r for r in resources if r.type == type_ and r.name == name]
    assert len(found) == 1, f"expected one {type_} {name}, found {len(found)}"
    return found[0].properties


def pod(props: dict[str, Any]) -> dict[str, Any]:
    return props["spec"]["template"]["spec"]


def in_namespace(resources: tuple[Resource, ...], namespace: str) -> list[Resource]:
    return [r for r in resources if r.type.startswith("kubernetes:")
            and (r.properties.get("metadata") or {}).get("namespace") == namespace]
