"""Clause 5, K8s-Readiness: health endpoints and resource requests/limits on every pod template."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from pulumi_policy import Severity

from .helpers.access import get, is_mapping, is_set, items, mapping, shown
from .helpers.metadata import pod_template_rule
from .helpers.podspec import Container, PodTemplate, long_running, missing_containers, with_resources
from .helpers.quantity import QuantityError, parse_quantity

CLAUSE = "5"
PROBE_HANDLERS = ("httpGet", "tcpSocket", "grpc", "exec")
RESOURCE_NAMES = ("cpu", "memory")
EXAMPLE_RESOURCES = 'requests cpu "100m" memory "128Mi", limits cpu "500m" memory "256Mi"'


def probe_problem(probe: Any) -> str | None:
    """Why a probe does not count as a health endpoint, or None when it does."""
    if not is_set(probe):
        return "is missing"
    if not is_mapping(probe):
        return "is not an object"
    handlers = [handler for handler in PROBE_HANDLERS if is_mapping(get(probe, handler))]
    if not handlers:
        return "has no handler"
    if len(handlers) > 1:
        return "sets more than one handler (" + ", ".join(handlers) + "); keep exactly one"
    handler = handlers[0]
    action = probe[handler]
    if handler == "exec":
        return None if items(action, "command") else "has an exec handler without a command"
    return None if is_set(get(action, "port")) else f"has a {handler} handler without a port"


def check_probes(template: PodTemplate) -> Iterator[str]:
    # Run-to-completion pods are not kept alive by kubelet restarts, so liveness has no meaning there.
    if template.runs_to_completion:
        return
    yield from missing_containers(template)
    for container in long_running(template):
        for field in ("livenessProbe", "readinessProbe"):
            problem = probe_problem(get(container.spec, field))
            if problem is None:
                continue
            if problem in ("is missing", "is not an object", "has no handler"):
                problem += "; add an httpGet/tcpSocket/grpc/exec probe"
            yield f"{container.where}: {field} {problem}"


def _parsed_section(container: Container, section: str,
                    missing: list[str], errors: list[str]) -> dict[str, Decimal]:
    """Parsed cpu/memory of resources.<section>; records absent and malformed entries."""
    values = {}
    entries: Mapping[str, Any] = mapping(container.spec, "resources", section)
    for resource in RESOURCE_NAMES:
        field = f"resources.{section}.{resource}"
        raw = get(entries, resource)
        if not is_set(raw):
            missing.append(field)
            continue
        try:
            quantity = parse_quantity(raw)
        except QuantityError as error:
            errors.append(f"{container.where}: {field} {error}; write a valid quantity")
            continue
        if quantity <= 0:
            errors.append(f"{container.where}: {field} is {shown(raw)}; set a quantity greater than zero")
            continue
        values[resource] = quantity
    return values


def check_resources(template: PodTemplate) -> Iterator[str]:
    yield from missing_containers(template)
    for container in with_resources(template):
        missing: list[str] = []
        errors: list[str] = []
        requests = _parsed_section(container, "requests", missing, errors)
        limits = _parsed_section(container, "limits", missing, errors)
        if missing:
            yield (f"{container.where}: " + ", ".join(missing) + f" missing; set cpu and memory requests "
                   f"and limits (e.g. {EXAMPLE_RESOURCES})")
        yield from errors
        resources = mapping(container.spec, "resources")
        for resource in RESOURCE_NAMES:
            if resource in requests and resource in limits and limits[resource] < requests[resource]:
                yield (f"{container.where}: resources.limits.{resource} "
                       f"{shown(get(mapping(resources, 'limits'), resource))} is below resources.requests."
                       f"{resource} {shown(get(mapping(resources, 'requests'), resource))}; raise the limit "
                       "to at least the request")


PROBES = pod_template_rule(
    name="k8s-probes-required",
    description="Every long-running container declares liveness and readiness probes.",
    clause=CLAUSE,
    specification="Health-, Readiness-, Liveness-Endpunkte",
    severity=Severity.HIGH,
    remediation=(
        "Add livenessProbe and readinessProbe to every container and native sidecar (init container with "
        "restartPolicy Always), each with exactly one handler: httpGet or grpc or tcpSocket with a port, or "
        "exec with a command. Jobs, CronJobs and Pods with restartPolicy Never/OnFailure are exempt."
    ),
    tags=("k8s-readiness", "probes"),
    check=check_probes,
)

RESOURCES = pod_template_rule(
    name="k8s-resources-required",
    description="Every container sets cpu and memory requests and limits, with each limit at least its request.",
    clause=CLAUSE,
    specification="Resource Requests & Limits",
    severity=Severity.HIGH,
    remediation=(
        "Set resources.requests.cpu, resources.requests.memory, resources.limits.cpu and "
        "resources.limits.memory on every container, init container and sidecar, as valid quantities "
        '(e.g. "250m", "0.5", "512Mi", "1Gi"), each limit greater than or equal to its request.'
    ),
    tags=("k8s-readiness", "resources"),
    check=check_resources,
)

RULES = [PROBES, RESOURCES]
