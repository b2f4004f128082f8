"""Observability: Prometheus, Loki, Grafana and an OpenTelemetry Collector, wired together in one zone.

Prometheus and Loki keep claims and are declared platform state (metrics-store, log-store); Grafana and
the Collector are stateless. Each workload has probes (stack.md §5/§6), requests/limits, the restricted
security context, a PDB and a NetworkPolicy naming its exact peers. For every scrape target and every
zone that sends telemetry, the component also opens that one path in the other namespace, so the
zones' default-deny stays in force for everything else (no broad selectors anywhere).
"""

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, model_validator

from components import conventions, platform
from components.intent import Intent
from components.kube import child_opts, metadata
from components.network import Peer
from components.observability import configs
from components.observability.common import ScrapeTarget, Spec, WorkloadSettings, build, egress_rule, ingress_rule, selector_of
from components.provenance import Provenance
from components.types import Probe

OBSERVABILITY_TYPE = "cdb:index:Observability"
PROMETHEUS, LOKI, GRAFANA, COLLECTOR, NATS_EXPORTER = "prometheus", "loki", "grafana", "otel-collector", "nats-exporter"
NATS_EXPORTER_PORT = 7777
ADMIN_USER_KEY, ADMIN_PASSWORD_KEY = "adminUser", "adminPassword"


class NatsMonitor(Intent):
    """The NATS servers' monitor endpoints: JSON only, so an exporter turns them into Prometheus metrics."""

    namespace: str = Field(description="Namespace of the NATS servers")
    urls: tuple[str, ...] = Field(min_length=1, description="Monitor URLs, e.g. http://nats-0.nats-headless.ns.svc:8222")
    pod_labels: dict[str, str] = Field(min_length=1, description="Labels of the NATS server pods")
    port: int = Field(default=8222, description="Monitor port")
    exporter: WorkloadSettings = Field(description="prometheus-nats-exporter workload (pinned image)")


class ObservabilityArgs(Intent):
    provenance: Provenance = Field(description="Ownership and origin labels/annotations of every object")
    namespace: str = Field(description="The observability zone")
    prometheus: WorkloadSettings = Field(description="Prometheus (needs storage)")
    prometheus_retention: str = Field(default="15d", pattern=r"^\d+[hdwy]$", description="TSDB retention")
    loki: WorkloadSettings = Field(description="Loki, monolithic on its own volume (needs storage, 1 replica)")
    loki_retention: str = Field(default="744h", pattern=r"^\d+h$", description="Log retention")
    grafana: WorkloadSettings = Field(description="Grafana (stateless: everything is provisioned)")
    grafana_admin_secret: str = Field(description=f"Secret with {ADMIN_USER_KEY}/{ADMIN_PASSWORD_KEY}, from the secret operator")
    grafana_ingress_from: tuple[Peer, ...] = Field(default=(), description="Who may open Grafana (e.g. the ingress controller)")
    collector: WorkloadSettings = Field(description="OpenTelemetry Collector (contrib distribution)")
    targets: tuple[ScrapeTarget, ...] = Field(default=(), description="What Prometheus scrapes besides this stack")
    telemetry_zones: tuple[str, ...] = Field(default=(), description="Zones whose pods may send OTLP to the Collector")
    nats: NatsMonitor | None = Field(default=None, description="NATS monitor endpoints to export and scrape")

    @model_validator(mode="after")
    def _stores(self) -> "ObservabilityArgs":
        for store in ("prometheus", "loki"):
            if getattr(self, store).storage is None:
                raise ValueError(f"{store}.storage is required; a store keeps its data on a claim")
        if self.loki.replicas != 1:
            raise ValueError("loki.replicas must be 1: monolithic Loki on a filesystem volume cannot be replicated")
        jobs = [t.job for t in self.targets]
        for job in jobs:
            if jobs.count(job) > 1 or job in (PROMETHEUS, LOKI, GRAFANA, COLLECTOR, NATS_EXPORTER):
                raise ValueError(f"scrape job {job!r} is declared twice; give each target its own job name")
        return self


def _url(name: str, ns: str, port: int) -> str:
    return f"http://{name}.{ns}.svc.cluster.local:{port}"


def _host(name: str, ns: str) -> str:
    return f"{name}-hl.{ns}.svc.cluster.local"


def own_targets(ns: str, nats: bool = False) -> list[ScrapeTarget]:
    made = [(LOKI, configs.LOKI_PORT), (GRAFANA, configs.GRAFANA_PORT), (COLLECTOR, configs.COLLECTOR_METRICS_PORT)]
    made += [(NATS_EXPORTER, NATS_EXPORTER_PORT)] if nats else []
    return [ScrapeTarget(job=n, namespace=ns, host=_host(n, ns), port=p, pod_labels=selector_of(n)) for n, p in made]


