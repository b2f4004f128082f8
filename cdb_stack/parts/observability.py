"""Part `observability`: Prometheus, Loki, Grafana and the OpenTelemetry Collector in their own zone.

Prometheus scrapes every declared service (`/metrics` on its port), the stack's own workloads and what
earlier parts publish in `ctx.published.metrics_targets` (object store, NATS exporter, ...). Every
zone that runs services may send OTLP to the Collector. Grafana's admin credentials are a Secret
delivered from Vault. Later parts (gitops) find Loki and the Collector in `ctx.published`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field

from cdb_stack.parts import BuildContext, ObservabilityOffer, PlanContext, PrometheusPeer
from cdb_stack.settings_base import Compute, Name, Strict, compute
from components import conventions
from components.network import Peer
from components.observability import ObservabilityArgs, ScrapeTarget
from components.observability.component import GRAFANA
from components.vault_config import VaultClient
from components.zone import ZoneArgs

KEY = "observability"
NAME = "observability"
FLUX_METRICS_PORT = 8080  # Flux controllers' and the Flux Operator's `http-prom` / metrics port
VAULT_METRICS_PATH = "/v1/sys/metrics"  # with the listener's unauthenticated_metrics_access


class Workload(Strict):
    image: str | None = Field(None, description="pinned image; the part's default if unset")
    replicas: int | None = Field(None, ge=1, description="pods; default 1 in dev, 2 otherwise (Loki and Grafana: always 1)")
    resources: Compute = Field(default_factory=compute('100m', '256Mi', '1', '1Gi'))
    storage_size: str = Field("50Gi", description="volume size (Prometheus and Loki only)")


class PeerSettings(Strict):
    zone: Name = Field(description="zone of the pods")
    pod_labels: dict[str, str] = Field(default_factory=dict, description="labels of the pods; empty = the whole zone")


IMAGES = {
    "prometheus": "quay.io/prometheus/prometheus:v3.5.0",
    "loki": "docker.io/grafana/loki:3.7.6",
    "grafana": "docker.io/grafana/grafana:13.2.0",
    "collector": "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-contrib:0.158.0",
}


class Settings(Strict):
    enabled: bool = Field(True, description="build the observability stack")
    zone: Name = Field("observability", description="namespace of the observability stack (a zone of its own)")
    prometheus: Workload = Field(default_factory=Workload)
    prometheus_retention: str = Field("15d", description="Prometheus TSDB retention")
    loki: Workload = Field(default_factory=Workload)
    loki_retention: str = Field("744h", description="Loki retention (hours)")
    grafana: Workload = Field(default_factory=Workload)
    collector: Workload = Field(default_factory=Workload)
    storage_class: str | None = Field(None, description="StorageClass of the stores' volumes")
    grafana_admin_secret: Name = Field("grafana-admin", description="Secret (from Vault) with adminUser/adminPassword")
    grafana_ingress_from: list[PeerSettings] = Field(default_factory=list, description="who may open Grafana")
    scrape_services: bool = Field(True, description="scrape every declared service's /metrics")


@dataclass(frozen=True)
class ObservabilityPlan:
    zone: ZoneArgs
    args: ObservabilityArgs
    grafana_client: VaultClient


def _workload(w: Workload, kind: str, replicas: int, storage_class: str | None, store: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"image": w.image or IMAGES[kind], "replicas": replicas, "resources": w.resources.model_dump()}
    if store:
        out["storage"] = {"name": "data", "mount_path": "/data", "size": w.storage_size, "storage_class": storage_class}
    return out


def service_targets(ctx: PlanContext) -> list[ScrapeTarget]:
    """Each service's ready endpoints (EndpointSlices of its Service), one target per pod."""
    return [ScrapeTarget(job=s.name, namespace=s.zone, port=s.port, service=s.name,
                         pod_labels={conventions.LABEL_NAME: s.name, conventions.LABEL_INSTANCE: s.name})
            for s in ctx.settings.services]


