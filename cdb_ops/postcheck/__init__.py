"""`cdb postcheck`: after a reconcile rollout, is every Flux Kustomization Ready at the expected revision
and every workload of the stack available, each applied by one owner only (Pulumi or Flux, read from
its managedFields)? (CDB_INFRA_POLICY clause 7, step 5.)"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cdb_ops.postcheck.checks import kustomization_problem, ref, shared_ownership_problem, workload_problem
from cdb_ops.postcheck.kube import KubeClient, KubeSettings, KubeUnavailable, resolve_settings

KUSTOMIZATION_API = ("kustomize.toolkit.fluxcd.io/v1", "kustomizations", "Kustomization")
WORKLOAD_APIS = (("apps/v1", "deployments", "Deployment"), ("apps/v1", "statefulsets", "StatefulSet"),
                 ("apps/v1", "daemonsets", "DaemonSet"))
PART_OF = "app.kubernetes.io/part-of"


@dataclass(frozen=True)
class Scope:
    revision: str | None
    flux_namespace: str | None = None
    kustomizations: tuple[str, ...] = ()  # names; empty means every one in scope
    namespaces: tuple[str, ...] = ()
    part_of: str | None = None


@dataclass
class Outcome:
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _listed(client: KubeClient, api: tuple[str, str, str], namespace: str | None,
            selector: str | None) -> list[dict[str, Any]]:
    group_version, plural, kind = api
    # List answers omit kind/apiVersion on items; put them back so reports can name the object.
    return [{**item, "kind": kind, "apiVersion": group_version}
            for item in client.list(group_version, plural, namespace=namespace, label_selector=selector)]


def _kustomizations(client: KubeClient, scope: Scope) -> list[dict[str, Any]]:
    items = _listed(client, KUSTOMIZATION_API, scope.flux_namespace, None)
    if scope.kustomizations:
        found = {item["metadata"]["name"] for item in items}
        missing = [name for name in scope.kustomizations if name not in found]
        items = [item for item in items if item["metadata"]["name"] in scope.kustomizations]
        items += [{"kind": "Kustomization", "metadata": {"name": n, "namespace": scope.flux_namespace},
                   "missing": True} for n in missing]
    return items


def _workloads(client: KubeClient, scope: Scope) -> list[dict[str, Any]]:
    selector = f"{PART_OF}={scope.part_of}" if scope.part_of else None
    namespaces: tuple[str | None, ...] = scope.namespaces or (None,)
    return [item for api in WORKLOAD_APIS for ns in namespaces for item in _listed(client, api, ns, selector)]


def check_once(client: KubeClient, scope: Scope) -> Outcome:
    outcome = Outcome()
    kustomizations = _kustomizations(client, scope)
    workloads = _workloads(client, scope)
    # Fail closed: an empty selection would otherwise report a healthy rollout of nothing.
    if not kustomizations:
        outcome.problems.append(f"no Flux Kustomization found{' in ' + scope.flux_namespace if scope.flux_namespace else ''}: "
                                "nothing reconciles the stack")
    if not workloads:
        outcome.problems.append("no Deployment, StatefulSet or DaemonSet matched the workload selection "
                                "(--namespace / --part-of): nothing to check")
    for obj in kustomizations:
        problem = "not found" if obj.get("missing") else (kustomization_problem(obj, scope.revision)
                                                           or shared_ownership_problem(obj))
        outcome.checked.append(ref(obj))
        if problem:
            outcome.problems.append(f"{ref(obj)}: {problem}")
    for obj in workloads:
        problem = workload_problem(obj) or shared_ownership_problem(obj)
        outcome.checked.append(ref(obj))
        if problem:
            outcome.problems.append(f"{ref(obj)}: {problem}")
    return outcome


def run(client: KubeClient, scope: Scope, wait_seconds: float = 0, poll_seconds: float = 10,
        sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> Outcome:
    """Check, and while there are problems and time is left, check again: Flux needs up to one
    interval to pick a new revision up."""
    deadline = clock() + wait_seconds
    while True:
        outcome = check_once(client, scope)
        if outcome.ok or clock() + poll_seconds > deadline:
            return outcome
        sleep(poll_seconds)


__all__ = ["KubeClient", "KubeSettings", "KubeUnavailable", "Outcome", "Scope", "check_once", "resolve_settings",
           "run"]
