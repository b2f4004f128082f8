"""The Redis part: a transitional transport, present only while the migration phase needs it.

Settings key `cdb-infra:redis`. `migrationPhase` is the stack's phase of the move to JetStream
(CDB_INFRA_POLICY clause 4): `redis-only` (needs a future `sunset` and a `documentation` link),
`dual-write` (Redis and JetStream carry the same events, de-duplicated by Nats-Msg-Id), `jetstream`
(no Redis at all). Redis runs in the event bus's zone unless another namespace is named; it is never
wired as an audit or storage sink: nothing else in the stack is given its address except through
`redis.url`, published for producers only. It also writes the stack declaration ConfigMap
(`cdb-infra.io/stack-declaration`: environment and migration phase) the policy pack reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import Field, model_validator

from components import conventions
from components.network import Peer
from components.redis import REDIS_PORT, RedisTransport, RedisTransportArgs, phase_problem
from components.zone import Zone, ZoneArgs
from cdb_stack.parts import BuildContext, Clients, PlanContext, RedisOffer
from cdb_stack.settings_base import Compute, Name, Strict

KEY = "redis"
REDIS_IMAGE = "docker.io/library/redis:7.4.2-alpine"  # the official image (bitnami's is legacy since 2025-08)


class SecretKey(Strict):
    secret: Name = Field(description="Kubernetes Secret delivered by the secret operator")
    key: str = Field(min_length=1, description="key of the password inside it")


class Settings(Strict):
    migration_phase: Literal["redis-only", "dual-write", "jetstream"] = Field(
        "jetstream", description="redis-only | dual-write | jetstream; Redis exists only in the first two"
    )
    sunset: date | None = Field(None, description="date (YYYY-MM-DD) Redis is switched off; required and future for redis-only")
    documentation: str | None = Field(None, description="https link to the migration plan; required for redis-only")
    name: Name = Field("redis", description="name of the Redis Deployment and Service")
    namespace: Name = Field("event-bus", description="namespace; the event bus's zone by default")
    image: str = Field(REDIS_IMAGE, description="pinned Redis image (version tag, digest optional)")
    resources: Compute = Field(default_factory=Compute)
    client_zones: list[Name] = Field(default_factory=list, description="zones whose pods may connect on 6379")
    password: SecretKey | None = Field(None, description="Secret holding the Redis password (recommended)")

    @model_validator(mode="after")
    def _phase(self) -> Settings:
        if self.migration_phase != "jetstream":
            problem = phase_problem(self.migration_phase, self.sunset, self.documentation, date.today())
            if problem:
                raise ValueError(problem)
            if not self.client_zones:
                raise ValueError(f"clientZones: phase {self.migration_phase} runs Redis; name the zones of its producers")
        return self


@dataclass(frozen=True)
class Planned:
    name: str
    args: RedisTransportArgs | None  # None: the phase needs no Redis
    zone: ZoneArgs | None  # None: the namespace is another part's zone
    declaration: dict[str, str]  # the stack declaration's data (environment and migration phase)
    namespace: str
    provenance: Any


DECLARATION_LABEL = "cdb-infra.io/stack-declaration"  # shared with policy_pack/rules/helpers/conventions.py
DECLARATION_NAME = "stack-declaration"


def declaration_data(settings: Settings, environment: str) -> dict[str, str]:
    """What the policy pack cannot see in any single object: the environment and the migration phase."""
    data = {"environment": environment, "migration-phase": settings.migration_phase}
    if settings.sunset is not None:
        data["redis-sunset"] = settings.sunset.isoformat()
    if settings.documentation:
        data["redis-sunset-docs"] = settings.documentation
    return data


def plan(settings: Settings, ctx: PlanContext) -> Planned:
    declared = declaration_data(settings, ctx.environment)
    api = getattr(ctx.settings, "api_server", None)
    if api is not None:  # the pack's connectivity rule models the API server by these, never the ClusterIP
        declared[conventions.DECLARATION_API_SERVER_ENDPOINTS] = ",".join(api.cidrs())
        declared[conventions.DECLARATION_API_SERVER_PORT] = str(api.port)
    if settings.migration_phase == "jetstream":
        return Planned(settings.name, None, None, declared, settings.namespace, ctx.provenance)
    if settings.namespace in {z.name for z in ctx.settings.zones}:
        raise ValueError(f"namespace: {settings.namespace!r} is a service zone; run the transport in the event bus's zone")
    args = RedisTransportArgs.parse(
        {
            "provenance": ctx.provenance,
            "namespace": settings.namespace,
            "image": settings.image,
            "phase": settings.migration_phase,
            "sunset": settings.sunset,
            "documentation": settings.documentation,
            "resources": settings.resources.to_resources(),
            "client_from": tuple(Peer(namespace=z) for z in settings.client_zones),
            "password_secret": (settings.password.secret, settings.password.key) if settings.password else None,
        },
        owner=f"redis {settings.name!r}",
    )
    zone = ZoneArgs.parse({"provenance": ctx.provenance, "namespace": settings.namespace}, owner=f"redis zone {settings.namespace!r}")
    return Planned(settings.name, args, zone, declared, settings.namespace, ctx.provenance)


def build(planned: Planned, ctx: BuildContext) -> dict[str, Any]:
    import pulumi

    declare(planned, ctx)
    if planned.args is None:
        return {"redisPresent": False}
    zone = ctx.zones.get(planned.args.namespace)
    if zone is None and planned.zone is not None:
        zone = Zone(planned.zone.namespace, planned.zone)
        ctx.zones[planned.zone.namespace] = zone
    redis = RedisTransport(planned.name, planned.args, ctx.flux_owned(pulumi.ResourceOptions(depends_on=[zone] if zone else None)))
    clients = Clients.of(planned.args.client_from, [{"service": f"{planned.args.namespace}/{planned.name}",
                                                     "port": REDIS_PORT, "purpose": "send events over the Redis transport"}])
    ctx.published.redis = RedisOffer(url=f"redis://{redis.host}:{REDIS_PORT}/0", clients=clients)
    return {"redisPresent": True, "redisPhase": planned.args.phase}


def declare(planned: Planned, ctx: BuildContext) -> None:
    """The stack declaration ConfigMap (one per stack), beside the event bus."""
    import pulumi
    import pulumi_kubernetes as k8s

    zone = ctx.zones.get(planned.namespace)
    labels = {**planned.provenance.labels(DECLARATION_NAME, DECLARATION_NAME, "stack-declaration"), DECLARATION_LABEL: "true"}
    k8s.core.v1.ConfigMap(
        DECLARATION_NAME,
        metadata={"name": DECLARATION_NAME, "namespace": planned.namespace, "labels": labels,
                  "annotations": planned.provenance.annotations()},
        data=dict(planned.declaration),
        opts=pulumi.ResourceOptions(depends_on=[zone] if zone else None),
    )  # fmt: skip
