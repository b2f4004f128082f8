"""The observability part on recorded wire inputs: four workloads, their stores, probes and wiring."""

from __future__ import annotations

import pytest
import yaml

from tests.stack.platform_stack import (
    CONFIG_MAP, DEPLOYMENT, NETPOL, STATE_CLASS, STATE_KIND, STS, VSS, one, pod, refusal, run_stack,
)

NS = "observability"
PROBES = {
    (STS, "prometheus"): ("/-/healthy", "/-/ready"),
    (STS, "loki"): (None, "/ready"),
    (DEPLOYMENT, "grafana"): ("/api/health", "/api/health"),
    (DEPLOYMENT, "otel-collector"): ("/", "/"),
}


def config(stack: str, name: str, key: str) -> dict:
    return yaml.safe_load(one(run_stack(stack), CONFIG_MAP, f"{name}-config")["data"][key])


@pytest.mark.parametrize(("type_", "name"), list(PROBES))
def test_every_workload_has_its_probes_resources_and_a_restricted_context(type_: str, name: str) -> None:
    container = pod(one(run_stack("prod"), type_, name))["containers"][0]
    live, ready = PROBES[(type_, name)]
    if live:
        assert container["livenessProbe"]["httpGet"]["path"] == live
    else:
        assert "tcpSocket" in container["livenessProbe"]
    assert container["readinessProbe"]["httpGet"]["path"] == ready
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert one(run_stack("prod"), NETPOL, f"{name}-netpol")["metadata"]["namespace"] == NS


@pytest.mark.parametrize(("name", "kind"), [("prometheus", "metrics-store"), ("loki", "log-store")])
def test_stores_with_claims_are_declared_platform_state(name: str, kind: str) -> None:
    sts = one(run_stack("prod"), STS, name)
    assert sts["metadata"]["labels"][STATE_CLASS] == "platform-state"
    assert sts["metadata"]["annotations"][STATE_KIND] == kind
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "50Gi"


def test_prod_runs_two_of_each_stateless_part_and_prometheus_while_dev_runs_one() -> None:
    for stack, count in (("dev", 1), ("prod", 2)):
        resources = run_stack(stack)
        assert one(resources, STS, "prometheus")["spec"]["replicas"] == count
        assert one(resources, DEPLOYMENT, "grafana")["spec"]["replicas"] == count
        assert one(resources, DEPLOYMENT, "otel-collector")["spec"]["replicas"] == count


def test_grafana_datasources_are_provisioned_for_prometheus_and_loki() -> None:
    sources = {d["type"]: d for d in config("prod", "grafana", "datasources.yaml")["datasources"]}
    assert sources["prometheus"]["url"] == "http://prometheus.observability.svc.cluster.local:9090"
    assert sources["loki"]["url"] == "http://loki.observability.svc.cluster.local:3100"
    assert sources["prometheus"]["isDefault"] is True


def test_grafana_admin_credentials_are_delivered_from_vault() -> None:
    resources = run_stack("prod")
    env = {e["name"]: e for e in pod(one(resources, DEPLOYMENT, "grafana"))["containers"][0]["env"]}
    assert env["GF_SECURITY_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "grafana-admin"
    assert one(resources, VSS, "observability-grafana-secrets-grafana-admin")["metadata"]["namespace"] == NS


def test_the_collector_receives_all_signals_and_exports_logs_to_loki_and_metrics_to_prometheus() -> None:
    cfg = config("prod", "otel-collector", "config.yaml")
    pipelines = cfg["service"]["pipelines"]
    assert {name: p["receivers"][0] for name, p in pipelines.items()} == {"traces": "otlp", "metrics": "otlp", "logs": "otlp"}
    assert pipelines["logs"]["exporters"] == ["otlphttp/loki"]
    assert cfg["exporters"]["otlphttp/loki"]["endpoint"].endswith(":3100/otlp")
    assert "spanmetrics" in pipelines["traces"]["exporters"] and "prometheus" in pipelines["metrics"]["exporters"]
    assert cfg["service"]["extensions"] == ["health_check"]


def test_prometheus_scrapes_the_services_the_object_store_the_nats_exporter_and_itself() -> None:
    jobs = {j["job_name"]: j for j in config("prod", "prometheus", "prometheus.yml")["scrape_configs"]}
    assert {"prometheus", "loki", "grafana", "otel-collector", "orders-api", "insight-ai", "minio", "nats-exporter"} <= set(jobs)
    assert jobs["minio"]["metrics_path"] == "/minio/v2/metrics/cluster"
    assert jobs["orders-api"]["dns_sd_configs"][0] == {"names": ["orders-api.apps.svc.cluster.local"], "type": "A", "port": 8080}


def test_the_nats_exporter_reads_the_monitor_port_and_the_bus_admits_it() -> None:
    resources = run_stack("prod")
    args = pod(one(resources, DEPLOYMENT, "nats-exporter"))["containers"][0]["args"]
    assert args[-1].endswith(":8222") and "-jsz=all" in args
    admit = one(resources, NETPOL, "observability-nats-monitor")
    assert admit["metadata"]["namespace"] == "event-bus"
    assert admit["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8222}]


def test_scrape_and_telemetry_paths_are_opened_only_towards_named_pods() -> None:
    resources = run_stack("prod")
    target = one(resources, NETPOL, "observability-scrape-orders-api")
    assert target["metadata"]["namespace"] == "apps"
    assert target["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "orders-api"
    otlp = one(resources, NETPOL, "observability-otlp-apps")
    (peer,) = otlp["spec"]["egress"][0]["to"]
    assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": NS}
    assert peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "otel-collector"
    prometheus_egress = one(resources, NETPOL, "prometheus-netpol")["spec"]["egress"]
    assert all(rule["to"] and all(p.get("namespaceSelector", {}).get("matchLabels") for p in rule["to"])
               for rule in prometheus_egress)


@pytest.mark.parametrize(("stack", "overrides", "expected"), [
    ("dev", {"observability": {"loki": {"replicas": 2}}}, "loki.replicas"),
    ("prod", {"observability": {"grafana": {"replicas": 1}}}, "grafana.replicas: prod needs at least 2"),
    ("dev", {"observability": {"zone": "apps"}}, "zone: 'apps' is also declared under zones"),
    ("dev", {"observability": {"prometheus": {"image": "quay.io/prometheus/prometheus"}}}, "has no tag"),
])
def test_unsafe_observability_settings_are_refused(stack: str, overrides: dict, expected: str) -> None:
    assert expected in refusal(stack, **overrides)
