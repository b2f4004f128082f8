"""GitOps (CDB_INFRA_POLICY 2.2, 2.3): Flux, installed by the stack, syncing `deploy/<stack>`.

`cdb render --stack <stack> --out deploy/<stack>` writes what the Kustomization syncs. Flux events go
to the JetStream audit stream: the event-bus part publishes its address and audit subject
(`event_bus.url`, `event_bus.audit_subject`); until it does, or when settings name them, those win.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from components import quantity
from components.errors import ComponentArgsError
from components.flux import Flux, FluxArgs, duration, sizing, specs
from components.network import Destination
from components.flux import args as flux_args
from components.zone import Zone, ZoneArgs
from cdb_stack.parts import BuildContext, GitOpsOffer, PlanContext
from cdb_stack.settings_base import Name, Strict

KEY = "gitops"
COMPONENT_NAME = "flux"
DEFAULT_EVENT_BUS_NAMESPACE = "event-bus"
DEFAULT_AUDIT_SUBJECT = "audit.v1.flux"

Interval = Annotated[str, AfterValidator(duration.check_interval)]


class AuditSettings(Strict):
    address: Annotated[str, AfterValidator(flux_args.nats_address)] | None = Field(
        None, description="NATS URL of the audit stream; default: what the event-bus part publishes"
    )
    subject: Annotated[str, AfterValidator(flux_args.publish_subject)] | None = Field(
        None, description="audit subject Flux events are published on; default: the event bus's, else audit.v1.flux"
    )
    secret: Name | None = Field(None, description="Secret with NATS credentials (keys creds or nkey), from the secret manager")


class Settings(Strict):
    namespace: Name = Field("flux-system", description="namespace of the Flux Operator and controllers (its own zone)")
    url: Annotated[str, AfterValidator(flux_args.repository_url)] = Field(
        "https://github.com/cdb/cdb-infra.git", description="Git repository Flux syncs (https:// or ssh://)"
    )
    branch: Annotated[str, AfterValidator(flux_args.branch_name)] = Field("main", description="branch Flux syncs")
    path: Annotated[str, AfterValidator(flux_args.sync_path)] | None = Field(
        None, description="folder of the rendered manifests; default ./deploy/<stack>"
    )
    source_name: Name = Field("cdb-infra", description="name of the GitRepository and the Kustomization")
    git_secret: Name | None = Field(None, description="Secret with the Git credentials, from the secret manager")
    interval: Interval = Field("5m", description="Kustomization interval: apply and correct drift (1m..5m)")
    source_interval: Interval = Field("1m", description="GitRepository interval: fetch new commits (1m..5m)")
    retry_interval: Interval = Field("1m", description="retry after a failed reconcile (1m..5m)")
    timeout: Annotated[str, AfterValidator(duration.check_timeout)] = Field(
        "3m", description="timeout of fetch, apply and health checks; at most the interval"
    )
    # Off by default: on a fresh cluster the workloads wait for Secrets that exist only after Vault's key
    # ceremony and seeding; `wait: true` would hold the Kustomization HealthCheckFailed until then (and
    # for good behind a Job out of retries). Flux's Ready means "applied at this revision"; whether the
    # workloads run is what `cdb postcheck` checks, object by object.
    wait: bool = Field(False, description="health-check every applied object before the sync counts as Ready")
    flux_version: Annotated[str, AfterValidator(flux_args.pinned_version)] = Field(
        "2.9.0", description="Flux version the FluxInstance installs, pinned X.Y.Z"
    )
    operator_version: Annotated[str, AfterValidator(flux_args.pinned_version), AfterValidator(flux_args.vendored_operator)] = Field(
        flux_args.OPERATOR_VERSION, description="Flux Operator version, pinned X.Y.Z (its install.yaml is vendored)"
    )
    registry_networks: list[Annotated[str, AfterValidator(flux_args.egress_network)]] = Field(
        default_factory=lambda: ["0.0.0.0/0"], min_length=1,
        description="networks of the distribution's OCI registry the operator may reach on 443 (0.0.0.0/0: public addresses)",
    )
    registry: Annotated[str, AfterValidator(flux_args.registry_path)] = Field(
        "ghcr.io/fluxcd", description="registry of the Flux controller images"
    )
    components: Annotated[
        list[Literal[specs.KNOWN_COMPONENTS]], AfterValidator(flux_args.required_components)  # type: ignore[valid-type]
    ] = Field(
        default_factory=lambda: list(specs.CORE_COMPONENTS), description="Flux controllers to install"
    )
    cluster_size: Literal["small", "medium", "large"] | None = Field(
        None, description="Flux Operator sizing profile; default small in dev, medium in prod"
    )
    cpu_quota: Annotated[str, AfterValidator(quantity.quantity)] | None = Field(
        None, description="total CPU limit of the Flux namespace's pods; default: the operator and controllers at the size profile, with rollout surge")
    memory_quota: Annotated[str, AfterValidator(quantity.quantity)] | None = Field(
        None, description="total memory limit of the Flux namespace's pods; default: as cpuQuota")
    pod_quota: int | None = Field(None, ge=1, description="maximum pods in the Flux namespace; default: as cpuQuota")
    audit: AuditSettings = Field(default_factory=AuditSettings, description="where Flux events are persisted")

    @model_validator(mode="after")
    def _timeout_fits(self) -> Settings:
        if "h" in self.timeout:
            raise ValueError(f"timeout: {self.timeout!r} must be written in ms, s or m (the GitRepository CRD refuses h)")
        if duration.parse_duration(self.timeout) > duration.parse_duration(self.interval):
            raise ValueError(f"timeout: {self.timeout!r} exceeds interval {self.interval!r}; shorten the timeout")
        return self


@dataclass(frozen=True)
class GitOpsPlan:
    zone: ZoneArgs
    flux: FluxArgs
    audit_address_set: bool
    audit_subject_set: bool


def default_audit_address(namespace: str = DEFAULT_EVENT_BUS_NAMESPACE) -> str:
    return f"nats://nats.{namespace}.svc:4222"


def api_server_destinations(ctx: PlanContext) -> tuple[Destination, ...]:
    """The API server's endpoint addresses and port, from the one `apiServer` setting."""
    return ctx.api_server_egress("gitops")