def _specs(args: ObservabilityArgs) -> list[Spec]:
    ns = args.namespace
    peer = lambda name: Peer(pod_labels=selector_of(name))  # noqa: E731 (same namespace)
    to = lambda name, *ports: egress_rule(ns, selector_of(name), list(ports))  # noqa: E731
    cfg = lambda n, path: platform.config_volume("config", f"{n}-config", path)  # noqa: E731
    tmp, tmp_mount = platform.scratch("tmp", "/tmp")
    specs: list[Spec] = []

    vol, mount = cfg(PROMETHEUS, "/etc/prometheus")
    scrape = [*own_targets(ns, args.nats is not None), *args.targets]
    specs.append(Spec(
        PROMETHEUS, "metrics-store", {"web": configs.PROMETHEUS_PORT},
        platform.container(PROMETHEUS, args.prometheus.image.ref, {"web": configs.PROMETHEUS_PORT}, args.prometheus.resources,
                           liveness=Probe.http_get("/-/healthy", "web"), readiness=Probe.http_get("/-/ready", "web"),
                           args=["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus",
                                 f"--storage.tsdb.retention.time={args.prometheus_retention}"],
                           mounts=[mount, {"name": "data", "mountPath": "/prometheus"}]),
        [vol], args.prometheus, [ingress_rule([peer(GRAFANA)], [configs.PROMETHEUS_PORT])],
        [egress_rule(t.namespace, t.pod_labels, [t.port]) for t in scrape], store="metrics-store",
        config={"prometheus.yml": configs.prometheus_config(scrape)}))

    vol, mount = cfg(LOKI, "/etc/loki")
    loki_ports = {"http-metrics": configs.LOKI_PORT, "grpc": configs.LOKI_GRPC_PORT}
    specs.append(Spec(
        LOKI, "log-store", loki_ports,
        platform.container(LOKI, args.loki.image.ref, loki_ports, args.loki.resources,
                           liveness=Probe.tcp("http-metrics"), readiness=Probe.http_get("/ready", "http-metrics"),
                           startup=Probe.tcp("http-metrics", failure_threshold=30),
                           args=["-config.file=/etc/loki/loki.yaml", "-target=all"],
                           mounts=[mount, {"name": "data", "mountPath": "/var/loki"}, tmp_mount]),
        [vol, tmp], args.loki,
        [ingress_rule([peer(COLLECTOR), peer(GRAFANA), peer(PROMETHEUS)], [configs.LOKI_PORT])], [],
        store="log-store", config={"loki.yaml": configs.loki_config(args.loki_retention)}))

    vol, mount = cfg(GRAFANA, "/etc/grafana/provisioning/datasources")
    data, data_mount = platform.scratch("data", "/var/lib/grafana", "256Mi")
    secret = lambda env, key: {"name": env, "valueFrom": {"secretKeyRef": {"name": args.grafana_admin_secret, "key": key}}}  # noqa: E731
    specs.append(Spec(
        GRAFANA, "dashboards", {"grafana": configs.GRAFANA_PORT},
        platform.container(GRAFANA, args.grafana.image.ref, {"grafana": configs.GRAFANA_PORT}, args.grafana.resources,
                           liveness=Probe.http_get("/api/health", "grafana"), readiness=Probe.http_get("/api/health", "grafana"),
                           env=[secret("GF_SECURITY_ADMIN_USER", ADMIN_USER_KEY), secret("GF_SECURITY_ADMIN_PASSWORD", ADMIN_PASSWORD_KEY),
                                {"name": "GF_PATHS_DATA", "value": "/var/lib/grafana"},
                                {"name": "GF_ANALYTICS_REPORTING_ENABLED", "value": "false"},
                                {"name": "GF_ANALYTICS_CHECK_FOR_UPDATES", "value": "false"}],
                           mounts=[mount, data_mount, tmp_mount]),
        [vol, data, tmp], args.grafana,
        [ingress_rule([peer(PROMETHEUS), *args.grafana_ingress_from], [configs.GRAFANA_PORT])],
        [to(PROMETHEUS, configs.PROMETHEUS_PORT), to(LOKI, configs.LOKI_PORT)],
        config={"datasources.yaml": configs.grafana_datasources(_url(PROMETHEUS, ns, configs.PROMETHEUS_PORT),
                                                                _url(LOKI, ns, configs.LOKI_PORT))}))

    vol, mount = cfg(COLLECTOR, "/etc/otelcol")
    ports = {"otlp-grpc": configs.OTLP_GRPC_PORT, "otlp-http": configs.OTLP_HTTP_PORT,
             "metrics": configs.COLLECTOR_METRICS_PORT, "health": configs.COLLECTOR_HEALTH_PORT}
    senders = [Peer(namespace=z) for z in args.telemetry_zones]
    specs.append(Spec(
        COLLECTOR, "telemetry-collector", ports,
        platform.container(COLLECTOR, args.collector.image.ref, ports, args.collector.resources,
                           liveness=Probe.http_get("/", "health"), readiness=Probe.http_get("/", "health"),
                           args=["--config=/etc/otelcol/config.yaml"], mounts=[mount]),
        [vol], args.collector,
        ([ingress_rule(senders, [configs.OTLP_GRPC_PORT, configs.OTLP_HTTP_PORT])] if senders else [])
        + [ingress_rule([peer(PROMETHEUS)], [configs.COLLECTOR_METRICS_PORT])],
        [to(LOKI, configs.LOKI_PORT)],
        config={"config.yaml": configs.collector_config(_url(LOKI, ns, configs.LOKI_PORT) + "/otlp")}))
    if args.nats is not None:
        specs.append(_nats_exporter(args.nats))
    return specs


