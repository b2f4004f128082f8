"""The secrets part on recorded wire inputs: HA Vault alone in its zone, config as code, VSO delivery."""

from __future__ import annotations

import re

import pytest

from cdb_ops import secret_store
from cdb_stack.settings import parse_settings
from cdb_stack.stack import plan_stack
from components.errors import ComponentArgsError
from components.vault_config import VaultClient, policy_hcl, policy_paths
from tests.stack.platform_stack import (
    CONFIG_MAP, NAMESPACE, NETPOL, PDB, POLICY, ROLE, ROOT, STATE_CLASS, STATE_KIND, STS, VAULT_AUTH, VSS, in_namespace,
    of_type, one, pod, refusal, run_stack, stack_config,
)

EXTERNAL = "https://openbao.example.net:8200"

def prod_secrets(**extra: object) -> dict:
    """The prod stack's own `secrets` settings with some keys added (an override replaces the whole key)."""
    return {**stack_config("prod").get("cdb-infra:secrets", {}), **extra}

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


def test_openbao_is_the_default_engine_and_runs_with_the_environment_it_reads() -> None:
    sts = one(run_stack("prod"), STS, "vault")
    server = pod(sts)["containers"][0]
    assert server["image"] == "quay.io/openbao/openbao:2.7.2" and server["command"] == ["bao"]
    names = [e["name"] for e in server["env"]]
    # OpenBao ignores VAULT_API_ADDR & co.: without BAO_* a member would advertise no address to its peers.
    assert {"BAO_API_ADDR", "BAO_CLUSTER_ADDR", "BAO_RAFT_NODE_ID"} <= set(names)
    assert not [n for n in names if n.startswith("VAULT_")]
    config = one(run_stack("prod"), CONFIG_MAP, "vault-config")["data"]["config.hcl"]
    assert "disable_mlock" not in config  # OpenBao 2.7 warns on it as an unknown field


def test_openbao_unseals_itself_from_the_ceremony_secret_mounted_into_its_pods_only() -> None:
    resources = run_stack("prod")
    config = one(resources, CONFIG_MAP, "vault-config")["data"]["config.hcl"]
    assert re.search(r'seal "static" \{\n  current_key_id  = "unseal-1"\n  current_key     = '
                     r'"file:///vault/unseal/unseal-1"\n\}', config)
    spec = pod(one(resources, STS, "vault"))
    assert {"name": "unseal", "secret": {"secretName": "openbao-unseal-key", "defaultMode": 0o440}} in spec["volumes"]
    assert {"name": "unseal", "mountPath": "/vault/unseal", "readOnly": True} in spec["containers"][0]["volumeMounts"]
    mounting = [r.name for r in resources if r.type.startswith(("kubernetes:apps/", "kubernetes:batch/"))
                and any(v.get("secret", {}).get("secretName") == "openbao-unseal-key"
                        for v in pod(r.properties).get("volumes", []))]
    assert mounting == ["vault"]
    assert of_type(resources, "kubernetes:core/v1:Secret") == []  # the ceremony creates it, never the code


def test_a_key_rotation_renders_the_previous_key_beside_the_current_one() -> None:
    secrets = prod_secrets(autoUnseal={"keyId": "unseal-2", "previousKeyId": "unseal-1"})
    config = one(run_stack("prod", secrets=secrets), CONFIG_MAP, "vault-config")["data"]["config.hcl"]
    assert 'current_key     = "file:///vault/unseal/unseal-2"' in config
    assert 'previous_key_id = "unseal-1"' in config and 'previous_key    = "file:///vault/unseal/unseal-1"' in config
    # The rotation must roll the members: the pod template changes with the config.
    hashes = {pod_hash(run_stack("prod", secrets=s)) for s in (secrets, prod_secrets())}
    assert len(hashes) == 2


def pod_hash(resources: tuple) -> str:
    return one(resources, STS, "vault")["spec"]["template"]["metadata"]["annotations"]["cdb-infra.io/config-hash"]


