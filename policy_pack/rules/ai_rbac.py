"""Clause 6, KI-Enforcement: no RBAC path from an AI workload's service account to Secrets.

A binding reaches the service account when a subject names it (a RoleBinding's ServiceAccount subject
without namespace means the binding's own), or names a group it belongs to: ``system:serviceaccounts``,
``system:serviceaccounts:<namespace>`` and ``system:authenticated``. The role reads Secrets when a rule
covers the core group ("" or "*"), the resource ("secrets" or "*") and a read verb (get, list, watch or
"*"). Aggregated ClusterRoles are the union of the ClusterRoles in the stack their selectors pick;
built-in roles are known by name; a role neither in the stack nor built in cannot be shown harmless and
counts as a path (fail closed).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import Severity

from .helpers.access import indexed, items, mapping, text
from .ai_isolation import ai_workloads, service_account
from .helpers.metadata import StackRule
from .helpers.objects import KubeObject, objects, selector_matches

RBAC = "rbac.authorization.k8s.io"
BINDINGS = ((RBAC, "RoleBinding"), (RBAC, "ClusterRoleBinding"))
ROLES = ((RBAC, "Role"), (RBAC, "ClusterRole"))
READ = frozenset(("get", "list", "watch", "*"))
# Built-in ClusterRoles that read Secrets (view deliberately does not; system:* roles are not for apps).
BUILTIN_SECRET_READERS = frozenset(("cluster-admin", "admin", "edit"))
BUILTIN_HARMLESS = frozenset(("view",))


def _reads_secrets(rule: Mapping[str, Any]) -> bool:
    groups = items(rule, "apiGroups")
    resources = items(rule, "resources")
    verbs = items(rule, "verbs")
    return (any(g in ("", "*") for g in groups) and any(r in ("secrets", "*") for r in resources)
            and any(v in READ for v in verbs))


def _rules(role: KubeObject, cluster_roles: list[KubeObject], seen: frozenset[str] = frozenset()) -> list[Any]:
    found = [rule for _, rule in indexed(role.props, "rules", "rules")]
    aggregation = mapping(role.props, "aggregationRule")
    for _, selector in indexed(aggregation, "clusterRoleSelectors", ""):
        for other in cluster_roles:
            if other.name not in seen and other is not role and selector_matches(selector, other.labels):
                found += _rules(other, cluster_roles, seen | {role.name or ""})
    return found


def _why_reads(binding: KubeObject, roles: dict[Any, KubeObject], cluster_roles: list[KubeObject]) -> str | None:
    ref = mapping(binding.props, "roleRef")
    kind, name = text(ref, "kind") or "ClusterRole", text(ref, "name") or ""
    namespace = binding.namespace if kind == "Role" else None
    role = roles.get((kind, namespace, name))
    if role is not None:
        return f"{kind} {name} lets it read Secrets" if any(_reads_secrets(r) for r in _rules(role, cluster_roles)) \
            else None
    if kind == "ClusterRole" and name in BUILTIN_SECRET_READERS:
        return f"built-in ClusterRole {name} lets it read Secrets"
    if kind == "ClusterRole" and name in BUILTIN_HARMLESS:
        return None
    return f"{kind} {name or '(unnamed)'} is not in the stack, so it cannot be shown not to read Secrets"


def _reaches(binding: KubeObject, namespace: str | None, account: str) -> str | None:
    """How the binding's subjects include the service account, or None."""
    for _, subject in indexed(binding.props, "subjects", "subjects"):
        kind, name = text(subject, "kind"), text(subject, "name") or ""
        if kind == "ServiceAccount":
            subject_ns = text(subject, "namespace") or binding.namespace
            if name == account and subject_ns == namespace:
                return f"ServiceAccount {namespace}/{account}"
        elif kind == "Group" and name in ("system:serviceaccounts", f"system:serviceaccounts:{namespace}",
                                          "system:authenticated"):
            return f"Group {name}"
    return None


def check_ai_rbac(resources: Sequence[Any]) -> Iterator[tuple[str, str | None]]:
    workloads = ai_workloads(resources)
    if not workloads:
        return
    all_roles = list(objects(resources, ROLES))
    roles = {(r.kind, r.namespace if r.kind == "Role" else None, r.name): r for r in all_roles}
    cluster_roles = [r for r in all_roles if r.kind == "ClusterRole"]
    bindings = list(objects(resources, BINDINGS))
    for workload, template in workloads:
        account = service_account(template)
        for binding in bindings:
            via = _reaches(binding, workload.namespace, account)
            if via is None:
                continue
            why = _why_reads(binding, roles, cluster_roles)
            if why:
                yield (f"{binding.label}: binds {via}, used by AI {workload.label}; {why}. Bind the AI service "
                       "account to no role that reads Secrets", binding.urn)


AI_RBAC = StackRule(
    name="ai-no-secret-rbac",
    description="No RBAC binding lets an AI workload's service account read Secrets.",
    clause="6",
    specification="KI-Container ohne Secret-Zugriff.",
    severity=Severity.CRITICAL,
    remediation=(
        "Remove the AI workload's ServiceAccount (and the groups system:serviceaccounts, "
        "system:serviceaccounts:<namespace>, system:authenticated) from every RoleBinding/ClusterRoleBinding "
        "whose role grants get/list/watch on secrets (directly, by \"*\", through an aggregated ClusterRole, "
        "or built-in admin/edit/cluster-admin); give it a dedicated role without Secrets."
    ),
    tags=("secrets", "ai", "rbac"),
    check=check_ai_rbac,
)

RULES = [AI_RBAC]
