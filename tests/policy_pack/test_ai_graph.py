"""Clause 6, KI-Enforcement, as a graph: AI workloads are found by what they run, RBAC is a path to
Secrets, ipBlocks are compared as networks with the cluster's ranges, and vault namespaces may be
declared in pack config."""

from __future__ import annotations

import pytest

from policy_pack.rules.vault_zone import block_reaches, is_open_cidr

from .fixtures import container, pod_spec, workload
from .harness import Node, analyze_stack, stack_violations, violations
from .objects import ai_workload, nodes, obj
from .stack_cases import ai_stack

NETWORK = "ai-no-vault-network-path"
RBAC = "ai-no-secret-rbac"
DECLARED = "ai-workload-declared"


def serving(image: str, command: list[str] | None = None, declared: bool = False, name: str = "llm"):
    extra = {"command": command} if command else {}
    token, props = workload("Deployment", pod_spec(container(name=name, image=image, **extra),
                                                   serviceAccountName=name, automountServiceAccountToken=False),
                            metadata={"name": name, "namespace": "ai"})
    if declared:
        props["metadata"]["labels"]["cdb-infra.io/workload-class"] = "ai"
        props["spec"]["template"]["metadata"]["labels"]["cdb-infra.io/workload-class"] = "ai"
    props["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] = name
    return token, props


@pytest.mark.parametrize(("image", "command", "software"), [
    ("docker.io/ollama/ollama:0.6.5", None, "Ollama"),
    ("vllm/vllm-openai:v0.8.4", None, "vLLM"),
    ("ghcr.io/huggingface/text-generation-inference:3.2.1", None, "Hugging Face TGI"),
    ("nvcr.io/nvidia/tritonserver:25.03-py3", None, "NVIDIA Triton"),
    ("ghcr.io/ggml-org/llama.cpp:server-b5000", None, "llama.cpp server"),
    ("localai/localai:v2.28.0-aio-cpu", None, "LocalAI"),
    ("lmsysorg/sglang:v0.4.5-cu124", None, "SGLang"),
    ("python:3.12-slim", ["python", "-m", "vllm.entrypoints.openai.api_server"], "vllm.entrypoints"),
    ("registry.example/cdb/llm:1.0", ["/usr/local/bin/llama-server", "-m", "/models/q4.gguf"], "llama-server"),
])
def test_model_serving_software_without_the_ai_declaration_is_a_violation(image, command, software):
    messages = violations(*serving(image, command), DECLARED)
    assert messages and f"runs {software}" in messages[0], messages
    assert violations(*serving(image, command, declared=True), DECLARED) == []


def test_ordinary_images_are_not_model_serving():
    for image in ("docker.io/library/nginx:1.27", "tensorflow/tensorflow:2.16.1", "ghcr.io/cdb/insight-ai:0.9.1",
                  "docker.io/library/python:3.12"):
        assert violations(*serving(image), DECLARED) == []


def test_an_undeclared_serving_workload_is_held_to_every_ai_rule():
    token, props = serving("ollama/ollama:0.6.5")
    props["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "token"}}}]
    assert violations(token, props, "ai-no-secret-access")
    messages = stack_violations(nodes((token, props)), NETWORK)
    assert messages and messages[0].startswith("Deployment ai/llm: no NetworkPolicy restricts its egress")


def reader_role(kind: str = "Role", namespace: str | None = "ai", **rule) -> tuple:
    rule = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], **rule}
    return obj(kind, "reader", namespace, rules=[rule])


def binding(kind: str = "RoleBinding", namespace: str | None = "ai", role_kind: str = "Role",
            subject: dict | None = None, name: str = "reader") -> tuple:
    subject = subject or {"kind": "ServiceAccount", "name": "assistant", "namespace": "ai"}
    return obj(kind, "llm-" + name, namespace, roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind,
                                                         "name": name}, subjects=[subject])


