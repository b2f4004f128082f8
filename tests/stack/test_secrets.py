"""The secrets part on recorded wire inputs: HA Vault alone in its zone, config as code, VSO delivery."""

from __future__ import annotations

import re

import pytest

from components.errors import ComponentArgsError
from components.vault_config import VaultClient, policy_hcl, policy_paths
from tests.stack.platform_stack import (
    NAMESPACE, NETPOL, PDB, POLICY, ROLE, STATE_CLASS, STATE_KIND, STS, VAULT_AUTH, VSS, in_namespace, of_type, one,
    pod, refusal, run_stack,
)

VAULT_OPERATOR_LABELS = {"app.kubernetes.io/name": "vault-secrets-operator",
                         "app.kubernetes.io/instance": "vault-secrets-operator"}


@pytest.mark.parametrize(("stack", "replicas"), [("dev", 1), ("prod", 3)])
def test_vault_runs_raft_members_as_declared_secret_store(stack: str, replicas: int) -> None:
    sts = one(run_stack(stack), STS, "vault")
    assert sts["spec"]["replicas"] == replicas
    assert sts["metadata"]["labels"][STATE_CLASS] == "platform-state"
    assert sts["metadata"]["annotations"][STATE_KIND] == "secret-store"
    assert sts["spec"]["template"]["metadata"]["labels"][STATE_CLASS] == "platform-state"
    assert [c["metadata"]["name"] for c in sts["spec"]["volumeClaimTemplates"]] == ["data", "audit"]
    config = one(run_stack(stack), "kubernetes:core/v1:ConfigMap", "vault-config")["data"]["config.hcl"]
    assert 'storage "raft"' in config
    joins = re.findall(r'leader_api_addr = "http://(vault-\d)\.vault-internal\.vault\.svc', config)
    assert joins == [f"vault-{i}" for i in range(replicas)]


def test_vault_probes_use_sys_health_and_never_restart_a_sealed_member() -> None:
    server = pod(one(run_stack("prod"), STS, "vault"))["containers"][0]
    ready, live = server["readinessProbe"]["httpGet"], server["livenessProbe"]["httpGet"]
    assert ready["path"].startswith("/v1/sys/health?standbyok=true") and ready["port"] == "http"
    assert "sealedcode=204" in live["path"] and "uninitcode=204" in live["path"]
    assert {p["containerPort"] for p in server["ports"]} == {8200, 8201}
    assert server["resources"]["limits"] and server["securityContext"]["readOnlyRootFilesystem"] is True


def test_vault_keeps_raft_quorum_in_drains() -> None:
    assert one(run_stack("prod"), PDB, "vault-pdb")["spec"]["maxUnavailable"] == 1


def test_vault_zone_is_marked_and_runs_nothing_but_vault() -> None:
    resources = run_stack("prod")
    assert one(resources, NAMESPACE, "vault")["metadata"]["labels"]["cdb-infra.io/zone-class"] == "vault"
    workloads = [r for r in in_namespace(resources, "vault") if r.type.startswith("kubernetes:apps/")
                 or r.type.startswith("kubernetes:batch/")]
    assert [r.name for r in workloads] == ["vault"]


def test_vault_ingress_admits_only_the_secret_operator_and_its_peers() -> None:
    spec = one(run_stack("prod"), NETPOL, "vault-netpol")["spec"]
    peers = [peer for rule in spec["ingress"] for peer in rule["from"]]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "vault-secrets-operator"}},
            "podSelector": {"matchLabels": VAULT_OPERATOR_LABELS}} in peers
    for peer in peers:
        assert peer.get("podSelector", {}).get("matchLabels"), f"peer {peer} is not an allow-list entry"
    # Vault's own egress reaches only its peers, the API server addresses and DNS.
    assert all(rule["to"] for rule in spec["egress"])


def test_vault_configuration_is_code_kv2_kubernetes_auth_and_an_audit_device() -> None:
    resources = run_stack("dev")
    assert one(resources, "vault:index/mount:Mount", "vault-config-kv")["options"] == {"version": "2"}
    audit = one(resources, "vault:index/audit:Audit", "vault-config-audit")
    assert audit["type"] == "file" and audit["options"]["file_path"].startswith("/vault/audit/")
    assert one(resources, "vault:index/authBackend:AuthBackend", "vault-config-kubernetes")["type"] == "kubernetes"


