"""Whole system, capacity: per namespace, the pods the stack will run fit its ResourceQuota.

Counted like the quota admission controller counts them: a pod's effective request and limit of each
resource is the larger of its app containers plus native sidecars and its largest init container (plus
the sidecars started before it); requests default to limits, then to the namespace LimitRange's
``defaultRequest``/``default``; a pod missing a value the quota tracks is refused outright. Every
workload is counted at its replicas plus the surge its rollout strategy adds (Deployments' maxSurge,
25% by default; Recreate and StatefulSets add none), because Pulumi and Flux roll independent workloads
at the same time. Operators' pods (Flux controllers at the FluxInstance size profile) are included.
DaemonSets depend on the node count and are not counted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from pulumi_policy import Severity

from .helpers.access import get, items, mapping, text
from .helpers.metadata import StackRule
from .helpers.objects import KubeObject, objects
from .helpers.operators import RunPod, stack_pods
from .helpers.podspec import containers
from .helpers.quantity import QuantityError, parse_quantity

QUOTA = (("core", "ResourceQuota"),)
LIMIT_RANGE = (("core", "LimitRange"),)
# Quota keys and the (kind, resource) of a pod they count; "cpu"/"memory" are synonyms of requests.*.
TRACKED = {"requests.cpu": ("requests", "cpu"), "cpu": ("requests", "cpu"),
           "requests.memory": ("requests", "memory"), "memory": ("requests", "memory"),
           "limits.cpu": ("limits", "cpu"), "limits.memory": ("limits", "memory")}
RESOURCES = (("requests", "cpu"), ("requests", "memory"), ("limits", "cpu"), ("limits", "memory"))


def shown_quantity(resource: str, value: Decimal) -> str:
    if resource == "cpu":
        milli = value * 1000
        return f"{value.normalize():f}" if milli % 1000 == 0 else f"{milli.normalize():f}m"
    mib = value / 2**20
    return f"{(mib / 1024).normalize():f}Gi" if mib % 1024 == 0 else f"{mib.quantize(Decimal('1')):f}Mi"


def _defaults(limit_ranges: list[KubeObject]) -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    for limit_range in limit_ranges:
        for entry in items(limit_range.spec, "limits"):
            if text(entry, "type") != "Container":
                continue
            for resource in ("cpu", "memory"):
                if ("limits", resource) not in found and get(mapping(entry, "default"), resource) is not None:
                    found[("limits", resource)] = get(mapping(entry, "default"), resource)
                if ("requests", resource) not in found and get(mapping(entry, "defaultRequest"), resource) is not None:
                    found[("requests", resource)] = get(mapping(entry, "defaultRequest"), resource)
    return found


def _container_value(spec: Mapping[str, Any], kind: str, resource: str, defaults: Mapping[tuple[str, str], Any]) -> Decimal | None:
    resources = mapping(spec, "resources")
    raw = get(mapping(resources, kind), resource)
    if raw is None and kind == "requests":
        raw = get(mapping(resources, "limits"), resource)  # the API defaults requests to limits
    if raw is None and kind == "requests":
        raw = defaults.get(("requests", resource))
        if raw is None and get(mapping(resources, "limits"), resource) is None:
            raw = defaults.get(("limits", resource))  # LimitRanger sets the limit, then the request from it
    if raw is None:
        raw = defaults.get((kind, resource))
    return None if raw is None else parse_quantity(raw)


def pod_value(pod: RunPod, kind: str, resource: str, defaults: Mapping[tuple[str, str], Any]) -> tuple[Decimal | None, str | None]:
    """(effective value, None) or (None, container path that lacks it)."""
    pod_level = get(mapping(pod.template.spec, "resources", kind), resource)
    if pod_level is not None:
        return parse_quantity(pod_level), None
    regular = Decimal(0)
    peak_init = Decimal(0)
    sidecars = Decimal(0)
    for container in containers(pod.template, ("container", "initContainer")):
        value = _container_value(container.spec, kind, resource, defaults)
        if value is None:
            return None, container.where
        if container.role == "container":
            regular += value
        elif container.is_sidecar:
            sidecars += value
        else:
            peak_init = max(peak_init, value + sidecars)
    return max(regular + sidecars, peak_init), None


def _applies(quota: KubeObject, pod: RunPod, best_effort: bool) -> bool:
    terminating = get(pod.template.spec, "activeDeadlineSeconds") is not None
    scopes: list[str | None] = [s for s in items(quota.spec, "scopes") if isinstance(s, str)]
    scopes += [text(e, "scopeName") for e in items(mapping(quota.spec, "scopeSelector"), "matchExpressions")
               if text(e, "operator") in ("Exists", None)]
    rules = {"Terminating": terminating, "NotTerminating": not terminating, "BestEffort": best_effort,
             "NotBestEffort": not best_effort}
    # Scopes it cannot evaluate offline (PriorityClass, CrossNamespacePodAffinity) count the pod: fail closed.
    return all(rules.get(scope or "", True) for scope in scopes)


def check_capacity(resources: Sequence[Any]) -> Iterator[tuple[str, str | None]]:
    quotas = list(objects(resources, QUOTA))
    if not quotas:
        return
    limit_ranges: dict[str, list[KubeObject]] = {}
    for limit_range in objects(resources, LIMIT_RANGE):
        limit_ranges.setdefault(limit_range.namespace or "default", []).append(limit_range)
    pods = [p for p in stack_pods(resources) if p.workload.kind != "DaemonSet"]
    for quota in quotas:
        namespace = quota.namespace or "default"
        defaults = _defaults(limit_ranges.get(namespace, []))
        hard = mapping(quota.spec, "hard")
        totals: dict[tuple[str, str], Decimal] = {key: Decimal(0) for key in RESOURCES}
        steady: dict[tuple[str, str], Decimal] = {key: Decimal(0) for key in RESOURCES}
        shares: dict[tuple[str, str], list[tuple[Decimal, str]]] = {key: [] for key in RESOURCES}
        pod_count = steady_count = 0
        for pod in pods:
            if (pod.workload.namespace or "default") != namespace:
                continue
            values: dict[tuple[str, str], Decimal | None] = {}
            try:
                for key in RESOURCES:
                    values[key], missing = pod_value(pod, *key, defaults)
                    tracked = [k for k, v in TRACKED.items() if v == key and k in hard]
                    if missing and tracked:
                        yield (f"{pod.label}: {missing} sets no {key[0]}.{key[1]} and no LimitRange of namespace "
                               f"{namespace} defaults it, so {quota.label} ({tracked[0]}) refuses the pod; set it",
                               pod.urn)
            except QuantityError as error:
                yield f"{pod.label}: {error}; fix the quantity", pod.urn
                continue
            best_effort = all(not values.get(key) for key in RESOURCES)
            if not _applies(quota, pod, best_effort):
                continue
            copies = pod.replicas + pod.surge
            pod_count += copies
            steady_count += pod.replicas
            for key in RESOURCES:
                value = values.get(key) or Decimal(0)
                totals[key] += value * copies
                steady[key] += value * pod.replicas
                if value:
                    shares[key].append((value * copies, f"{pod.label} {copies} pod(s) x {shown_quantity(key[1], value)}"))
        for name, raw in hard.items():
            try:
                if name == "pods":
                    limit = parse_quantity(raw)
                    if pod_count > limit:
                        yield (f"{quota.label}: pods {raw} is below the {pod_count} pods the stack runs at peak "
                               f"({steady_count} steady plus rollout surge); raise it to at least {pod_count}",
                               quota.urn)
                    continue
                if name not in TRACKED:
                    continue
                key = TRACKED[name]
                limit = parse_quantity(raw)
            except QuantityError as error:
                yield f"{quota.label}: spec.hard.{name}: {error}", quota.urn
                continue
            if totals[key] > limit:
                biggest = ", ".join(text_ for _, text_ in sorted(shares[key], key=lambda s: -s[0])[:6])
                need = shown_quantity(key[1], totals[key])
                yield (f"{quota.label}: {name} {shown_quantity(key[1], limit)} is below the {need} the pods of namespace "
                       f"{namespace} need at peak (steady {shown_quantity(key[1], steady[key])}, plus rollout surge): "
                       f"{biggest}; raise {name} to at least {need} or lower the pods' {key[0]}", quota.urn)


CAPACITY = StackRule(
    name="system-quota-fits",
    description="Per namespace, the requests, limits and pod count of every pod the stack runs fit the ResourceQuota.",
    clause="5",
    specification="Resource Requests & Limits",
    severity=Severity.HIGH,
    remediation=(
        "Size each namespace's ResourceQuota (requests.cpu, requests.memory, limits.cpu, limits.memory, pods) for "
        "all its pods at peak: replicas plus the rollout surge of each Deployment, the pods operators create "
        "(Flux controllers at the FluxInstance's cluster.size profile), init containers and sidecars; or lower "
        "the pods' resources."
    ),
    tags=("resources", "whole-system"),
    check=check_capacity,
)

RULES = [CAPACITY]