def test_pulumi_does_not_await_the_sealed_statefulset_and_updates_roll_one_member_at_a_time() -> None:
    sts = one(run_stack("prod"), STS, "vault")
    # Before the key ceremony no member can be Ready: an awaiting `pulumi up` would hang until its timeout.
    assert sts["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"
    # OnDelete never finishes an update by itself (Pulumi waits for it); auto-unsealed members can roll.
    assert sts["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}


def test_hashicorp_vault_stays_selectable_with_its_own_image_environment_and_hand_unseal() -> None:
    secrets = prod_secrets(engine="vault", autoUnseal={"type": "manual"})
    resources = run_stack("prod", secrets=secrets)
    server = pod(one(resources, STS, "vault"))["containers"][0]
    assert server["image"] == "hashicorp/vault:2.0.4" and server["command"] == ["vault"]
    assert "VAULT_API_ADDR" in [e["name"] for e in server["env"]]
    config = one(resources, CONFIG_MAP, "vault-config")["data"]["config.hcl"]
    assert "disable_mlock = true" in config and "seal " not in config and "audit " not in config
    # Vault enables audit devices over the API, so configure does.
    config = stack_config("prod", secrets=secrets)
    plan = plan_stack(parse_settings(config, source="Pulumi.prod.yaml"), "cdb-infra", "prod")
    want = secret_store.desired_state_of(secret_store.plan_target(plan))
    assert want["audit_declared"] == {} and want["audit"]["file"]["options"]["file_path"] == "/vault/audit/audit.log"


def test_vault_keeps_raft_quorum_in_drains() -> None:
    assert one(run_stack("prod"), PDB, "vault-pdb")["spec"]["maxUnavailable"] == 1


def test_vault_zone_is_marked_and_runs_nothing_but_vault() -> None:
    resources = run_stack("prod")
    assert one(resources, NAMESPACE, "vault")["metadata"]["labels"]["cdb-infra.io/zone-class"] == "vault"
    workloads = [r for r in in_namespace(resources, "vault") if r.type.startswith("kubernetes:apps/")
                 or r.type.startswith("kubernetes:batch/")]
    assert [r.name for r in workloads] == ["vault"]


def test_vault_ingress_admits_its_raft_peers_prometheus_and_the_configuration_networks() -> None:
    secrets = prod_secrets(configure={"fromCidrs": ["10.20.0.0/24"]})
    spec = one(run_stack("prod", secrets=secrets), NETPOL, "vault-netpol")["spec"]
    members = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "vault", "app.kubernetes.io/instance": "vault"}}}
    ports = lambda rule: sorted(p["port"] for p in rule["ports"])  # noqa: E731
    assert [ports(r) for r in spec["ingress"] if members in r["from"]] == [[8200, 8201]]
    assert [ports(r) for r in spec["egress"] if members in r["to"]] == [[8200, 8201]]
    prometheus = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "observability"}},
                  "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus",
                                                  "app.kubernetes.io/instance": "prometheus"}}}
    assert [ports(r) for r in spec["ingress"] if prometheus in r["from"]] == [[8200]]
    assert [ports(r) for r in spec["ingress"] if {"ipBlock": {"cidr": "10.20.0.0/24"}} in r["from"]] == [[8200]]


def test_vault_ingress_admits_only_the_secret_operator_and_its_peers() -> None:
    spec = one(run_stack("prod"), NETPOL, "vault-netpol")["spec"]
    peers = [peer for rule in spec["ingress"] for peer in rule["from"]]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "vault-secrets-operator"}},
            "podSelector": {"matchLabels": VAULT_OPERATOR_LABELS}} in peers
    for peer in peers:
        assert peer.get("podSelector", {}).get("matchLabels"), f"peer {peer} is not an allow-list entry"
    # Vault's own egress reaches only its peers, the API server addresses and DNS.
    assert all(rule["to"] for rule in spec["egress"])


def desired(stack: str) -> dict:
    return secret_store.desired_state_of(secret_store.stack_target(ROOT, stack))


