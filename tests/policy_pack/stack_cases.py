"""Compliant small stacks (graphs) and ways to break them, for the stack policies of clauses 2-7.

Each builder returns a fresh list of nodes that passes every stack policy; tests break one thing.
"""

from __future__ import annotations

from typing import Any

from .harness import Node
from .objects import (
    ai_workload, declaration, default_deny, nodes, obj, redis, stream, vault_namespace,
)
from .fixtures import container, pod_spec, workload
from .system_cases import SYSTEM_CASES, complete

GITHUB_REPO = "github:index/repository:Repository"
GITHUB_PROTECTION = "github:index/branchProtection:BranchProtection"
GITHUB_PROTECTION_V3 = "github:index/branchProtectionV3:BranchProtectionV3"
VAULT_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole"


def flux_objects(namespace: str = "flux-system") -> list[tuple[str, dict[str, Any]]]:
    return [
        obj("GitRepository", "platform", namespace, spec={"url": "https://git.example/cdb/platform.git",
                                                          "interval": "1m", "ref": {"branch": "main"}}),
        obj("Kustomization", "platform", namespace, spec={"interval": "5m", "prune": True, "path": "./clusters/dev",
                                                          "sourceRef": {"kind": "GitRepository", "name": "platform"}}),
        obj("HelmRelease", "nats", namespace, spec={"interval": "5m", "driftDetection": {"mode": "enabled"},
                                                    "chart": {"spec": {"chart": "nats", "interval": "5m"}}}),
    ]


def flux_alerting(namespace: str = "flux-system", provider_type: str = "nats",
                  sources: list[dict] | None = None, severity: str = "info") -> list[tuple[str, dict[str, Any]]]:
    sources = sources if sources is not None else [
        {"kind": kind, "name": "*"} for kind in ("GitRepository", "Kustomization", "HelmRelease")]
    return [
        obj("Provider", "audit", namespace, spec={"type": provider_type, "address": "nats://nats.bus:4222",
                                                  "channel": "flux.v1.events"}),
        obj("Alert", "audit", namespace, spec={"providerRef": {"name": "audit"}, "eventSeverity": severity,
                                               "eventSources": sources}),
    ]


def flux_stack(**alerting: Any) -> list[Node]:
    return nodes(*flux_objects(), *flux_alerting(**alerting))


def rbac_stack(verbs: list[str] | None = None, subject_kind: str = "Group", role_ref: dict | None = None,
               annotations: dict | None = None) -> list[Node]:
    role = obj("ClusterRole", "platform-reader", None,
               rules=[{"apiGroups": ["*"], "resources": ["*"], "verbs": verbs or ["get", "list", "watch"]}])
    binding = obj("ClusterRoleBinding", "platform-readers", None, annotations=annotations,
                  roleRef=role_ref or {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                       "name": "platform-reader"},
                  subjects=[{"kind": subject_kind, "name": "platform-team",
                             "apiGroup": "rbac.authorization.k8s.io"}])
    return nodes(role, binding)


def backbone_stack(phase: str = "dual-write", environment: str = "prod", **redis_args: Any) -> list[Node]:
    data = {"environment": environment, "migration-phase": phase}
    if phase == "redis-only":
        data.update({"redis-sunset": "2999-12-31", "redis-sunset-docs": "https://docs.example/redis-sunset"})
    return nodes(declaration(**data), redis(**redis_args), stream())


def vault_stack(extra: tuple = ()) -> list[Node]:
    vault = workload("StatefulSet", pod_spec(container(name="vault", image="hashicorp/vault:2.0.4",
                                                       args=["server", "-config=/vault/config/vault.hcl"])),
                     metadata={"name": "vault", "namespace": "vault"})
    allow = obj("NetworkPolicy", "allow-clients", "vault", spec={
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "vault"}}, "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "secrets"}},
                               "podSelector": {"matchLabels": {"app.kubernetes.io/name": "vso"}}}],
                     "ports": [{"port": 8200}]}]})
    return nodes(vault_namespace(), default_deny("vault"), vault, allow, *extra)


