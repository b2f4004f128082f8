"""Kubernetes objects as rules see them: type, metadata, and the graph walks stack rules share.

Stack rules look at hundreds of resources; they filter by type token first (a string, never proxied),
so the properties of unrelated resources are not read and an unknown in them cannot block a verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .access import indexed, items, mapping, text
from .podspec import PodTemplate, find_pod_template, parse_kubernetes_type


@lru_cache(maxsize=4096)
def kind_of(resource_type: str) -> tuple[str, str] | None:
    """(API group, kind) of a Kubernetes object type token, cached: it is asked for every resource and
    policy. None for other providers and for pulumi-kubernetes components (Chart, ConfigGroup)."""
    return parse_kubernetes_type(resource_type)


@dataclass(frozen=True)
class KubeObject:
    """One Kubernetes object of the stack graph (or of a single Analyze request)."""

    group: str
    kind: str
    props: Mapping[str, Any]
    urn: str | None = None

    @property
    def metadata(self) -> Mapping[str, Any]:
        return mapping(self.props, "metadata")

    @property
    def labels(self) -> Mapping[str, Any]:
        return mapping(self.props, "metadata", "labels")

    @property
    def annotations(self) -> Mapping[str, Any]:
        return mapping(self.props, "metadata", "annotations")

    @property
    def name(self) -> str | None:
        return text(self.metadata, "name")

    @property
    def namespace(self) -> str | None:
        return text(self.metadata, "namespace")

    @property
    def spec(self) -> Mapping[str, Any]:
        return mapping(self.props, "spec")

    @property
    def label(self) -> str:
        """How messages name the object: Kind namespace/name."""
        name = self.name or "(unnamed)"
        return f"{self.kind} {self.namespace}/{name}" if self.namespace else f"{self.kind} {name}"

    def pod_template(self, resource_type: str) -> PodTemplate | None:
        return find_pod_template(resource_type, self.props)


def kube_object(resource_type: str, props: Mapping[str, Any], urn: str | None = None) -> KubeObject | None:
    parsed = kind_of(resource_type)
    if parsed is None:
        return None
    return KubeObject(parsed[0], parsed[1], props, urn)


def objects(resources: Sequence[Any], kinds: Iterable[tuple[str, str]] | None = None) -> Iterator[KubeObject]:
    """Kubernetes objects of the graph, optionally only the given (group, kind) pairs."""
    wanted = frozenset(kinds) if kinds is not None else None
    for resource in resources:
        parsed = kind_of(resource.resource_type)
        if parsed is None or (wanted is not None and parsed not in wanted):
            continue
        yield KubeObject(parsed[0], parsed[1], resource.props, resource.urn)


_MISSING = object()


def memo(resource: Any, key: str, compute: Callable[[], Any]) -> Any:
    """A value derived from one graph resource, computed once for all stack rules of a request.

    Several stack rules walk every workload; keeping the parse on the resource object (which lives for
    one AnalyzeStack call) turns their repeated passes into one.
    """
    attribute = f"_cdb_{key}"
    value = getattr(resource, attribute, _MISSING)
    if value is _MISSING:
        value = compute()
        try:
            setattr(resource, attribute, value)
        except AttributeError:  # a resource type that takes no attributes: compute again next time
            pass
    return value


def _workload(resource: Any) -> tuple[KubeObject, PodTemplate] | None:
    parsed = kind_of(resource.resource_type)
    if parsed is None:
        return None
    template = find_pod_template(resource.resource_type, resource.props)
    if template is None:
        return None
    return KubeObject(parsed[0], parsed[1], resource.props, resource.urn), template


def workloads(resources: Sequence[Any]) -> Iterator[tuple[KubeObject, PodTemplate]]:
    """Every object with a pod template, with that template."""
    for resource in resources:
        found = memo(resource, "workload", lambda: _workload(resource))
        if found is not None:
            yield found


def of_type(resources: Sequence[Any], *type_tokens: str) -> Iterator[Any]:
    """Non-Kubernetes resources (pulumi-vault, pulumi-github) by exact type token."""
    for resource in resources:
        if resource.resource_type in type_tokens:
            yield resource


def selector_matches(selector: Any, labels: Mapping[str, Any]) -> bool:
    """Kubernetes label-selector semantics; an empty selector selects everything."""
    for label, value in mapping(selector, "matchLabels").items():
        if labels.get(label) != value:
            return False
    for _, expression in indexed(selector, "matchExpressions", ""):
        key, operator = text(expression, "key"), text(expression, "operator")
        values = items(expression, "values")
        present = key is not None and key in labels
        current = labels[key] if key is not None and present else None
        if operator == "In" and not (present and current in values):
            return False
        if operator == "NotIn" and present and current in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True