def test_the_configuration_cdb_applies_is_kv2_kubernetes_auth_and_the_server_declared_audit_device() -> None:
    want = desired("dev")
    assert want["mounts"] == {"kv": {"type": "kv", "options": {"version": "2"},
                                     "description": "KV v2 secrets of the platform's workloads"}}
    assert want["auth"]["kubernetes"]["type"] == "kubernetes"
    # OpenBao refuses to enable audit devices over the API: the server config declares it, configure verifies it.
    assert want["audit"] == {} and want["audit_declared"]["file"]["options"]["file_path"].startswith("/vault/audit/")
    config = one(run_stack("dev"), CONFIG_MAP, "vault-config")["data"]["config.hcl"]
    assert 'audit "file" "file" {' in config and 'file_path = "/vault/audit/audit.log"' in config


def test_each_client_gets_one_policy_for_exactly_its_paths_and_a_role_bound_to_its_account() -> None:
    writes = desired("dev")["writes"]
    roles = {p.rsplit("/", 1)[1]: body for p, body in writes.items() if p.startswith("auth/kubernetes/role/")}
    assert set(roles) == {"apps-orders-api", "storage-minio", "observability-grafana"}
    orders = roles["apps-orders-api"]
    assert orders["bound_service_account_names"] == ["orders-api"]
    assert orders["bound_service_account_namespaces"] == ["apps"]
    assert orders["token_policies"] == ["apps-orders-api-read"] and orders["token_no_default_policy"] is True
    text = writes["sys/policies/acl/apps-orders-api-read"]["policy"]
    assert text == 'path "kv/data/apps/orders-api/orders-db" {\n  capabilities = ["read"]\n}\n'


def test_the_program_itself_needs_no_reachable_vault_by_default() -> None:
    for stack in ("dev", "prod"):
        assert [r.type for r in run_stack(stack) if r.type.startswith(("vault:", "pulumi:providers:vault"))] == []


def test_configure_via_pulumi_registers_the_same_policies_and_roles_at_the_reachable_address() -> None:
    resources = run_stack("prod", secrets=prod_secrets(configure={"via": "pulumi", "address": EXTERNAL}))
    providers = [r.properties for r in resources if r.type == "pulumi:providers:vault"]
    assert [p["address"] for p in providers] == [EXTERNAL]
    writes = desired("prod")["writes"]
    for policy in of_type(resources, POLICY):
        assert writes[f"sys/policies/acl/{policy.properties['name']}"]["policy"] == policy.properties["policy"]
    for role in of_type(resources, ROLE):
        body = writes[f"auth/kubernetes/role/{role.properties['roleName']}"]
        assert role.properties["boundServiceAccountNames"] == body["bound_service_account_names"]
        assert role.properties["tokenPolicies"] == body["token_policies"]
    assert len(of_type(resources, ROLE)) == 3
    assert of_type(resources, "vault:index/audit:Audit") == []  # OpenBao: declared in the server config


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
    ("dev", {"secrets": {"engine": "vault"}}, "autoUnseal.type: static is an OpenBao seal and HashiCorp Vault has none"),
    ("dev", {"secrets": {"configure": {"via": "pulumi"}}}, "configure.address: required with configure.via: pulumi"),
    ("dev", {"secrets": {"configure": {"fromCidrs": ["0.0.0.0/0"]}}}, "0.0.0.0/0"),
    ("dev", {"secrets": {"autoUnseal": {"keyId": "k1", "previousKeyId": "k1"}}}, "previousKeyId equals keyId"),
    ("dev", {"secrets": {"autoUnseal": {"keyId": "../k"}}}, "cdb-infra:secrets.autoUnseal.keyId: String should match"),
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


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_unseal_key_secret_is_declared_as_the_key_ceremony_s_product_of_the_vault_zone(stack):
    namespace = one(run_stack(stack), "kubernetes:core/v1:Namespace", "vault")
    assert namespace["metadata"]["annotations"]["cdb-infra.io/provides-secrets"] == "vault/openbao-unseal-key"