def platform_targets(ctx: PlanContext) -> list[ScrapeTarget]:
    """Vault (its Prometheus endpoint) and Flux (the operator and every controller), pod by pod."""
    secrets, flux_ns = ctx.settings.secrets, ctx.settings.gitops.namespace
    vault = {conventions.LABEL_NAME: "vault", conventions.LABEL_INSTANCE: "vault"}
    # The vault zone owns the one rule admitting Prometheus to its pods (secrets.metricsScrape); when it
    # admits nobody, there is nothing to scrape there.
    vault_job = [ScrapeTarget(job="vault", namespace=secrets.zone, port=8200, path=VAULT_METRICS_PATH, pod_labels=vault,
                              scheme="https" if secrets.tls_secret else "http", params={"format": ["prometheus"]},
                              admitted_by_target=True)] if secrets.metrics_scrape else []
    return [
        *vault_job,
        ScrapeTarget(job="flux-operator", namespace=flux_ns, port=FLUX_METRICS_PORT,
                     pod_labels={conventions.LABEL_NAME: "flux-operator"}),
        ScrapeTarget(job="flux", namespace=flux_ns, port=FLUX_METRICS_PORT, pod_labels={"app.kubernetes.io/part-of": "flux"}),
    ]


def plan(settings: Settings, ctx: PlanContext) -> ObservabilityPlan | None:
    if not settings.enabled:
        return None
    if settings.zone in {z.name for z in ctx.settings.zones}:
        raise ValueError(f"zone: {settings.zone!r} is also declared under zones; observability runs in its own zone")
    ha = 1 if ctx.is_dev else 2
    count = lambda w: w.replicas or ha  # noqa: E731
    if settings.loki.replicas not in (None, 1):
        raise ValueError("loki.replicas: monolithic Loki on a filesystem volume runs 1 replica; remove the setting")
    if settings.grafana.replicas not in (None, 1):
        raise ValueError("grafana.replicas: Grafana runs 1 replica (each would keep its own SQLite database on an "
                         "emptyDir); remove the setting")
    if not ctx.is_dev:
        for name in ("prometheus", "collector"):
            if count(getattr(settings, name)) < 2:
                raise ValueError(f"{name}.replicas: prod needs at least 2 for availability")
    args = ObservabilityArgs.parse({
        "provenance": ctx.provenance, "namespace": settings.zone,
        "prometheus": _workload(settings.prometheus, "prometheus", count(settings.prometheus), settings.storage_class, True),
        "prometheus_retention": settings.prometheus_retention,
        "loki": _workload(settings.loki, "loki", 1, settings.storage_class, True),
        "loki_retention": settings.loki_retention,
        "grafana": _workload(settings.grafana, "grafana", 1, None, False),
        "grafana_admin_secret": settings.grafana_admin_secret,
        "grafana_ingress_from": tuple(Peer(namespace=p.zone, pod_labels=p.pod_labels or None)
                                      for p in settings.grafana_ingress_from),
        "collector": _workload(settings.collector, "collector", count(settings.collector), None, False),
        "targets": (*(service_targets(ctx) if settings.scrape_services else ()), *platform_targets(ctx)),
        "api_server": ctx.api_server_egress("observability (Prometheus)"),
        "telemetry_zones": tuple(sorted({s.zone for s in ctx.settings.services})),
    }, owner="Observability")
    zone = ZoneArgs.parse({"provenance": ctx.provenance, "namespace": settings.zone,
                           "quota": {"persistentvolumeclaims": str(args.prometheus.replicas + 1)}})
    client = VaultClient(name=GRAFANA, namespace=settings.zone, service_account=GRAFANA,
                         secrets=(settings.grafana_admin_secret,))
    return ObservabilityPlan(zone, args, client)


def build(planned: ObservabilityPlan | None, ctx: BuildContext) -> dict[str, Any]:
    if planned is None:
        return {}
    import pulumi

    from components.observability import Observability
    from components.zone import Zone

    zone = Zone(planned.zone.namespace, planned.zone)
    ctx.zones[planned.zone.namespace] = zone
    if ctx.published.secrets is None:  # fail closed: Grafana's credentials must come from the secret manager
        raise ValueError("observability needs the secrets part (it delivers Grafana's credentials)")
    delivery = ctx.published.secrets.deliver(planned.grafana_client, "Deployment", [zone])
    args = ObservabilityArgs.parse({**dict(planned.args), "targets": (*planned.args.targets, *ctx.published.metrics_targets)})
    obs = Observability(NAME, args, ctx.flux_owned(pulumi.ResourceOptions(depends_on=[zone, delivery])))
    ctx.published.observability = ObservabilityOffer(
        namespace=args.namespace, loki_url=obs.loki_url, otlp_grpc=obs.otlp_grpc, otlp_http=obs.otlp_http,
        prometheus_peer=PrometheusPeer(namespace=args.namespace,
                                       pod_labels={conventions.LABEL_NAME: "prometheus", conventions.LABEL_INSTANCE: "prometheus"}),
    )
    return {"lokiUrl": obs.loki_url, "otlpEndpoint": obs.otlp_grpc, "prometheusUrl": obs.prometheus_url}
