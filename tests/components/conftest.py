"""Fixtures of the component tests: a provenance and minimal valid service arguments."""

from typing import Any

import pytest

from components.config import EnvVar
from components.network import Destination, Peer
from components.provenance import Provenance
from components.types import Probe, Resources
from tests.components.harness import PROJECT, STACK

REVISION = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def provenance() -> Provenance:
    return Provenance("cdb", REVISION, f"{PROJECT}/{STACK}")


@pytest.fixture
def service_args(provenance: Provenance) -> dict[str, Any]:
    """Minimal valid StatelessService arguments as a plain dict (tests override single fields)."""
    return {
        "provenance": provenance,
        "namespace": "apps",
        "image": "ghcr.io/cdb/api:1.4.2",
        "port": 8080,
        "resources": Resources(cpu_request="250m", memory_request="256Mi", cpu_limit="1", memory_limit="512Mi"),
        "liveness": Probe.http_get("/healthz", 8080),
        "readiness": Probe.http_get("/ready", "http"),
        "env": (EnvVar.literal("LOG_LEVEL", "info"),),
        "ingress_from": (Peer(namespace="gateway", pod_labels={"app.kubernetes.io/name": "gateway"}),),
        "egress_to": (Destination(namespace="bus", pod_labels={"app.kubernetes.io/name": "nats"}, ports=(4222,)),),
    }