def ai_stack(egress: list[dict] | None = None, sa_automount: bool | None = False,
             extra: tuple = ()) -> list[Node]:
    account_fields = {} if sa_automount is None else {"automountServiceAccountToken": sa_automount}
    account = obj("ServiceAccount", "assistant", "ai", **account_fields)
    egress = egress if egress is not None else [
        {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "bus"}}}],
         "ports": [{"port": 4222}]}]
    policy = obj("NetworkPolicy", "assistant-egress", "ai", spec={
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "assistant"}}, "policyTypes": ["Egress"],
        "egress": egress})
    return nodes(vault_namespace(), default_deny("vault", ("Ingress",)), ai_workload(), account,
                 default_deny("ai", ("Egress",)), policy, *extra)


def vault_role(names: list[str], namespaces: list[str]) -> Node:
    return Node(VAULT_ROLE, {"backend": "kubernetes", "roleName": "app", "boundServiceAccountNames": names,
                             "boundServiceAccountNamespaces": namespaces, "tokenPolicies": ["app"]}, "app-role")


def governed_repository(auto_merge: Any = False, **protection: Any) -> list[Node]:
    repo = Node(GITHUB_REPO, {"name": "cdb-infra", "visibility": "private", "allowAutoMerge": auto_merge}, "repo")
    props = {"repositoryId": "04da6b54-80e4-46f7-96ec-b56ff0331ba9", "pattern": "main", "enforceAdmins": True,
             "allowsForcePushes": False,
             "requiredPullRequestReviews": [{"requiredApprovingReviewCount": 1, "dismissStaleReviews": True}],
             "requiredStatusChecks": [{"strict": True, "contexts": ["tests", "policy-preview"]}]}
    props.update(protection)
    guard = Node(GITHUB_PROTECTION, props, "repo-main", parent="repo", dependencies=["repo"],
                 property_dependencies={"repositoryId": ["repo"]})
    return [repo, guard]


def kafka_topic(replicas: int, insync: int) -> tuple[str, dict[str, Any]]:
    token, props = obj("Stream", "audit", "kafka", spec={"topicName": "audit", "partitions": 3, "replicas": replicas,
                                                         "config": {"min.insync.replicas": insync}})
    props.update(apiVersion="kafka.strimzi.io/v1beta2", kind="KafkaTopic")
    return "kubernetes:kafka.strimzi.io/v1beta2:KafkaTopic", props


def _human_write() -> list[Node]:
    return rbac_stack(role_ref={"kind": "ClusterRole", "name": "edit"})


