"""The AI workload class across the whole stack graph: no secret, no token, no Vault role, no path to Vault."""

from __future__ import annotations

from typing import Any

import pytest

from cdb_ops import secret_store
from tests.stack.platform_stack import (
    DEPLOYMENT, NETPOL, ROOT, VAULT_AUTH, VSS, of_type, one, pod, refusal, run_stack,
)

AI = "insight-ai"
VAULT_NS = "vault"


def _vault_reachable(peer: dict[str, Any], own_namespace: str) -> bool:
    """Whether one egress peer could reach a pod in the vault namespace."""
    if not peer:
        return True
    if "ipBlock" in peer:
        return True  # an address range may cover pod IPs; AI egress names pods only
    selector = peer.get("namespaceSelector")
    if selector is None:
        return own_namespace == VAULT_NS
    labels = selector.get("matchLabels") or {}
    return not labels and not selector.get("matchExpressions") or labels.get("kubernetes.io/metadata.name") == VAULT_NS


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_ai_pods_carry_no_secret_and_no_token(stack: str) -> None:
    spec = pod(one(run_stack(stack), DEPLOYMENT, AI))
    assert spec["automountServiceAccountToken"] is False
    container = spec["containers"][0]
    assert all("valueFrom" not in var or "secretKeyRef" not in var["valueFrom"] for var in container.get("env", []))
    assert not any("secret" in volume or "projected" in volume for volume in spec.get("volumes", []))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_vault_role_policy_or_delivery_exists_for_an_ai_service(stack: str) -> None:
    resources = run_stack(stack)
    writes = secret_store.desired_state_of(secret_store.stack_target(ROOT, stack))["writes"]
    roles = [body for path, body in writes.items() if path.startswith("auth/kubernetes/role/")]
    assert roles and all(AI not in role["bound_service_account_names"] for role in roles)
    assert not [path for path, body in writes.items() if AI in path or AI in str(body.get("policy", ""))]
    assert not [r for r in of_type(resources, VAULT_AUTH) + of_type(resources, VSS) if AI in r.name]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_network_policy_that_selects_ai_pods_lets_them_reach_the_vault_zone(stack: str) -> None:
    resources = run_stack(stack)
    ai = one(resources, DEPLOYMENT, AI)
    namespace, labels = ai["metadata"]["namespace"], ai["spec"]["template"]["metadata"]["labels"]
    selecting = []
    for policy in of_type(resources, NETPOL):
        props = policy.properties
        match = (props["spec"].get("podSelector") or {}).get("matchLabels") or {}
        if props["metadata"]["namespace"] == namespace and all(labels.get(k) == v for k, v in match.items()):
            selecting.append(policy)
    assert {p.name for p in selecting} >= {f"{AI}-netpol", "apps-default-deny"}
    for policy in selecting:
        for rule in policy.properties["spec"].get("egress") or []:
            assert rule.get("to"), f"{policy.name}: an egress rule without `to` reaches everything"
            for peer in rule["to"]:
                assert not _vault_reachable(peer, namespace), f"{policy.name}: {peer} reaches the vault zone"


def test_vault_ingress_never_admits_the_ai_zone() -> None:
    spec = one(run_stack("prod"), NETPOL, "vault-netpol")["spec"]
    for rule in spec["ingress"]:
        for peer in rule["from"]:
            namespace = ((peer.get("namespaceSelector") or {}).get("matchLabels") or {}).get("kubernetes.io/metadata.name")
            assert namespace != "apps"


def test_an_ai_service_naming_the_vault_zone_in_egress_is_refused() -> None:
    zones = [{"name": "apps"}, {"name": "vault"}]
    services = [{"name": AI, "zone": "apps", "image": "ghcr.io/cdb/insight-ai:0.9.1", "replicas": 1,
                 "workloadClass": "ai", "egressTo": ["vault"]}]
    message = refusal("dev", zones=zones, services=services)
    assert "services[0].egressTo names the vault zone 'vault'; AI services get no network path" in message


def test_a_grant_binding_an_ai_service_account_is_refused() -> None:
    grant = {"name": "sneaky", "zone": "apps", "serviceAccount": AI, "secrets": ["model-key"]}
    assert "grants[0] binds AI service 'insight-ai'" in refusal("dev", secrets={"grants": [grant]})


def test_a_vault_allow_list_entry_admitting_the_whole_ai_zone_is_refused() -> None:
    message = refusal("dev", secrets={"ingressFrom": [{"zone": "apps"}]})
    assert "ingressFrom[0] admits all of zone 'apps', where AI services run" in message


def test_an_ai_service_with_a_secret_env_is_refused() -> None:
    services = [{"name": AI, "zone": "apps", "image": "ghcr.io/cdb/insight-ai:0.9.1", "replicas": 1,
                 "workloadClass": "ai", "secretEnv": {"API_TOKEN": {"secret": "model", "key": "token"}}}]
    assert "workloadClass 'ai' may not access secrets" in refusal("dev", services=services)