def test_each_client_gets_one_policy_for_exactly_its_paths_and_a_role_bound_to_its_account() -> None:
    resources = run_stack("dev")
    roles = {r.properties["roleName"]: r.properties for r in of_type(resources, ROLE)}
    assert set(roles) == {"apps-orders-api", "storage-minio", "observability-grafana"}
    orders = roles["apps-orders-api"]
    assert orders["boundServiceAccountNames"] == ["orders-api"]
    assert orders["boundServiceAccountNamespaces"] == ["apps"]
    assert orders["tokenPolicies"] == ["apps-orders-api-read"] and orders["tokenNoDefaultPolicy"] is True
    text = one(resources, POLICY, "vault-config-apps-orders-api-read")["policy"]
    assert text == 'path "kv/data/apps/orders-api/orders-db" {\n  capabilities = ["read"]\n}\n'


def test_service_secret_refs_become_a_vault_auth_and_static_secrets_in_their_namespace() -> None:
    resources = run_stack("prod")
    auth = one(resources, VAULT_AUTH, "apps-orders-api-secrets-auth")
    assert auth["metadata"]["namespace"] == "apps"
    assert auth["spec"]["kubernetes"] == {"role": "apps-orders-api", "serviceAccount": "orders-api",
                                          "audiences": ["vault"], "tokenExpirationSeconds": 600}
    assert auth["spec"]["vaultConnectionRef"] == "vault-secrets-operator/vault"
    secret = one(resources, VSS, "apps-orders-api-secrets-orders-db")["spec"]
    assert (secret["type"], secret["mount"], secret["path"]) == ("kv-v2", "kv", "apps/orders-api/orders-db")
    assert secret["destination"]["name"] == "orders-db" and secret["vaultAuthRef"] == "orders-api-vault"
    assert secret["rolloutRestartTargets"] == [{"kind": "Deployment", "name": "orders-api"}]


def test_no_kubernetes_secret_is_written_by_the_stack() -> None:
    for stack in ("dev", "prod"):
        assert of_type(run_stack(stack), "kubernetes:core/v1:Secret") == []


def test_the_policy_text_is_the_pure_function_of_the_client() -> None:
    client = VaultClient(name="api", namespace="apps", service_account="api", secrets=("db", "cache"))
    assert policy_paths(client, "kv") == {"kv/data/apps/api/db": ["read"], "kv/data/apps/api/cache": ["read"]}
    assert policy_hcl(client, "kv").count("capabilities") == 2 and "*" not in policy_hcl(client, "kv")


@pytest.mark.parametrize(("stack", "overrides", "expected"), [
    ("prod", {"secrets": {"replicas": 1}}, "cdb-infra:secrets.replicas: 1 outside dev"),
    ("prod", {"secrets": {"replicas": 4}}, "replicas 4 is even"),
    ("dev", {"secrets": {"zone": "apps"}}, "zone: 'apps' is also declared under zones"),
    ("dev", {"secrets": {"grants": [{"name": "x", "zone": "apps", "serviceAccount": "x", "secrets": ["a", "a"]}]}},
     "lists a secret twice"),
])
def test_unsafe_secrets_settings_are_refused_before_anything_is_built(stack: str, overrides: dict, expected: str) -> None:
    assert expected in refusal(stack, **overrides)


def test_two_services_sharing_one_secret_name_in_a_zone_are_refused() -> None:
    services = [
        {"name": "a", "zone": "apps", "image": "ghcr.io/cdb/a:1.0.0", "replicas": 1,
         "secretEnv": {"DB": {"secret": "shared", "key": "url"}}},
        {"name": "b", "zone": "apps", "image": "ghcr.io/cdb/b:1.0.0", "replicas": 1,
         "secretEnv": {"DB": {"secret": "shared", "key": "url"}}},
    ]
    assert "Secret 'shared' in zone 'apps' is also read by 'a'" in refusal("dev", services=services)


def test_a_vault_client_for_an_ai_workload_cannot_be_constructed() -> None:
    with pytest.raises(ComponentArgsError, match="AI workloads get no Vault role or policy"):
        VaultClient(name="m", namespace="apps", service_account="m", secrets=("x",), workload_class="ai")
