"""The stack's typed settings, loaded from Pulumi config (`cdb-infra:<key>` in Pulumi.<stack>.yaml).

Strict on purpose: an unknown key, a wrong type or an insecure value stops the program before any
resource is built, with one line that names the key and the fix. Keys are camelCase in config, as Pulumi
config keys usually are; fields here are snake_case. What the components themselves refuse (unpinned
images, secret-like literal env, limits below requests, AI services with secrets) is checked when the
stack is planned, still before anything is built, and reported against the same config key.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from enum import Enum
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from cdb_core.errors import SettingsError
from cdb_core.project import NAMESPACE
from cdb_stack.settings_base import ApiServer, Compute, Name
from cdb_stack.settings_words import join_path, yaml_words
from cdb_stack.settings_base import Strict as _Strict
from cdb_stack.parts import gitops as gitops_part
from cdb_stack.parts import event_bus as event_bus_part
from cdb_stack.parts import redis as redis_part
from cdb_stack.parts import kafka as kafka_part
from cdb_stack.parts import secrets as secrets_part
from cdb_stack.parts import object_storage as object_storage_part
from cdb_stack.parts import observability as observability_part



class Environment(str, Enum):
    dev = "dev"
    prod = "prod"


class SecretEnv(_Strict):
    secret: Name = Field(description="name of the Kubernetes Secret delivered by the secret operator")
    key: str = Field(min_length=1, description="key inside that Secret")


class ServiceSettings(_Strict):
    name: Name = Field(description="service name; also the Kubernetes object name")
    zone: Name = Field(description="the zone (namespace) the service runs in; must be declared under zones")
    image: str = Field(min_length=1, description="container image pinned to a version tag or digest (never latest)")
    port: int = Field(8080, ge=1, le=65535, description="container and service port")
    replicas: int = Field(2, ge=1, le=100, description="pod replicas; prod needs at least 2")
    workload_class: Literal["service", "ai"] = Field(
        "service", description="`ai` services get no secrets, no token and no path to the vault zone"
    )
    liveness_path: str = Field("/healthz", pattern=r"^/", description="HTTP path of the liveness probe")
    readiness_path: str = Field("/ready", pattern=r"^/", description="HTTP path of the readiness probe")
    resources: Compute = Field(default_factory=Compute)
    env: dict[str, str] = Field(default_factory=dict, description="literal, non-secret environment variables")
    config: dict[str, str] = Field(default_factory=dict, description="ConfigMap entries exposed as environment")
    secret_env: dict[str, SecretEnv] = Field(default_factory=dict, description="env vars read from Secrets")
    ingress_from: list[Name] = Field(default_factory=list, description="zones allowed to call this service")
    egress_to: list[Name] = Field(default_factory=list, description="zones this service may call")

    @field_validator("env")
    @classmethod
    def _env_is_not_secret(cls, env: dict[str, str]) -> dict[str, str]:
        """The component refuses secret-like literals; said here in the stack file's terms."""
        from components.config import EnvVar

        for name, value in env.items():
            try:
                EnvVar.literal(name, value)
            except ValueError as exc:
                reason = str(exc).splitlines()[0]
                if "secret" in reason.lower():
                    raise ValueError(
                        f"{name}: looks like a secret but has a literal value; move it under secretEnv as "
                        f"`{name}: {{secret: <Secret name>, key: <key>}}` (the Secret comes from Vault)"
                    ) from None
                raise ValueError(f"{name}: {yaml_words(reason.split(': ', 1)[-1])}") from None
        return env