def plan(settings: Settings, ctx: PlanContext) -> GitOpsPlan:
    if settings.namespace in {z.name for z in ctx.settings.zones}:
        raise ValueError(f"namespace: {settings.namespace!r} is also declared under zones; Flux needs its own namespace")
    size = settings.cluster_size or ("small" if ctx.is_dev else "medium")
    need = sizing.namespace_need(tuple(settings.components), size)
    quota = _quota(settings, need, size)
    zone = ZoneArgs.parse(
        {"provenance": ctx.provenance, "namespace": settings.namespace, "quota": quota},
        owner="zone",
    )
    flux = _parse_args(
        {
            "provenance": ctx.provenance,
            "namespace": settings.namespace,
            "flux_version": settings.flux_version,
            "registry": settings.registry,
            "components": tuple(settings.components),
            "cluster_size": size,
            "operator_version": settings.operator_version,
            "kubernetes_api": api_server_destinations(ctx),
            "registry_networks": tuple(settings.registry_networks),
            "source_name": settings.source_name,
            "url": settings.url,
            "branch": settings.branch,
            "path": settings.path or f"./deploy/{ctx.stack}",
            "git_secret_name": settings.git_secret,
            "source_interval": settings.source_interval,
            "interval": settings.interval,
            "retry_interval": settings.retry_interval,
            "timeout": settings.timeout,
            "wait": settings.wait,
            "audit_address": settings.audit.address or default_audit_address(),
            "audit_subject": settings.audit.subject or DEFAULT_AUDIT_SUBJECT,
            "audit_secret_name": settings.audit.secret,
        }
    )
    return GitOpsPlan(zone, flux, settings.audit.address is not None, settings.audit.subject is not None)


def _quota(settings: Settings, need: sizing.Need, size: str) -> dict[str, str]:
    """The namespace quota: the settings where given, else what the operator and controllers need; a
    setting below that need is refused (the quota would refuse a controller pod on the first rollout)."""
    what = f"the Flux Operator and {len(settings.components)} controllers at the {size!r} profile, with rollout surge"
    checks = (("cpuQuota", settings.cpu_quota, need.cpu, need.cpu_text()),
              ("memoryQuota", settings.memory_quota, need.memory, need.memory_text()),
              ("podQuota", None if settings.pod_quota is None else str(settings.pod_quota), Decimal(need.pods), str(need.pods)))
    for key, value, required, text in checks:
        if value is not None and quantity.parse_quantity(value) < required:
            raise ValueError(f"{key}: {value!r} is below what {what} need ({text}); raise it to at least {text} or remove it")
    return {"limits.cpu": settings.cpu_quota or need.cpu_text(),
            "limits.memory": settings.memory_quota or need.memory_text(),
            "pods": str(settings.pod_quota or need.pods)}


def _final_args(planned: GitOpsPlan, ctx: BuildContext) -> FluxArgs:
    """Settings win; otherwise what the event bus published; otherwise the planned defaults."""
    update: dict[str, Any] = {"alert_namespaces": tuple(sorted(set(ctx.zones) - {planned.flux.namespace}))}
    bus = ctx.published.event_bus
    if not planned.audit_address_set and bus is not None and bus.url:
        update["audit_address"] = bus.url
    if not planned.audit_subject_set and bus is not None and bus.audit_subject:
        update["audit_subject"] = bus.audit_subject
    return _parse_args({**dict(planned.flux), **update})


def _parse_args(data: dict[str, Any]) -> FluxArgs:
    try:
        return FluxArgs.parse(data)
    except ComponentArgsError as exc:
        # Reported by the stack as `cdb-infra:gitops: <field>: <problem>`, without the model's name.
        raise ValueError("; ".join(f"{path}: {text}" for path, text in exc.problems) or str(exc)) from None


def build(planned: GitOpsPlan, ctx: BuildContext) -> dict[str, Any]:
    import pulumi

    zone = Zone(planned.zone.namespace, planned.zone)
    args = _final_args(planned, ctx)  # every zone is known here: gitops is the last part
    ctx.zones[args.namespace] = zone
    flux = Flux(COMPONENT_NAME, args, pulumi.ResourceOptions(depends_on=[zone]))
    ctx.published.gitops = GitOpsOffer(namespace=flux.namespace_name)
    return {"gitopsNamespace": args.namespace, "gitopsPath": args.path, "gitopsAuditSubject": args.audit_subject}