@pytest.mark.parametrize(("extra", "fragment"), [
    ((reader_role(), binding()), "RoleBinding ai/llm-reader: binds ServiceAccount ai/assistant"),
    ((reader_role(verbs=["list", "watch"]), binding()), "Role reader lets it read Secrets"),
    ((reader_role(apiGroups=["*"], resources=["*"], verbs=["*"]), binding()), "Role reader lets it read Secrets"),
    ((reader_role("ClusterRole", None), binding("ClusterRoleBinding", None, "ClusterRole")),
     "ClusterRoleBinding llm-reader: binds ServiceAccount ai/assistant"),
    ((binding("ClusterRoleBinding", None, "ClusterRole", name="edit"),), "built-in ClusterRole edit"),
    ((reader_role("ClusterRole", None),
      binding("ClusterRoleBinding", None, "ClusterRole", {"kind": "Group", "name": "system:serviceaccounts:ai",
                                                          "apiGroup": "rbac.authorization.k8s.io"})),
     "binds Group system:serviceaccounts:ai"),
    ((reader_role("ClusterRole", None), binding("ClusterRoleBinding", None, "ClusterRole",
                                                {"kind": "Group", "name": "system:serviceaccounts"})),
     "binds Group system:serviceaccounts"),
    ((reader_role("Role", "vault"), binding("RoleBinding", "vault")), "RoleBinding vault/llm-reader"),
    ((binding("RoleBinding", "ai", "ClusterRole", name="custom-secrets"),),
     "ClusterRole custom-secrets is not in the stack"),
])
def test_rbac_bindings_that_let_the_ai_service_account_read_secrets_are_rejected(extra, fragment):
    messages = stack_violations(ai_stack(extra=extra), RBAC)
    assert any(fragment in m for m in messages), messages


def test_an_aggregated_cluster_role_reads_secrets_through_the_roles_it_aggregates():
    aggregate = obj("ClusterRole", "reader", None, aggregationRule={"clusterRoleSelectors": [
        {"matchLabels": {"rbac.example/aggregate-to-reader": "true"}}]}, rules=[])
    part = obj("ClusterRole", "secret-part", None, labels={"rbac.example/aggregate-to-reader": "true"},
               rules=[{"apiGroups": [""], "resources": ["secrets"], "verbs": ["watch"]}])
    graph = ai_stack(extra=(aggregate, part, binding("ClusterRoleBinding", None, "ClusterRole")))
    assert stack_violations(graph, RBAC)
    harmless = obj("ClusterRole", "secret-part", None, labels={"rbac.example/aggregate-to-reader": "true"},
                   rules=[{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}])
    assert stack_violations(ai_stack(extra=(aggregate, harmless, binding("ClusterRoleBinding", None,
                                                                         "ClusterRole"))), RBAC) == []


@pytest.mark.parametrize("extra", [
    (reader_role(resources=["configmaps"]), binding()),
    (reader_role(verbs=["create"]), binding()),
    (binding("ClusterRoleBinding", None, "ClusterRole", name="view"),),
    (reader_role(), binding(subject={"kind": "ServiceAccount", "name": "web", "namespace": "ai"})),
    (reader_role("ClusterRole", None), binding("ClusterRoleBinding", None, "ClusterRole",
                                               {"kind": "Group", "name": "system:serviceaccounts:apps"})),
])
def test_bindings_that_grant_no_secret_read_or_bind_someone_else_pass(extra):
    assert stack_violations(ai_stack(extra=extra), RBAC) == []


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0", "::0/0", "0.0.0.0/00", "0::0/0"])
def test_every_spelling_of_an_open_ip_block_is_open(cidr):
    assert is_open_cidr(cidr)
    messages = stack_violations(ai_stack(egress=[{"to": [{"ipBlock": {"cidr": cidr}}]}]), NETWORK)
    assert any("reaches every address" in m for m in messages), messages


@pytest.mark.parametrize(("block", "fragment"), [
    ({"cidr": "10.0.0.0/8"}, "covers pod range 10.244.0.0/16"),
    ({"cidr": "10.244.3.0/24"}, "covers pod range 10.244.0.0/16"),
    ({"cidr": "10.96.0.10/32"}, "covers service range 10.96.0.0/12"),
    ({"cidr": "10.0.0.0/8", "except": ["10.244.0.0/16"]}, "covers service range 10.96.0.0/12"),
])
def test_ip_blocks_covering_the_pod_or_service_ranges_reach_the_vault(block, fragment):
    messages = stack_violations(ai_stack(egress=[{"to": [{"ipBlock": block}]}]), NETWORK)
    assert any(fragment in m for m in messages), messages