class ZoneSettings(_Strict):
    name: Name = Field(description="namespace name")
    cpu_quota: str = Field("8", description="total CPU limit of the zone's pods")
    memory_quota: str = Field("16Gi", description="total memory limit of the zone's pods")
    pod_quota: int = Field(50, ge=1, description="maximum pods in the zone")

    @field_validator("cpu_quota", "memory_quota")
    @classmethod
    def _is_quantity(cls, value: str) -> str:
        from components.quantity import parse_quantity

        try:
            parse_quantity(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a Kubernetes quantity; write e.g. '4', '500m' or '16Gi'") from None
        return value


class StackSettings(_Strict):
    environment: Environment = Field(description="dev or prod; dev allows single replicas")
    part_of: Name = Field("cdb", description="the system every object belongs to (app.kubernetes.io/part-of)")
    git_revision: str | None = Field(None, description="commit the stack is built from; default: CI env or git")
    zones: list[ZoneSettings] = Field(default_factory=list)
    api_server: ApiServer | None = Field(None, description="the Kubernetes API server's endpoint addresses and port, for every "
                                                           "NetworkPolicy egress to it (operators, Vault, Prometheus)")
    services: list[ServiceSettings] = Field(default_factory=list)
    event_bus: event_bus_part.Settings = Field(default_factory=event_bus_part.Settings, description="NATS JetStream, the primary event bus, and its streams")
    redis: redis_part.Settings = Field(default_factory=redis_part.Settings, description="Redis, transitional transport; present only in the phases that need it")
    kafka: kafka_part.Settings = Field(default_factory=kafka_part.Settings, description="Kafka via Strimzi, the secondary bus; off by default")
    secrets: secrets_part.Settings = Field(default_factory=secrets_part.Settings, description="HA Vault in its own zone, its configuration as code, delivery through the Vault Secrets Operator")
    object_storage: object_storage_part.Settings = Field(default_factory=object_storage_part.Settings, description="distributed S3-compatible object store (MinIO engine, pinned image) with a WORM audit bucket")
    observability: observability_part.Settings = Field(default_factory=observability_part.Settings, description="Prometheus, Loki, Grafana and the OpenTelemetry Collector, wired together")
    gitops: gitops_part.Settings = Field(default_factory=gitops_part.Settings, description="Flux GitOps: repository, path, intervals, audit sink")

    @model_validator(mode="after")
    def _consistent(self) -> StackSettings:
        zones = [z.name for z in self.zones]
        _unique(zones, "zones")
        _unique([s.name for s in self.services], "services")
        for i, s in enumerate(self.services):
            for field_name, refs in (("zone", [s.zone]), ("ingressFrom", s.ingress_from), ("egressTo", s.egress_to)):
                for ref in refs:
                    if ref not in zones:
                        raise ValueError(f"services[{i}].{field_name}: zone {ref!r} is not declared; add it under zones")
            if self.environment is Environment.prod and s.replicas < 2:
                raise ValueError(f"services[{i}].replicas: prod needs at least 2 replicas for availability")
        return self


def _unique(names: list[str], what: str) -> None:
    seen = set()
    for n in names:
        if n in seen:
            raise ValueError(f"{what}: {n!r} is declared twice; names must be unique")
        seen.add(n)


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _decode(value: Any) -> Any:
    # Pulumi hands structured config over as JSON text.
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def parse_settings(config: Mapping[str, Any], source: str = "config") -> StackSettings:
    """Build settings from flat `cdb-infra:<key>` config. Raises SettingsError with one line."""
    prefix = f"{NAMESPACE}:"
    data = {k[len(prefix):]: _decode(v) for k, v in config.items() if k.startswith(prefix)}
    known = {f.alias or n for n, f in StackSettings.model_fields.items()}
    for key in data:
        if key not in known:
            close = [k for k in known if k.lower() == key.lower()] or difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean `{prefix}{close[0]}`? " if close else ""
            shown = key if key.isprintable() else repr(key)
            raise SettingsError(
                f"{source}: {prefix}{shown}: unknown setting; {hint}known: {', '.join(sorted(known))}")
    try:
        return StackSettings.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _loc(err["loc"])
        msg = yaml_words(err["msg"].removeprefix("Value error, "))
        if err["type"] == "extra_forbidden":
            msg = "unknown setting; remove it or check its spelling"
        elif err["type"] == "missing":
            msg = "required; set it in the stack's config"
        elif err["type"] != "value_error" and "input" in err:
            got = repr(err["input"])
            msg += f" (got {got if len(got) <= 60 else got[:57] + '...'})"
        if err["type"] == "value_error":
            # Our checks name the place below the field (or, cross-field, the whole path) themselves.
            where, msg = join_path(where, msg)
        key = f"{prefix}{where}" if where else prefix.rstrip(":")
        raise SettingsError(f"{source}: {key}: {msg}") from None


def load_settings() -> StackSettings:
    """Read the running program's config (Pulumi CLI or the offline engine) into settings."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return parse_settings(merged, source=f"Pulumi.{pulumi.get_stack()}.yaml")
