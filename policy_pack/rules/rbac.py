"""Clause 2.2: no direct write access to runtime systems for people.

A RoleBinding or ClusterRoleBinding may give human users and groups read only (get, list, watch);
write belongs to the GitOps controller and the pipeline identity, which are ServiceAccounts. The role
a binding names is looked up in the stack graph; the built-in roles are known by name; a role that is
neither cannot be shown to be read-only and is rejected (fail closed). A binding carrying a complete,
unexpired break-glass marker (clause 2.4) is the documented exception.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from pulumi_policy import Severity

from .helpers.access import indexed, items, mapping, text
from .breakglass import LIFETIME_CONFIG, lifetime_hours, valid_marker
from .helpers.metadata import StackRule
from .helpers.objects import KubeObject, objects

RBAC = "rbac.authorization.k8s.io"
BINDINGS = ((RBAC, "RoleBinding"), (RBAC, "ClusterRoleBinding"))
ROLES = ((RBAC, "Role"), (RBAC, "ClusterRole"))
READ_VERBS = frozenset(("get", "list", "watch"))
BUILTIN_WRITE = ("cluster-admin", "admin", "edit")
BUILTIN_READ = ("view",)
HUMAN_KINDS = ("User", "Group")


def _humans(binding: KubeObject) -> list[str]:
    """Subjects that are people: users and groups outside the reserved system: names."""
    found = []
    for _, subject in indexed(binding.props, "subjects", "subjects"):
        kind, name = text(subject, "kind"), text(subject, "name") or ""
        if kind in HUMAN_KINDS and not name.startswith("system:"):
            found.append(f"{kind} {name}")
    return found


def write_verbs(role: KubeObject) -> list[str]:
    """Verbs beyond get/list/watch a role grants; aggregated roles are unknowable here."""
    if mapping(role.props, "aggregationRule"):
        return ["(aggregated: rules are assembled at run time)"]
    verbs = []
    for _, rule in indexed(role.props, "rules", "rules"):
        for verb in items(rule, "verbs"):
            if verb not in READ_VERBS and verb not in verbs:
                verbs.append(str(verb))
    return verbs


def _find_role(roles: dict[tuple[str, str | None, str], KubeObject], binding: KubeObject,
               kind: str, name: str) -> KubeObject | None:
    namespace = binding.namespace if kind == "Role" else None
    return roles.get((kind, namespace, name))


def _why_write(binding: KubeObject, roles: dict[Any, KubeObject]) -> str | None:
    """Why the binding's role is not read-only, or None when it is."""
    ref = mapping(binding.props, "roleRef")
    kind, name = text(ref, "kind") or "ClusterRole", text(ref, "name") or ""
    role = _find_role(roles, binding, kind, name)
    if role is not None:
        verbs = write_verbs(role)
        return f"{kind} {name} grants {', '.join(verbs)}" if verbs else None
    if kind == "ClusterRole" and name in BUILTIN_WRITE:
        return f"built-in ClusterRole {name} grants write"
    if kind == "ClusterRole" and name in BUILTIN_READ:
        return None
    return f"{kind} {name or '(unnamed)'} is not in the stack, so it cannot be shown to be read-only"


def check_human_write(resources: Sequence[Any], config: Any = None) -> Iterator[tuple[str, str | None]]:
    hours = lifetime_hours(config)
    roles = {(role.kind, role.namespace if role.kind == "Role" else None, role.name): role
             for role in objects(resources, ROLES)}
    for binding in objects(resources, BINDINGS):
        humans = _humans(binding)
        if not humans:
            continue
        why = _why_write(binding, roles)
        if why is None or valid_marker(binding.annotations, hours):
            continue
        yield (f"{binding.label}: roleRef {why}, bound to {', '.join(humans)}; bind people to a role with "
               "only get/list/watch (e.g. ClusterRole view) and leave write to the GitOps controller and the "
               "pipeline ServiceAccounts", binding.urn)


HUMAN_WRITE = StackRule(
    name="k8s-no-human-write-rbac",
    description="Role bindings give human users and groups read access only.",
    clause="2.2",
    specification="Keine direkten Schreibrechte auf Runtime-Systeme.",
    severity=Severity.HIGH,
    remediation=(
        "Bind User and Group subjects only to roles whose rules use the verbs get, list and watch (the "
        "built-in ClusterRole view, or a Role/ClusterRole defined in the stack). Write access belongs to "
        "ServiceAccounts of the GitOps controller and the pipeline. Emergency access carries a complete "
        "break-glass marker (clause 2.4) and expires."
    ),
    tags=("gitops", "rbac"),
    check=check_human_write,
    config=LIFETIME_CONFIG,
)

RULES = [HUMAN_WRITE]
