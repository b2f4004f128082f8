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


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def prometheus_config(targets: list[ScrapeTarget], scrape_interval: str = "30s") -> str:
    """One job per target, discovered by DNS A records (a headless Service yields every pod)."""
    jobs: list[dict[str, Any]] = [{"job_name": "prometheus", "static_configs": [{"targets": [f"localhost:{PROMETHEUS_PORT}"]}]}]
    for t in targets:
        jobs.append({
            "job_name": t.job,
            "metrics_path": t.path,
            "dns_sd_configs": [{"names": [t.host], "type": "A", "port": t.port}],
            "relabel_configs": [{"target_label": "namespace", "replacement": t.namespace}],
        })
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
