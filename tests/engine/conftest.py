"""Fixtures for engine tests: small throw-away Pulumi projects written to a temp folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKS = Path(__file__).parent / "data" / "packs"

COMPLIANT_CONTAINER = {
    "name": "web",
    "image": "registry.example/web:1.4.2",
    "ports": [{"containerPort": 8080}],
    "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
    "resources": {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    },
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    },
}

POD_SECURITY = {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}}


def deployment(name: str = "web", container: dict | None = None) -> dict:
    labels = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "apps", "labels": labels},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": POD_SECURITY,
                    "containers": [container if container is not None else dict(COMPLIANT_CONTAINER)],
                },
            },
        },
    }


@pytest.fixture
def make_project(tmp_path):
    """Write a Pulumi project whose program is `body` (Python) and return its folder."""

    def make(body: str, config: str = "", name: str = "probe", stack: str = "dev") -> Path:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
        (folder / f"Pulumi.{stack}.yaml").write_text("config:\n" + textwrap.indent(textwrap.dedent(config), "  ") if config else "config: {}\n")
        (folder / "__main__.py").write_text(textwrap.dedent(body))
        return folder

    return make
