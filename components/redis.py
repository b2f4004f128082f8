"""RedisTransport: Redis as a transitional transport only (CDB_INFRA_POLICY clause 4).

Redis may carry events while the stack migrates to JetStream, never keep them: no volume of any kind,
no RDB snapshots, no AOF (`--save '' --appendonly no` on the command line, so no config file and no
volume is needed), never an audit or storage sink. The component refuses the `jetstream` phase (Redis
is then gone) and, for `redis-only`, a missing or past sunset date or a missing documentation link.
Objects: ServiceAccount, Deployment (one pod, Recreate: two transports would split the traffic),
ClusterIP Service, PodDisruptionBudget, NetworkPolicy.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import AfterValidator, Field, model_validator

from components import conventions, defaults, names, quantity
from components.config import EnvVar
from components.intent import Intent
from components.kube import check_name, child_opts, metadata
from components.network import Peer, client_egress_policies
from components.provenance import Provenance
from components.service_args import service_name
from components.types import Image, Probe, Resources
from components.base import Component, require_args

REDIS_TRANSPORT_TYPE = "cdb:index:RedisTransport"
REDIS_PORT = 6379
ROLE = "transport"
# Marks on every Redis object, so a policy can find transitional transports and their sunset.
LABEL_TRANSIENT = "cdb-infra.io/transient"
ANNOTATION_PHASE = "cdb-infra.io/migration-phase"
ANNOTATION_SUNSET = "cdb-infra.io/sunset"
ANNOTATION_DOCS = "cdb-infra.io/migration-doc"
PHASES = ("redis-only", "dual-write", "jetstream")
PASSWORD_ENV = "REDIS_PASSWORD"


def phase_problem(phase: str, sunset: date | None, documentation: str | None, today: date) -> str | None:
    """Why Redis may not run in this migration phase, or None when it may."""
    if phase == "jetstream":
        return "migration phase 'jetstream' has no Redis; remove the Redis transport (or go back to 'dual-write')"
    if phase != "redis-only":
        return None
    if sunset is None:
        return "sunset: redis-only needs a sunset date (YYYY-MM-DD) after which Redis is switched off; set it"
    if sunset <= today:
        return f"sunset: {sunset.isoformat()} is not in the future; move to dual-write or set a later, documented date"
    if not documentation or not documentation.startswith("https://"):
        return "documentation: redis-only needs an https link to the migration plan; set it"
    return None


def _resources() -> Resources:
    return Resources(cpu_request="100m", memory_request="128Mi", cpu_limit="500m", memory_limit="256Mi")


class RedisTransportArgs(Intent):
    """Arguments of a RedisTransport."""

    provenance: Provenance = Field(description="Ownership and origin labels/annotations of every object")
    namespace: Annotated[str, AfterValidator(names.dns_label)] = Field(description="Namespace to deploy into")
    image: Image = Field(description="Pinned Redis image, e.g. 'docker.io/library/redis:7.4.2-alpine'")
    phase: Literal["redis-only", "dual-write", "jetstream"] = Field(description="The stack's migration phase")
    sunset: date | None = Field(default=None, description="Date Redis is switched off (required for redis-only)")
    documentation: str | None = Field(default=None, description="https link to the migration plan (required for redis-only)")
    resources: Resources = Field(default_factory=_resources, description="Requests and limits of the container")
    client_from: tuple[Peer, ...] = Field(min_length=1, description="Who may connect on 6379 (the producers and the bridge)")
    password_secret: tuple[str, str] | None = Field(
        default=None, description="(Secret name, key) of the Redis password, delivered by the secret operator"
    )
    today: date = Field(default_factory=date.today, description="Reference date for the sunset check (tests pin it)")

    @model_validator(mode="after")
    def _phase_allows_redis(self) -> RedisTransportArgs:
        problem = phase_problem(self.phase, self.sunset, self.documentation, self.today)
        if problem:
            raise ValueError(problem)
        return self

    def to_plain(self, exclude: set[str] | None = None) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True, exclude=exclude)

    def server_args(self) -> list[str]:
        """redis-server flags: transport only, bounded memory, refuse writes instead of evicting events."""
        max_memory = int(quantity.parse_quantity(str(self.resources.memory_limit))) * 3 // 4
        flags = ["--port", str(REDIS_PORT), "--save", "", "--appendonly", "no",
                 "--maxmemory", str(max_memory), "--maxmemory-policy", "noeviction"]  # fmt: skip
        if self.password_secret is None:
            # Without a password Redis's protected mode refuses every remote client; the NetworkPolicy guards it.
            return flags + ["--protected-mode", "no"]
        return flags + ["--requirepass", f"$({PASSWORD_ENV})"]


def container(args: RedisTransportArgs) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "redis",
        "image": args.image.to_k8s(),
        "imagePullPolicy": defaults.IMAGE_PULL_POLICY,
        "command": ["redis-server"],
        "args": args.server_args(),
        "ports": [{"name": "redis", "containerPort": REDIS_PORT, "protocol": "TCP"}],
        "resources": args.resources.to_k8s(),
        # Redis has no HTTP endpoint: alive when it accepts connections, ready when it answers PING.
        "livenessProbe": Probe.tcp("redis").to_k8s(),
        "readinessProbe": Probe.exec_(["redis-cli", "-p", str(REDIS_PORT), "ping"]).to_k8s(),
        "securityContext": defaults.container_security_context(),
    }
    if args.password_secret is not None:
        secret, key = args.password_secret
        spec["env"] = [EnvVar.from_secret(PASSWORD_ENV, secret, key).to_k8s()]
    return spec


def network_policy_spec(args: RedisTransportArgs, selector: dict[str, str]) -> dict[str, Any]:
    """Clients on 6379 from the named peers only; no egress beyond DNS (a transport calls no one)."""
    return {
        "podSelector": {"matchLabels": dict(selector)},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [p.to_k8s() for p in args.client_from], "ports": [{"protocol": "TCP", "port": REDIS_PORT}]}],
        "egress": [defaults.dns_egress_rule()],
    }


class RedisTransport(Component):
    """A single, volume-less Redis pod used as a transitional event transport."""

    TYPE = REDIS_TRANSPORT_TYPE

    host: str

    def __init__(self, name: str, args: RedisTransportArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        owner = f"RedisTransport {name!r}"
        args = require_args(RedisTransportArgs, args, owner=owner)
        check_name(owner, "name", name, service_name)
        super().__init__(name, args.to_plain(exclude={"today"}), opts)
        ns = args.namespace
        labels = {**args.provenance.labels(name, name, ROLE, conventions.WORKLOAD_CLASS_SERVICE), LABEL_TRANSIENT: "true"}
        marks: dict[str, str] = {ANNOTATION_PHASE: args.phase}
        marks.update({ANNOTATION_SUNSET: args.sunset.isoformat()} if args.sunset else {})
        marks.update({ANNOTATION_DOCS: args.documentation} if args.documentation else {})
        annotations = {**args.provenance.annotations(), **marks}
        selector = {conventions.LABEL_NAME: name, conventions.LABEL_INSTANCE: name}

        def meta() -> dict[str, Any]:
            return metadata(name, ns, labels, annotations)

        sa = k8s.core.v1.ServiceAccount(f"{name}-sa", metadata=meta(), automount_service_account_token=False, opts=child_opts(self))
        pod_spec = {
            "serviceAccountName": name,
            "automountServiceAccountToken": False,
            "enableServiceLinks": defaults.ENABLE_SERVICE_LINKS,
            "securityContext": defaults.pod_security_context(),
            "terminationGracePeriodSeconds": defaults.TERMINATION_GRACE_PERIOD_SECONDS,
            "containers": [container(args)],
        }
        self.deployment = k8s.apps.v1.Deployment(
            name,
            metadata=meta(),
            spec={
                "replicas": 1,
                "revisionHistoryLimit": defaults.REVISION_HISTORY_LIMIT,
                "selector": {"matchLabels": dict(selector)},
                "strategy": {"type": "Recreate"},
                "template": {"metadata": {"labels": dict(labels), "annotations": marks}, "spec": pod_spec},
            },
            opts=child_opts(self, sa),
        )
        k8s.core.v1.Service(
            f"{name}-svc", metadata=meta(), opts=child_opts(self),
            spec={"type": "ClusterIP", "selector": dict(selector),
                  "ports": [{"name": "redis", "port": REDIS_PORT, "targetPort": "redis", "protocol": "TCP"}]},
        )  # fmt: skip
        k8s.policy.v1.PodDisruptionBudget(f"{name}-pdb", metadata=meta(), spec=defaults.pdb_spec(1, selector), opts=child_opts(self))
        k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol", metadata=meta(), spec=network_policy_spec(args, selector), opts=child_opts(self)
        )
        for zone, spec in client_egress_policies(args.client_from, ns, selector, (REDIS_PORT,)):
            k8s.networking.v1.NetworkPolicy(
                f"{name}-client-egress-{zone}", metadata=metadata(f"allow-{name}-client-egress", zone, labels, annotations),
                spec=spec, opts=child_opts(self),
            )  # fmt: skip
        self.host = f"{name}.{ns}.svc.cluster.local"
        self.register_outputs({"host": self.host, "port": REDIS_PORT, "phase": args.phase})