STACK_CASES: dict[str, dict[str, list[tuple[str, Any, str]]]] = {
    # policy -> {"pass"/"fail": [(label, builder, expected fragment)]}
    "k8s-no-human-write-rbac": {
        "pass": [("group bound to a read-only role of the stack", rbac_stack, "")],
        "fail": [("group bound to built-in edit", _human_write,
                  "ClusterRoleBinding platform-readers: roleRef built-in ClusterRole edit grants write, bound to "
                  "Group platform-team")],
    },
    "flux-drift-events-persisted": {
        "pass": [("alert on every kind to a nats provider", flux_stack, "")],
        "fail": [("alert to slack", lambda: flux_stack(provider_type="slack"),
                  'Alert flux-system/audit sends to Provider flux-system/audit of type "slack", which does not '
                  "persist events")],
    },
    "redis-transport-only": {
        "pass": [("redis with save and AOF off", backbone_stack, "")],
        "fail": [("redis with AOF", lambda: backbone_stack(args=["--appendonly", "yes", "--save", ""]),
                  'Deployment bus/redis: spec.template.spec.containers[0] (name "redis"): appendonly is yes (AOF)')],
    },
    "redis-not-an-audit-sink": {
        "pass": [("flux provider on nats", flux_stack, "")],
        "fail": [("flux provider on redis", lambda: nodes(
            obj("Provider", "audit", "flux-system", spec={"type": "generic", "address": "redis://redis.bus:6379"})),
                  'Provider flux-system/audit: spec.address "redis://redis.bus:6379" points at Redis')],
    },
    "jetstream-stream-replicas": {
        "pass": [("three replicas", lambda: nodes(stream()), "")],
        "fail": [("one replica outside dev", lambda: nodes(stream(replicas=1)),
                  "Stream bus/orders: spec.replicas is 1 (NACK default 1) in a stack not declared dev")],
    },
    "event-backbone-migration-phase": {
        "pass": [("dual-write with a stream", backbone_stack, "")],
        "fail": [("jetstream phase with redis", lambda: backbone_stack(phase="jetstream"),
                  "Deployment bus/redis runs Redis but ConfigMap cdb-system/cdb-stack declares migration-phase "
                  "jetstream; remove Redis")],
    },
    "vault-zone-vault-only": {
        "pass": [("vault only", vault_stack, "")],
        "fail": [("a web app in the vault zone", lambda: vault_stack(extra=(
            workload("Deployment", metadata={"name": "web", "namespace": "vault"}),)),
                  "Deployment vault/web: spec.template.spec.containers[0] (name \"web\") runs "
                  '"registry.example:5000/cdb/web:1.4.2" in the vault zone')],
    },
    "vault-zone-ingress-allow-list": {
        "pass": [("default deny plus a named client", vault_stack, "")],
        "fail": [("ingress from every namespace", lambda: vault_stack(extra=(obj(
            "NetworkPolicy", "open", "vault", spec={"podSelector": {}, "ingress": [{"from": [
                {"namespaceSelector": {}}]}]}),)),
                  "NetworkPolicy vault/open: spec.ingress[0].from[0]: namespaceSelector {} admits every namespace")],
    },
    "ai-no-service-account-token": {
        "pass": [("pod and account without token", ai_stack, "")],
        "fail": [("pod unset and account mounts", lambda: nodes(
            ai_workload(automount=None), obj("ServiceAccount", "assistant", "ai")),
                  "Deployment ai/assistant: pod mounts a service-account token (ServiceAccount assistant does not "
                  "set automountServiceAccountToken: false)")],
    },
    "ai-no-vault-role": {
        "pass": [("vault role for another account", lambda: ai_stack(extra=(vault_role(["web"], ["apps"]),)), "")],
        "fail": [("vault role bound to the AI account", lambda: ai_stack(extra=(vault_role(["assistant"], ["ai"]),)),
                  'Vault role "app" binds ServiceAccount ai/assistant of AI Deployment ai/assistant')],
    },
    "ai-no-vault-network-path": {
        "pass": [("egress to the bus only", ai_stack, "")],
        "fail": [("egress to every namespace", lambda: ai_stack(egress=[{"to": [{"namespaceSelector": {}}]}]),
                  "NetworkPolicy ai/assistant-egress: spec.egress[0] to[0].namespaceSelector matches vault zone vault")],
    },
    "ai-no-secret-rbac": {
        "pass": [("ai account bound to view", lambda: ai_stack(extra=(obj(
            "RoleBinding", "assistant-view", "ai", roleRef={"kind": "ClusterRole", "name": "view"},
            subjects=[{"kind": "ServiceAccount", "name": "assistant", "namespace": "ai"}]),)), "")],
        "fail": [("ai account bound to edit", lambda: ai_stack(extra=(obj(
            "RoleBinding", "assistant-edit", "ai", roleRef={"kind": "ClusterRole", "name": "edit"},
            subjects=[{"kind": "ServiceAccount", "name": "assistant"}]),)),
                  "RoleBinding ai/assistant-edit: binds ServiceAccount ai/assistant, used by AI Deployment "
                  "ai/assistant; built-in ClusterRole edit lets it read Secrets")],
    },
    "kafka-audit-topic-replicated": {
        "pass": [("three copies, two in sync", lambda: nodes(declaration(environment="prod"), kafka_topic(3, 2)), "")],
        "fail": [("one copy in prod", lambda: nodes(declaration(environment="prod"), kafka_topic(1, 1)),
                  "KafkaTopic kafka/audit: audit topic in a stack not declared dev")],
    },
    "jetstream-duplicate-window": {
        "pass": [("window covers the horizon", lambda: backbone_stack(), "")],
        "fail": [("window shorter than the declared horizon", lambda: nodes(
            declaration(**{"migration-phase": "dual-write", "dual-write-retry-horizon": "10m"}), redis(), stream()),
                  "Stream bus/orders: spec.duplicateWindow \"2m\" is shorter than the dual-write's retry horizon 10m")],
    },
    "github-repository-governed": {
        "pass": [("protected main, auto-merge off", governed_repository, "")],
        "fail": [("auto-merge allowed", lambda: governed_repository(auto_merge=True),
                  "Repository cdb-infra: allowAutoMerge is true; set allowAutoMerge: false")],
    },
}


def _completed(build: Any) -> Any:
    # Passing stacks pass every stack policy, the whole-system ones included: give them what they refer to.
    return lambda: complete(build())


for _table in STACK_CASES.values():
    _table["pass"] = [(label, _completed(build), expect) for label, build, expect in _table["pass"]]
STACK_CASES.update(SYSTEM_CASES)
