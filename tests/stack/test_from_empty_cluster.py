"""The reference stack as it must come up from an empty cluster (issue 10's review): API-server egress by
endpoint, the Flux quota at its size profile, client egress to the event bus, a bucket Job that waits
and can be replaced, a Flux sync that does not wait for secrets, and one owner per object."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest
import yaml

from cdb_core.errors import SettingsError
from cdb_stack.ownership import FLUX_PROVIDER, is_flux_owned
from cdb_engine.manifests.render import render_files, render_stack
from cdb_stack.settings import parse_settings
from cdb_stack.stack import plan_stack
from tests.stack.platform_stack import JOB, NETPOL, STS, one, refusal, run_stack, stack_config

ROOT = Path(__file__).resolve().parents[2]
QUOTA = "kubernetes:core/v1:ResourceQuota"
KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization"
FLUX_INSTANCE = "kubernetes:fluxcd.controlplane.io/v1:FluxInstance"
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")


def api_server(stack: str) -> dict:
    return stack_config(stack)["cdb-infra:apiServer"]


def netpols(stack: str) -> list:
    return [r for r in run_stack(stack) if r.type == NETPOL]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_egress_to_the_api_server_names_its_endpoints_and_port_never_the_cluster_ip(stack: str) -> None:
    setting = api_server(stack)
    endpoints = {str(ipaddress.ip_network(e, strict=False)) for e in setting["endpoints"]}
    with_api = set()
    for policy in netpols(stack):
        for rule in policy.properties["spec"].get("egress") or []:
            blocks = [peer["ipBlock"] for peer in rule.get("to") or [] if "ipBlock" in peer]
            for block in blocks:
                # Public-registry egress (Flux's OCI and Git sources) excepts every private range.
                excepted = any(SERVICE_CIDR.subnet_of(ipaddress.ip_network(e)) for e in block.get("except", []))
                assert excepted or not ipaddress.ip_network(block["cidr"]).overlaps(SERVICE_CIDR), (policy.name, block)
            api_blocks = [b["cidr"] for b in blocks if str(ipaddress.ip_network(b["cidr"])) in endpoints]
            if api_blocks:
                assert rule["ports"] == [{"protocol": "TCP", "port": setting["port"]}], policy.name
                with_api.add(policy.name)
    # Everything that talks to the API server: NACK, Vault (token reviews), its operator and Prometheus.
    assert {"nats-nack-netpol", "vault-netpol", "vault-secrets-operator-netpol", "prometheus-netpol"} <= with_api


@pytest.mark.parametrize(("api", "expected"), [
    ({"endpoints": ["10.96.0.1"]}, "cdb-infra:apiServer.endpoints[0]: '10.96.0.1' is inside the Service CIDR 10.96.0.0/12"),
    ({"endpoints": ["0.0.0.0/0"]}, "cdb-infra:apiServer.endpoints[0]: '0.0.0.0/0' allows every address"),
    ({"endpoints": ["api.example"]}, "cdb-infra:apiServer.endpoints[0]: 'api.example' is not an IP address or CIDR"),
    ({"endpoints": ["10.100.0.5"], "serviceCidr": "10.100.0.0/16"}, "inside the Service CIDR 10.100.0.0/16"),
    ({"endpoints": []}, "cdb-infra:apiServer.endpoints"),
])
def test_an_api_server_setting_that_names_a_cluster_ip_or_nothing_is_refused(api: dict, expected: str) -> None:
    assert expected in refusal("prod", apiServer=api)


def test_a_stack_without_the_api_server_setting_is_refused_naming_the_setting() -> None:
    config = stack_config("prod")
    del config["cdb-infra:apiServer"]
    with pytest.raises(SettingsError) as caught:
        plan_stack(parse_settings(config, source="Pulumi.prod.yaml"), "cdb-infra", "prod", source="Pulumi.prod.yaml")
    assert "set cdb-infra:apiServer.endpoints" in str(caught.value) and "\n" not in str(caught.value)


# Upstream limits (flux-operator size profiles and the operator chart), restated here independently of
# components/flux/sizing.py: (cpu, memory GiB) per pod at the `medium` profile.
MEDIUM = {"flux-operator": (2, 1), "source-controller": (2, 1), "kustomize-controller": (2, 1),
          "helm-controller": (2, 1), "notification-controller": (1, 1)}


def test_the_prod_flux_quota_holds_the_operator_and_every_controller_at_the_medium_profile_with_surge() -> None:
    resources = run_stack("prod")
    instance = one(resources, FLUX_INSTANCE, "flux-instance")
    assert instance["spec"]["cluster"]["size"] == "medium"
    assert set(instance["spec"]["components"]) | {"flux-operator"} == set(MEDIUM)
    hard = next(r for r in resources if r.type == QUOTA and r.properties["metadata"]["namespace"] == "flux-system").properties["spec"]["hard"]
    cpu = sum(c for c, _ in MEDIUM.values()) * 2
    memory = sum(m for _, m in MEDIUM.values()) * 2
    assert (float(hard["limits.cpu"]), hard["limits.memory"], int(hard["pods"])) == (cpu, f"{memory}Gi", 2 * len(MEDIUM))


def test_a_flux_quota_below_what_the_size_profile_needs_is_refused() -> None:
    message = refusal("prod", gitops={"branch": "main", "clusterSize": "medium", "cpuQuota": "8"})
    assert message == ("Pulumi.prod.yaml: cdb-infra:gitops.cpuQuota: '8' is below what the Flux Operator and 4 controllers "
                       "at the 'medium' profile, with rollout surge need (18); raise it to at least 18 or remove it")
    assert "memoryQuota" in refusal("prod", gitops={"clusterSize": "large", "memoryQuota": "12Gi"})


def egress_allows(policies: list, namespace: str, server_ns: str, server_labels: dict, port: int) -> list[str]:
    """Names of the policies in `namespace` that let every pod there reach the server pods on `port`
    (NetworkPolicy semantics: both selectors in one peer, an empty podSelector selects all pods)."""
    found = []
    for policy in policies:
        spec, meta = policy.properties["spec"], policy.properties["metadata"]
        if meta["namespace"] != namespace or spec["podSelector"] != {} or "Egress" not in spec["policyTypes"]:
            continue
        for rule in spec.get("egress") or []:
            ports = {p["port"] for p in rule.get("ports") or []}
            for peer in rule.get("to") or []:
                ns_ok = peer.get("namespaceSelector", {}).get("matchLabels") == {"kubernetes.io/metadata.name": server_ns}
                pods = peer.get("podSelector", {}).get("matchLabels", {})
                if ns_ok and all(server_labels.get(k) == v for k, v in pods.items()) and port in ports:
                    found.append(meta["name"])
    return found


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_client_zone_may_leave_its_default_deny_towards_the_event_bus(stack: str) -> None:
    config = stack_config(stack)
    nats = {"app.kubernetes.io/name": "nats", "app.kubernetes.io/instance": "nats"}
    policies = netpols(stack)
    for zone in config["cdb-infra:eventBus"]["clientZones"]:
        assert egress_allows(policies, zone, "event-bus", nats, 4222) == ["allow-nats-client-egress"], zone
    for zone in (config["cdb-infra:redis"].get("clientZones") or []):
        redis = {"app.kubernetes.io/name": "redis", "app.kubernetes.io/instance": "redis"}
        assert egress_allows(policies, zone, "event-bus", redis, 6379) == ["allow-redis-client-egress"], zone


def test_a_zone_that_is_no_client_gets_no_path_to_the_event_bus() -> None:
    nats = {"app.kubernetes.io/name": "nats", "app.kubernetes.io/instance": "nats"}
    assert egress_allows(netpols("prod"), "storage", "event-bus", nats, 4222) == []


def test_the_bucket_job_is_named_by_what_it_does_and_waits_for_its_secret_and_servers() -> None:
    def job(stack: str, **overrides):
        (found,) = [r for r in run_stack(stack, **overrides) if r.type == JOB]
        return found.properties

    prod = job("prod")
    assert re.fullmatch(r"minio-audit-bucket-[0-9a-f]{8}", prod["metadata"]["name"])
    assert prod["spec"]["backoffLimit"] == 24
    assert "activeDeadlineSeconds" not in prod["spec"] and "ttlSecondsAfterFinished" not in prod["spec"]
    storage = {**stack_config("prod")["cdb-infra:objectStorage"], "auditBucket": {"name": "audit", "retentionDays": 3651}}
    changed = job("prod", objectStorage=storage)
    # A changed Job is a new Job (the pod template is immutable); labels and its NetworkPolicy stay put.
    assert changed["metadata"]["name"] != prod["metadata"]["name"]
    assert changed["spec"]["template"]["metadata"]["labels"] == prod["spec"]["template"]["metadata"]["labels"]


def test_flux_reports_the_sync_applied_without_waiting_for_secrets_that_come_after_the_key_ceremony() -> None:
    (sync,) = [r for r in run_stack("prod") if r.type == KUSTOMIZATION]
    assert sync.properties["spec"]["wait"] is False and sync.properties["spec"]["prune"] is True


def test_pulumi_does_not_wait_for_the_vault_statefulset_and_its_update_can_roll() -> None:
    vault = one(run_stack("prod"), STS, "vault")
    # Members unseal themselves, so a rolling update completes; OnDelete would leave Pulumi's update waiting.
    assert vault["spec"]["updateStrategy"]["type"] == "RollingUpdate"
    assert vault["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"


@pytest.fixture(scope="module")
def prod_render():
    rendered = render_stack(ROOT, "prod")
    return rendered, render_files(rendered)


def test_pulumi_and_flux_never_apply_the_same_object(prod_render) -> None:
    rendered, files = prod_render
    listed = set(yaml.safe_load(files["kustomization.yaml"])["resources"])
    by_file = {path: text for path, text in files.items() if path != "kustomization.yaml"}
    flux = {path for path, text in by_file.items() if path in listed}
    pulumi = set(by_file) - flux
    assert flux and pulumi and listed == flux
    assert len(rendered.manifests) == len(by_file)  # every object is rendered (and checked), listed or not
    kinds = lambda paths: {p.split("/")[1].split("-")[0] for p in paths}  # noqa: E731
    # Pulumi bootstraps: zones, Vault and its operator with the secret deliveries, Flux itself.
    assert {"namespace", "resourcequota", "fluxinstance", "gitrepository", "kustomization", "statefulset"} <= kinds(pulumi)
    # Flux applies nothing in Vault's zones: even the scrape path is the vault zone's own policy.
    assert {p for p in flux if p.startswith(("vault/", "vault-secrets-operator/"))} == set()
    assert not kinds(flux) & {"namespace", "resourcequota", "limitrange", "fluxinstance", "gitrepository",
                              "kustomization", "vaultauth", "vaultstaticsecret", "vaultconnection"}
    # Flux applies the workloads: services, event bus, object store, observability.
    assert {"apps/deployment-orders-api.yaml", "event-bus/statefulset-nats.yaml", "storage/statefulset-minio.yaml",
            "observability/statefulset-prometheus.yaml"} <= flux


def test_pulumi_registers_the_flux_owned_objects_only_through_a_render_mode_provider() -> None:
    resources = run_stack("prod")
    (provider,) = [r for r in resources if r.type == "pulumi:providers:kubernetes" and r.name == FLUX_PROVIDER]
    assert provider.properties["renderYamlToDirectory"].endswith("/prod")
    objects = [r for r in resources if r.custom and r.type.startswith("kubernetes:")]
    flux = {r.name for r in objects if is_flux_owned(r.provider)}
    assert "orders-api" in flux and "nats" in flux and "prometheus" in flux
    assert "vault" not in flux and "flux-instance" not in flux


def test_the_stack_says_where_the_object_store_credentials_must_be_seeded() -> None:
    from cdb_stack.parts.object_storage import credentials_to_seed

    settings = parse_settings(stack_config("prod"), source="Pulumi.prod.yaml")
    plan = plan_stack(settings, "cdb-infra", "prod")
    seed = credentials_to_seed(plan.parts["objectStorage"], settings.secrets.kv_mount)
    # The very mount and path the VaultStaticSecret reads, with the keys the servers and the Job read.
    vss = one(run_stack("prod"), "kubernetes:secrets.hashicorp.com/v1beta1:VaultStaticSecret", "storage-minio-secrets-minio-root")
    assert (seed["kvMount"], seed["path"]) == (vss["spec"]["mount"], vss["spec"]["path"])
    assert seed["keys"] == ["rootUser", "rootPassword"]
    assert seed["command"].startswith(f"bao kv put -mount={seed['kvMount']} {seed['path']} rootUser=")


def test_pulumi_never_deletes_an_object_flux_owns_even_when_handing_it_over() -> None:
    import pulumi
    import pulumi_kubernetes as k8s

    from cdb_stack.ownership import retain_on_handover

    config_map = object.__new__(k8s.core.v1.ConfigMap)  # a custom resource, not constructed
    opts = pulumi.ResourceOptions(depends_on=[])
    result = retain_on_handover(pulumi.ResourceTransformationArgs(config_map, "kubernetes:core/v1:ConfigMap", "c", {"a": 1}, opts))
    assert result.opts.retain_on_delete is True and result.props == {"a": 1}
    component = object.__new__(pulumi.ComponentResource)
    assert retain_on_handover(pulumi.ResourceTransformationArgs(component, "cdb:index:X", "x", {}, opts)) is None
