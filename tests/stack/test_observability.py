"""The observability part on recorded wire inputs: four workloads, their stores, probes and wiring."""

from __future__ import annotations

import pytest
import yaml

from tests.stack.platform_stack import (
    CONFIG_MAP, DEPLOYMENT, NETPOL, STATE_CLASS, STATE_KIND, STS, VSS, one, pod, refusal, run_stack, stack_config,
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


def test_prod_runs_two_prometheus_and_collectors_while_dev_runs_one_and_grafana_always_one() -> None:
    for stack, count in (("dev", 1), ("prod", 2)):
        resources = run_stack(stack)
        assert one(resources, STS, "prometheus")["spec"]["replicas"] == count
        assert one(resources, DEPLOYMENT, "otel-collector")["spec"]["replicas"] == count
        # Two Grafana replicas would keep two SQLite databases on two emptyDirs (users, sessions differ per pod).
        assert one(resources, DEPLOYMENT, "grafana")["spec"]["replicas"] == 1


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


def test_prometheus_discovers_every_pod_of_the_services_the_stores_nats_vault_flux_and_the_nodes() -> None:
    jobs = {j["job_name"]: j for j in config("prod", "prometheus", "prometheus.yml")["scrape_configs"]}
    assert {"prometheus", "loki", "grafana", "otel-collector", "orders-api", "insight-ai", "minio", "nats",
            "vault", "flux", "flux-operator", "kubelet", "cadvisor"} <= set(jobs)
    assert not any("dns_sd_configs" in job or "static_configs" in job for name, job in jobs.items() if name != "prometheus")
    assert jobs["minio"]["metrics_path"] == "/minio/v2/metrics/cluster"
    # A service: the ready endpoints of its EndpointSlices, one target per pod, never the ClusterIP.
    (orders,) = jobs["orders-api"]["kubernetes_sd_configs"]
    assert orders["role"] == "endpointslice" and orders["namespaces"] == {"names": ["apps"]}
    assert orders["selectors"] == [{"role": "service", "field": "metadata.name=orders-api"}]
    # NATS: every server's exporter sidecar, pod by pod.
    (nats,) = jobs["nats"]["kubernetes_sd_configs"]
    assert nats["role"] == "pod" and nats["namespaces"] == {"names": ["event-bus"]}
    keep = jobs["nats"]["relabel_configs"][0]
    assert keep == {"source_labels": ["__meta_kubernetes_pod_container_port_number"], "regex": "7777", "action": "keep"}
    assert jobs["vault"]["metrics_path"] == "/v1/sys/metrics" and jobs["vault"]["params"] == {"format": ["prometheus"]}
    assert jobs["cadvisor"]["kubernetes_sd_configs"] == [{"role": "node"}]
    assert jobs["cadvisor"]["relabel_configs"][-1]["replacement"] == "/api/v1/nodes/${1}/proxy/metrics/cadvisor"


def test_prometheus_reads_the_api_with_its_own_token_and_a_read_only_cluster_role() -> None:
    resources = run_stack("prod")
    assert pod(one(resources, STS, "prometheus"))["automountServiceAccountToken"] is True
    role = one(resources, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "observability-prometheus-discovery")
    assert {verb for rule in role["rules"] for verb in rule["verbs"]} == {"get", "list", "watch"}
    assert any("endpointslices" in rule.get("resources", []) for rule in role["rules"])
    binding = one(resources, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "observability-prometheus-discovery-binding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "prometheus", "namespace": NS}]
    egress = one(resources, NETPOL, "prometheus-netpol")["spec"]["egress"]
    assert {"to": [{"ipBlock": {"cidr": "172.18.0.2/32"}}], "ports": [{"protocol": "TCP", "port": 6443}]} in egress


def test_the_nats_exporter_runs_beside_every_server_and_only_the_scrapers_reach_it() -> None:
    resources = run_stack("prod")
    sts = one(resources, STS, "nats")
    exporter = next(c for c in pod(sts)["containers"] if c["name"] == "exporter")
    assert exporter["args"][-1] == "http://localhost:8222/" and "-jsz=all" in exporter["args"]
    assert exporter["ports"] == [{"name": "prom-metrics", "containerPort": 7777, "protocol": "TCP"}]
    admit = one(resources, NETPOL, "observability-scrape-nats")
    assert admit["metadata"]["namespace"] == "event-bus"
    assert admit["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 7777}]
    assert not [r for r in resources if r.type == DEPLOYMENT and r.name == "nats-exporter"]


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
    pods = [rule for rule in prometheus_egress if "ipBlock" not in rule["to"][0]]
    assert all(rule["to"] and all(p.get("namespaceSelector", {}).get("matchLabels") for p in rule["to"]) for rule in pods)
    assert [rule["to"] for rule in prometheus_egress if rule not in pods] == [[{"ipBlock": {"cidr": "172.18.0.2/32"}}]]


@pytest.mark.parametrize(("stack", "overrides", "expected"), [
    ("dev", {"observability": {"loki": {"replicas": 2}}}, "loki.replicas"),
    ("prod", {"observability": {"collector": {"replicas": 1}}}, "collector.replicas: prod needs at least 2"),
    ("prod", {"observability": {"grafana": {"replicas": 2}}}, "grafana.replicas: Grafana runs 1 replica"),
    ("dev", {"observability": {"zone": "apps"}}, "zone: 'apps' is also declared under zones"),
    ("dev", {"observability": {"prometheus": {"image": "quay.io/prometheus/prometheus"}}}, "has no tag"),
])
def test_unsafe_observability_settings_are_refused(stack: str, overrides: dict, expected: str) -> None:
    assert expected in refusal(stack, **overrides)


def _admits(policy: dict, labels: dict, namespace: str) -> bool:
    """Whether one NetworkPolicy's ingress names Prometheus's pods (by its namespace and pod labels)."""
    for rule in policy["spec"].get("ingress") or []:
        for peer in rule.get("from") or []:
            ns = peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
            if ns == namespace and peer.get("podSelector", {}).get("matchLabels") == labels:
                return True
    return False


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_one_policy_admits_prometheus_to_vault_and_it_is_the_vault_zone_s_own(stack: str) -> None:
    resources = run_stack(stack)
    prometheus = {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "prometheus"}
    admitting = [r.name for r in resources if r.type == NETPOL and r.properties["metadata"]["namespace"] == "vault"
                 and _admits(r.properties, prometheus, NS)]
    assert admitting == ["vault-netpol"]
    jobs = {j["job_name"] for j in config(stack, "prometheus", "prometheus.yml")["scrape_configs"]}
    assert "vault" in jobs


def test_a_vault_zone_that_admits_no_scraper_gets_no_vault_scrape_job_and_no_policy_from_observability() -> None:
    resources = run_stack("prod", secrets={**stack_config("prod")["cdb-infra:secrets"], "metricsScrape": False})
    assert not [r for r in resources if r.type == NETPOL and r.properties["metadata"]["namespace"] == "vault"
                and "cdb:index:Observability$" in r.urn]
    prometheus_yml = next(r for r in resources if r.type == "kubernetes:core/v1:ConfigMap"
                          and r.properties["metadata"]["name"] == "prometheus-config")
    jobs = {j["job_name"] for j in yaml.safe_load(prometheus_yml.properties["data"]["prometheus.yml"])["scrape_configs"]}
    assert "vault" not in jobs and "flux" in jobs
