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
from components.network import Destination, Peer
from components.observability import configs
from components.observability.common import ScrapeTarget, Spec, WorkloadSettings, build, egress_rule, ingress_rule, selector_of
from components.provenance import Provenance
from components.types import Probe
from components.base import Component, require_args

OBSERVABILITY_TYPE = "cdb:index:Observability"
PROMETHEUS, LOKI, GRAFANA, COLLECTOR = "prometheus", "loki", "grafana", "otel-collector"
# What Prometheus's ServiceAccount may read: kubernetes_sd (pods, endpointslices, services, nodes) and
# the kubelet's metrics through the API server's node proxy. Read verbs only, as upstream's chart grants.
PROMETHEUS_RULES = (
    {"apiGroups": [""], "resources": ["nodes", "nodes/metrics", "services", "endpoints", "pods"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
    {"nonResourceURLs": ["/metrics", "/metrics/cadvisor"], "verbs": ["get"]},
)
ADMIN_USER_KEY, ADMIN_PASSWORD_KEY = "adminUser", "adminPassword"


class ObservabilityArgs(Intent):
    provenance: Provenance = Field(description="Ownership and origin labels/annotations of every object")
    namespace: str = Field(description="The observability zone")
    prometheus: WorkloadSettings = Field(description="Prometheus (needs storage)")
    prometheus_retention: str = Field(default="15d", pattern=r"^\d+[hdwy]$", description="TSDB retention")
    loki: WorkloadSettings = Field(description="Loki, monolithic on its own volume (needs storage, 1 replica)")
    loki_retention: str = Field(default="744h", pattern=r"^\d+h$", description="Log retention")
    grafana: WorkloadSettings = Field(description="Grafana: one replica (its SQLite database lives on an emptyDir; "
                                                  "everything that matters is provisioned from ConfigMaps)")
    grafana_admin_secret: str = Field(description=f"Secret with {ADMIN_USER_KEY}/{ADMIN_PASSWORD_KEY}, from the secret operator")
    grafana_ingress_from: tuple[Peer, ...] = Field(default=(), description="Who may open Grafana (e.g. the ingress controller)")
    collector: WorkloadSettings = Field(description="OpenTelemetry Collector (contrib distribution)")
    targets: tuple[ScrapeTarget, ...] = Field(default=(), description="What Prometheus scrapes besides this stack")
    telemetry_zones: tuple[str, ...] = Field(default=(), description="Zones whose pods may send OTLP to the Collector")
    api_server: tuple[Destination, ...] = Field(min_length=1, description="Egress to the API server's endpoints "
                                                "(service discovery and the kubelet metrics through its node proxy)")

    @model_validator(mode="after")
    def _stores(self) -> "ObservabilityArgs":
        for store in ("prometheus", "loki"):
            if getattr(self, store).storage is None:
                raise ValueError(f"{store}.storage is required; a store keeps its data on a claim")
        if self.loki.replicas != 1:
            raise ValueError("loki.replicas must be 1: monolithic Loki on a filesystem volume cannot be replicated")
        if self.grafana.replicas != 1:
            # Each replica would keep its own SQLite database (users, sessions, annotations) on its own
            # emptyDir and answer differently per request; a shared database is not part of this stack.
            raise ValueError("grafana.replicas must be 1: replicas would keep separate SQLite databases on emptyDirs")
        jobs = [t.job for t in self.targets]
        for job in jobs:
            if jobs.count(job) > 1 or job in (PROMETHEUS, LOKI, GRAFANA, COLLECTOR, "kubelet", "cadvisor"):
                raise ValueError(f"scrape job {job!r} is declared twice; give each target its own job name")
        return self


def _url(name: str, ns: str, port: int) -> str:
    return f"http://{name}.{ns}.svc.cluster.local:{port}"


def own_targets(ns: str) -> list[ScrapeTarget]:
    made = [(LOKI, configs.LOKI_PORT), (GRAFANA, configs.GRAFANA_PORT), (COLLECTOR, configs.COLLECTOR_METRICS_PORT)]
    return [ScrapeTarget(job=n, namespace=ns, port=p, pod_labels=selector_of(n)) for n, p in made]


def _specs(args: ObservabilityArgs) -> list[Spec]:
    ns = args.namespace

    def peer(name: str) -> Peer:  # same namespace
        return Peer(pod_labels=selector_of(name))

    def to(name: str, *ports: int) -> dict[str, Any]:
        return egress_rule(ns, selector_of(name), list(ports))

    def cfg(n: str, path: str) -> tuple[dict[str, Any], dict[str, Any]]:
        return platform.config_volume("config", f"{n}-config", path)

    tmp, tmp_mount = platform.scratch("tmp", "/tmp")
    specs: list[Spec] = []

    vol, mount = cfg(PROMETHEUS, "/etc/prometheus")
    scrape = [*own_targets(ns), *args.targets]
    specs.append(Spec(
        PROMETHEUS, "metrics-store", {"web": configs.PROMETHEUS_PORT},
        platform.container(PROMETHEUS, args.prometheus.image.ref, {"web": configs.PROMETHEUS_PORT}, args.prometheus.resources,
                           liveness=Probe.http_get("/-/healthy", "web"), readiness=Probe.http_get("/-/ready", "web"),
                           args=["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus",
                                 f"--storage.tsdb.retention.time={args.prometheus_retention}"],
                           mounts=[mount, {"name": "data", "mountPath": "/prometheus"}]),
        [vol], args.prometheus, [ingress_rule([peer(GRAFANA)], [configs.PROMETHEUS_PORT])],
        [*(egress_rule(t.namespace, t.pod_labels, [t.port]) for t in scrape), *(d.to_k8s() for d in args.api_server)],
        store="metrics-store", config={"prometheus.yml": configs.prometheus_config(scrape)}, api_access=True))

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
    def secret(env: str, key: str) -> dict[str, Any]:
        return {"name": env, "valueFrom": {"secretKeyRef": {"name": args.grafana_admin_secret, "key": key}}}

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
    return specs


class Observability(Component):
    """The four workloads plus the cross-namespace paths for scraping and OTLP."""

    TYPE = OBSERVABILITY_TYPE

    def __init__(self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None):
        args = require_args(ObservabilityArgs, args, owner=f"Observability {name!r}")
        super().__init__(name, args.to_plain(), opts)
        ns, prov = args.namespace, args.provenance
        self.workloads = {spec.name: build(self, spec, ns, prov) for spec in _specs(args)}
        self._discovery_rbac(name, ns, prov)
        prometheus = {"namespaceSelector": {"matchLabels": {conventions.LABEL_NAMESPACE_NAME: ns}},
                      "podSelector": {"matchLabels": selector_of(PROMETHEUS)}}
        for t in args.targets:  # the target's side of each scrape path, unless the target's owner keeps it
            if t.admitted_by_target:
                continue
            labels = prov.labels(name=PROMETHEUS, instance=name, component="metrics-scrape")
            k8s.networking.v1.NetworkPolicy(
                f"{name}-scrape-{t.job}", metadata=metadata(f"allow-scrape-{t.job}", t.namespace, labels, prov.annotations()),
                spec={"podSelector": {"matchLabels": dict(t.pod_labels)}, "policyTypes": ["Ingress"],
                      "ingress": [ingress_rule([prometheus], [t.port])]}, opts=child_opts(self))
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

    def _discovery_rbac(self, name: str, ns: str, prov: Provenance) -> None:
        """Prometheus's read access for Kubernetes service discovery and the kubelet metrics."""
        object_name = f"{ns}-{PROMETHEUS}"  # cluster-scoped: the namespace keeps two stacks apart
        labels = prov.labels(name=PROMETHEUS, instance=name, component="metrics-discovery")
        meta = {"name": object_name, "labels": labels, "annotations": prov.annotations()}
        role = k8s.rbac.v1.ClusterRole(f"{name}-prometheus-discovery", metadata=meta, rules=list(PROMETHEUS_RULES),
                                       opts=child_opts(self))
        k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-prometheus-discovery-binding", metadata=meta,
            subjects=[{"kind": "ServiceAccount", "name": PROMETHEUS, "namespace": ns}],
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": object_name},
            opts=child_opts(self, role))