@pytest.mark.parametrize("block", [
    {"cidr": "192.168.10.0/24"}, {"cidr": "10.20.0.0/16"},
    {"cidr": "10.0.0.0/8", "except": ["10.244.0.0/16", "10.96.0.0/12"]}, {"cidr": "2001:db8::/32"},
])
def test_ip_blocks_outside_the_cluster_ranges_pass(block):
    assert stack_violations(ai_stack(egress=[{"to": [{"ipBlock": block}]}]), NETWORK) == []


def test_cidr_comparison_is_by_network_not_by_string():
    assert block_reaches({"cidr": "10.244.0.7/16"}, "10.244.0.0/16")
    assert not block_reaches({"cidr": "10.2.0.0/16"}, "10.244.0.0/16")
    assert not block_reaches({"cidr": "fd00::/8"}, "10.244.0.0/16")


def _network_with(config: dict, graph: list[Node]) -> list[str]:
    """The policy's messages with pack config sent in a Configure request, as the CLI sends it."""
    outcome = analyze_stack(graph, config={NETWORK: config})
    return outcome.messages(NETWORK)


def test_vault_namespaces_and_ranges_from_pack_config_are_honoured():
    egress = [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "secrets-vault"}}}]}]
    graph = [n for n in ai_stack(egress=egress) if not n.name.startswith("Namespace")]
    assert _network_with({}, graph) == []
    messages = _network_with({"vaultNamespaces": ["secrets-vault"]}, graph)
    assert messages and "matches vault zone secrets-vault" in messages[0]
    block = ai_stack(egress=[{"to": [{"ipBlock": {"cidr": "172.16.0.0/12"}}]}])
    assert _network_with({}, block) == []
    assert any("covers pod range 172.20.0.0/16" in m for m in _network_with({"podCidrs": ["172.20.0.0/16"]}, block))


def test_the_ai_network_policy_publishes_its_config_schema_with_defaults():
    policy = next(p for p in __import__("policy_pack.rules", fromlist=["POLICIES"]).POLICIES if p.name == NETWORK)
    properties = policy.config_schema.properties
    assert properties["podCidrs"]["default"] == ["10.244.0.0/16"]
    assert properties["serviceCidrs"]["default"] == ["10.96.0.0/12"]
    assert properties["vaultNamespaces"]["default"] == []


def test_ai_workload_fixture_still_passes_rbac_without_bindings():
    assert analyze_stack(nodes(ai_workload())).messages(RBAC) == []


@pytest.mark.parametrize(("block", "fragment"), [
    ({"cidr": "::0/0"}, 'ipBlock "::0/0" admits any address'),
    ({"cidr": "10.0.0.0/8"}, 'ipBlock "10.0.0.0/8" covers pod range 10.244.0.0/16, so it admits pods of every namespace'),
])
def test_vault_zone_ingress_from_an_ip_block_covering_the_pods_is_refused(block, fragment):
    from .stack_cases import vault_stack

    policy = obj("NetworkPolicy", "from-block", "vault", spec={"podSelector": {}, "ingress": [{"from": [{"ipBlock": block}]}]})
    messages = stack_violations(vault_stack(extra=(policy,)), "vault-zone-ingress-allow-list")
    assert any(fragment in m for m in messages), messages


def test_vault_zone_ingress_from_an_outside_network_or_with_the_pods_cut_out_passes():
    from .stack_cases import vault_stack

    for block in ({"cidr": "192.168.0.0/24"}, {"cidr": "10.0.0.0/8", "except": ["10.244.0.0/16"]}):
        policy = obj("NetworkPolicy", "from-block", "vault", spec={"podSelector": {}, "ingress": [{"from": [{"ipBlock": block}]}]})
        assert stack_violations(vault_stack(extra=(policy,)), "vault-zone-ingress-allow-list") == [], block
    policy = obj("NetworkPolicy", "from-block", "vault", spec={"podSelector": {}, "ingress": [{"from": [
        {"ipBlock": {"cidr": "10.0.0.0/8"}}]}]})
    graph = vault_stack(extra=(policy,))
    assert analyze_stack(graph, config={"vault-zone-ingress-allow-list": {"podCidrs": ["172.16.0.0/16"]}}).messages(
        "vault-zone-ingress-allow-list") == []