def _nats_exporter(nats: NatsMonitor) -> Spec:
    ports = {"metrics": NATS_EXPORTER_PORT}
    flags = ["-port", str(NATS_EXPORTER_PORT), "-varz", "-connz", "-routez", "-healthz", "-jsz=all"]
    return Spec(
        NATS_EXPORTER, "metrics-exporter", ports,
        platform.container(NATS_EXPORTER, nats.exporter.image.ref, ports, nats.exporter.resources,
                           liveness=Probe.tcp("metrics"), readiness=Probe.http_get("/metrics", "metrics"),
                           args=[*flags, *nats.urls]),
        [], nats.exporter, [ingress_rule([Peer(pod_labels=selector_of(PROMETHEUS))], [NATS_EXPORTER_PORT])],
        [egress_rule(nats.namespace, nats.pod_labels, [nats.port])])


class Observability(pulumi.ComponentResource):
    """The four workloads plus the cross-namespace paths for scraping and OTLP."""

    def __init__(self, name: str, args: ObservabilityArgs | dict[str, Any], opts: pulumi.ResourceOptions | None = None):
        args = ObservabilityArgs.parse(args, owner=f"Observability {name!r}")
        super().__init__(OBSERVABILITY_TYPE, name, args.to_plain(), opts)
        ns, prov = args.namespace, args.provenance
        self.workloads = {spec.name: build(self, spec, ns, prov) for spec in _specs(args)}
        prometheus = {"namespaceSelector": {"matchLabels": {conventions.LABEL_NAMESPACE_NAME: ns}},
                      "podSelector": {"matchLabels": selector_of(PROMETHEUS)}}
        for t in args.targets:  # the target's side of each scrape path
            labels = prov.labels(name=PROMETHEUS, instance=name, component="metrics-scrape")
            k8s.networking.v1.NetworkPolicy(
                f"{name}-scrape-{t.job}", metadata=metadata(f"allow-scrape-{t.job}", t.namespace, labels, prov.annotations()),
                spec={"podSelector": {"matchLabels": dict(t.pod_labels)}, "policyTypes": ["Ingress"],
                      "ingress": [ingress_rule([prometheus], [t.port])]}, opts=child_opts(self))
        if args.nats is not None:  # the NATS side of the exporter's path to the monitor port
            nats = args.nats
            exporter = {"namespaceSelector": {"matchLabels": {conventions.LABEL_NAMESPACE_NAME: ns}},
                        "podSelector": {"matchLabels": selector_of(NATS_EXPORTER)}}
            k8s.networking.v1.NetworkPolicy(
                f"{name}-nats-monitor", metadata=metadata("allow-nats-exporter", nats.namespace,
                                                          prov.labels(name=NATS_EXPORTER, instance=name, component="metrics-scrape"),
                                                          prov.annotations()),
                spec={"podSelector": {"matchLabels": dict(nats.pod_labels)}, "policyTypes": ["Ingress"],
                      "ingress": [ingress_rule([exporter], [nats.port])]}, opts=child_opts(self))
        collector = selector_of(COLLECTOR)
        for zone in args.telemetry_zones:  # the sender's side of each OTLP path
            labels = prov.labels(name=COLLECTOR, instance=name, component="telemetry-egress")
            k8s.networking.v1.NetworkPolicy(
                f"{name}-otlp-{zone}", metadata=metadata("allow-otlp-egress", zone, labels, prov.annotations()),
                spec={"podSelector": {}, "policyTypes": ["Egress"],
                      "egress": [egress_rule(ns, collector, [configs.OTLP_GRPC_PORT, configs.OTLP_HTTP_PORT])]},
                opts=child_opts(self))
        self.otlp_grpc = f"http://{COLLECTOR}.{ns}.svc.cluster.local:{configs.OTLP_GRPC_PORT}"
        self.otlp_http = _url(COLLECTOR, ns, configs.OTLP_HTTP_PORT)
        self.loki_url = _url(LOKI, ns, configs.LOKI_PORT)
        self.prometheus_url = _url(PROMETHEUS, ns, configs.PROMETHEUS_PORT)
        self.register_outputs({"otlpGrpc": self.otlp_grpc, "lokiUrl": self.loki_url, "prometheusUrl": self.prometheus_url})
