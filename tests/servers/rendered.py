"""The rendered manifests (`deploy/<stack>`, held equal to the code by `cdb render --check`) as the
real-binary tests read them: the very files Flux applies, not a re-rendering with test parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def manifest(stack: str, namespace: str, kind: str, name: str) -> dict[str, Any]:
    path = ROOT / "deploy" / stack / namespace / f"{kind.lower()}-{name}.yaml"
    return yaml.safe_load(path.read_text())


def manifests(stack: str, namespace: str, kind: str) -> list[dict[str, Any]]:
    folder = ROOT / "deploy" / stack / namespace
    return [yaml.safe_load(p.read_text()) for p in sorted(folder.glob(f"{kind.lower()}-*.yaml"))]


def container(workload: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [c for c in workload["spec"]["template"]["spec"]["containers"] if c["name"] == name]
    return found
