"""Configuration files of the observability workloads, as pure functions of the wiring (tested directly).

Wiring: applications send OTLP (metrics, logs, traces) to the Collector; the Collector exposes metrics
(and RED metrics derived from spans by the spanmetrics connector) for Prometheus to scrape, and pushes
logs to Loki's native OTLP endpoint (`/otlp`, Loki 3). Prometheus scrapes itself, the Collector, Loki,
Grafana and every published target (services, object store, NATS). Grafana's datasources are
provisioned from a ConfigMap (the standard provisioning file, apiVersion 1).
"""

from typing import Any

import yaml

from components.observability.common import ScrapeTarget

PROMETHEUS_PORT = 9090
LOKI_PORT = 3100
LOKI_GRPC_PORT = 9095
GRAFANA_PORT = 3000
OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318
COLLECTOR_METRICS_PORT = 8889
COLLECTOR_HEALTH_PORT = 13133


# libyaml's emitter writes the same text as yaml.safe_dump (held equal by
# tests/components/test_observability_configs.py) four times faster: Prometheus's file holds one job per
# scraped service, a large string to emit on every preview of a large stack.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_DUMPER, sort_keys=False)


# In-cluster credentials of Prometheus's ServiceAccount (kubernetes_sd and the API server proxy use them).
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# The API server as pods reach it: the Service name. The CNI translates it to the endpoint addresses,
# which is what the NetworkPolicy admits (the `apiServer` setting), never the ClusterIP.
API_SERVER = "kubernetes.default.svc:443"


def _selector(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _target_job(t: ScrapeTarget) -> dict[str, Any]:
    """One job per target: every pod (or ready endpoint) on its own, kept only on the metrics port."""
    role = "endpointslice" if t.service else "pod"
    sd: dict[str, Any] = {"role": role, "namespaces": {"names": [t.namespace]},
                          "selectors": [{"role": "pod", "label": _selector(t.pod_labels)}] if role == "pod" else
                          [{"role": "service", "field": f"metadata.name={t.service}"}]}
    port_label = "__meta_kubernetes_pod_container_port_number" if role == "pod" else "__meta_kubernetes_endpointslice_port"
    relabel: list[dict[str, Any]] = [
        {"source_labels": [port_label], "regex": str(t.port), "action": "keep"},
        {"source_labels": ["__meta_kubernetes_pod_phase"], "regex": "Pending|Succeeded|Failed", "action": "drop"},
        {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
        {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
    ]
    job: dict[str, Any] = {"job_name": t.job, "metrics_path": t.path, "scheme": t.scheme}
    if t.params:
        job["params"] = {k: list(v) for k, v in t.params.items()}
    return {**job, "kubernetes_sd_configs": [sd], "relabel_configs": relabel}


def _node_job(name: str, path: str) -> dict[str, Any]:
    """Kubelet metrics through the API server's node proxy: one target per node, reached on the one
    address Prometheus may already talk to (no egress to every node's port 10250)."""
    return {
        "job_name": name, "scheme": "https",
        "authorization": {"credentials_file": f"{SA_DIR}/token"},
        "tls_config": {"ca_file": f"{SA_DIR}/ca.crt"},
        "kubernetes_sd_configs": [{"role": "node"}],
        "relabel_configs": [
            {"action": "labelmap", "regex": "__meta_kubernetes_node_label_(.+)"},
            {"target_label": "__address__", "replacement": API_SERVER},
            {"source_labels": ["__meta_kubernetes_node_name"], "regex": "(.+)", "target_label": "__metrics_path__",
             "replacement": f"/api/v1/nodes/${{1}}/proxy{path}"},
        ],
    }


def prometheus_config(targets: list[ScrapeTarget], scrape_interval: str = "30s", nodes: bool = True) -> str:
    """Itself, every target by Kubernetes service discovery, and (with `nodes`) kubelet and cAdvisor."""
    jobs: list[dict[str, Any]] = [{"job_name": "prometheus", "static_configs": [{"targets": [f"localhost:{PROMETHEUS_PORT}"]}]}]
    jobs += [_target_job(t) for t in targets]
    if nodes:
        jobs += [_node_job("kubelet", "/metrics"), _node_job("cadvisor", "/metrics/cadvisor")]
    return _dump({"global": {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval},
                  "scrape_configs": jobs})


def loki_config(retention_period: str = "744h") -> str:
    """Monolithic Loki on its own filesystem volume, TSDB index, OTLP ingestion, retention enforced."""
    return _dump({
        "auth_enabled": False,
        "server": {"http_listen_port": LOKI_PORT, "grpc_listen_port": LOKI_GRPC_PORT},
        "common": {"path_prefix": "/var/loki", "replication_factor": 1, "ring": {"kvstore": {"store": "inmemory"}},
                   "storage": {"filesystem": {"chunks_directory": "/var/loki/chunks", "rules_directory": "/var/loki/rules"}}},
        "schema_config": {"configs": [{"from": "2024-01-01", "store": "tsdb", "object_store": "filesystem",
                                       "schema": "v13", "index": {"prefix": "index_", "period": "24h"}}]},
        "limits_config": {"retention_period": retention_period, "allow_structured_metadata": True},
        "compactor": {"working_directory": "/var/loki/compactor", "retention_enabled": True,
                      "delete_request_store": "filesystem"},
        "analytics": {"reporting_enabled": False},
    })


def grafana_datasources(prometheus_url: str, loki_url: str) -> str:
    return _dump({"apiVersion": 1, "datasources": [
        {"name": "Prometheus", "type": "prometheus", "uid": "prometheus", "url": prometheus_url, "access": "proxy",
         "isDefault": True, "editable": False},
        {"name": "Loki", "type": "loki", "uid": "loki", "url": loki_url, "access": "proxy", "editable": False},
    ]})


def collector_config(loki_otlp_url: str) -> str:
    """OTLP in; metrics out for scraping, traces turned into span metrics, logs to Loki."""
    batch = ["memory_limiter", "batch"]
    return _dump({
        "extensions": {"health_check": {"endpoint": f"0.0.0.0:{COLLECTOR_HEALTH_PORT}"}},
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"0.0.0.0:{OTLP_GRPC_PORT}"},
                                             "http": {"endpoint": f"0.0.0.0:{OTLP_HTTP_PORT}"}}}},
        "processors": {"memory_limiter": {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 20},
                       "batch": {}},
        "connectors": {"spanmetrics": {}},
        "exporters": {"prometheus": {"endpoint": f"0.0.0.0:{COLLECTOR_METRICS_PORT}",
                                     "resource_to_telemetry_conversion": {"enabled": True}},
                      "otlphttp/loki": {"endpoint": loki_otlp_url}},
        "service": {
            "extensions": ["health_check"],
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": batch, "exporters": ["spanmetrics"]},
                "metrics": {"receivers": ["otlp", "spanmetrics"], "processors": batch, "exporters": ["prometheus"]},
                "logs": {"receivers": ["otlp"], "processors": batch, "exporters": ["otlphttp/loki"]},
            },
        },
    })
