"""Everything the components register is a valid Kubernetes object (strict OpenAPI schema, no unknown fields)."""

from typing import Any

import kubernetes_validate
import pytest

from components.config import ConfigMapVolume, EnvVar, SecretVolume
from components.network import Destination
from components.service import StatelessService, StatelessServiceArgs
from components.types import Probe
from components.zone import Zone, ZoneArgs
from tests import schemas
from tests.components.harness import run_program

KUBERNETES_VERSION = "1.33"


def _ints(value: Any) -> Any:
    """The wire form carries every number as a float; the schema wants integers back."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_ints(item) for item in value]
    return value


def test_every_registered_kubernetes_object_validates_strictly(provenance, service_args: dict[str, Any]) -> None:
    def program() -> None:
        Zone("apps", ZoneArgs(provenance=provenance, quota={"requests.storage": "10Gi"}))
        StatelessService(
            "api",
            StatelessServiceArgs(**{
                **service_args,
                "startup": Probe.grpc(9090, failure_threshold=30),
                "env": (EnvVar.from_config_map("MODE", "api-config", "mode"), EnvVar.from_secret("DB_PASSWORD", "db", "password")),
                "config_volumes": (ConfigMapVolume(config_map="api-config", mount_path="/etc/api"),),
                "secret_volumes": (SecretVolume(secret="tls", mount_path="/var/run/tls"),),
                "egress_to": (*service_args["egress_to"], Destination(cidr="10.20.0.0/16", ports=(5432,))),
                "command": ("/app",),
                "container_args": ("--serve",),
                "replicas": 1,
            }),
        )

    objects = run_program(program).kubernetes_objects()
    assert len(objects) == 10
    for obj in objects:
        try:
            schemas.kubernetes_validate(_ints(obj.inputs), KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{obj.type} {obj.name}: {exc.message} at {list(exc.path)}")
