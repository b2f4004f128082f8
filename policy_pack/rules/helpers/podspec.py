"""The one place that knows where workloads keep their pod spec, and how to walk its containers.

Every pod-level rule goes through ``find_pod_template``. The core kinds are known by name; every other
Kubernetes object (Argo Rollouts, Knative Services, OpenKruise CloneSets, KEDA ScaledJobs, operators'
own workload kinds) is searched by shape: a pod template is where containers with images are, at
``spec.template``, ``spec.jobTemplate.spec.template``, ``template`` or the object's own ``spec``. Field paths are the manifest paths (``spec.template.spec.containers[0]``) so messages point
at the line a user has to change, in a Pulumi program and in a plain manifest alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .access import get, indexed, mapping, text

# (API group, kind) -> keys from the object to its pod template; () means the object is the pod itself.
_TEMPLATE_KEYS: dict[tuple[str, str], tuple[str, ...]] = {
    ("core", "Pod"): (),
    ("core", "ReplicationController"): ("spec", "template"),
    ("apps", "Deployment"): ("spec", "template"),
    ("apps", "StatefulSet"): ("spec", "template"),
    ("apps", "DaemonSet"): ("spec", "template"),
    ("apps", "ReplicaSet"): ("spec", "template"),
    # Removed upstream but still typed in pulumi-kubernetes; closing the old group closes a bypass.
    ("extensions", "Deployment"): ("spec", "template"),
    ("extensions", "DaemonSet"): ("spec", "template"),
    ("extensions", "ReplicaSet"): ("spec", "template"),
    ("batch", "Job"): ("spec", "template"),
    ("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template"),
    ("core", "PodTemplate"): ("template",),
}
# Kubernetes' own API groups: their kinds are all known, so only the table above holds pod templates there
# (deciding by type keeps the many ConfigMaps, Services and RBAC objects of a stack off the pod rules).
_BUILTIN_GROUPS = frozenset((
    "core", "apps", "batch", "extensions", "autoscaling", "policy", "rbac.authorization.k8s.io",
    "networking.k8s.io", "storage.k8s.io", "scheduling.k8s.io", "node.k8s.io", "coordination.k8s.io",
    "discovery.k8s.io", "events.k8s.io", "certificates.k8s.io", "admissionregistration.k8s.io",
    "apiextensions.k8s.io", "apiregistration.k8s.io", "flowcontrol.apiserver.k8s.io", "resource.k8s.io",
    "authentication.k8s.io", "authorization.k8s.io", "internal.apiserver.k8s.io", "storagemigration.k8s.io",
))

_RUN_TO_COMPLETION_KINDS = ("Job", "CronJob")

# Where other kinds keep a pod template, tried in order (keys from the object to the template; () means
# the object's own spec is a pod spec, as in Knative Revisions). Job-shaped ones run to completion.
_SHAPES: tuple[tuple[tuple[str, ...], bool], ...] = (
    (("spec", "template"), False),  # Rollout, Knative Service/Configuration, CloneSet, Advanced StatefulSet
    (("spec", "jobTemplate", "spec", "template"), True),  # KEDA ScaledJob, CronJob look-alikes
    (("spec", "jobTemplate"), True),
    (("template",), False),  # PodTemplate look-alikes
    ((), False),
)
_NOT_OBJECTS = ("helm.sh", "yaml", "kustomize")  # pulumi-kubernetes components, not cluster objects


# The module of an object's type token is `<group>/<version>` (`core/v1` for the core group). A module
# without a version (`yaml:ConfigFile`, `kustomize:Directory`) is a component of the provider, never the
# core group; `helm.sh`, `yaml` and `kustomize` with a version (`helm.sh/v3:Chart`, `yaml/v2:ConfigGroup`)
# are the provider's machinery, not objects the API server stores (no real API group lacks a dot
# except the built-in ones, so no CRD can take these names).
_NOT_API_GROUPS = frozenset({"helm.sh", "yaml", "kustomize"})


@lru_cache(maxsize=4096)
def parse_kubernetes_type(resource_type: str) -> tuple[str, str] | None:
    """("apps", "Deployment") for "kubernetes:apps/v1:Deployment"; None for non-Kubernetes types and
    for the provider's components (ConfigFile, ConfigGroup, Chart, Release, Directory)."""
    parts = resource_type.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes" or not parts[2]:
        return None
    group, slash, version = parts[1].partition("/")
    if not slash or not group or not version or "/" in version or group in _NOT_API_GROUPS:
        return None
    return group, parts[2]


def is_pod_template_type(resource_type: str) -> bool:
    """A kind known to carry a pod template (others may, by shape: see ``find_pod_template``)."""
    return parse_kubernetes_type(resource_type) in _TEMPLATE_KEYS


def may_hold_pod_template(resource_type: str) -> bool:
    """A known workload kind, or any object of another API group (whose shape then decides)."""
    parsed = parse_kubernetes_type(resource_type)
    if parsed is None or parsed[0] in _NOT_OBJECTS:
        return False
    return parsed in _TEMPLATE_KEYS or parsed[0] not in _BUILTIN_GROUPS


@dataclass(frozen=True)
class PodTemplate:
    """A pod spec found inside a workload, with the paths needed to name its fields."""

    kind: str
    spec: Mapping[str, Any]
    path: str
    metadata: Mapping[str, Any]
    metadata_path: str
    owner_metadata: Mapping[str, Any]
    owner_spec: Mapping[str, Any]
    # Found by shape under a jobTemplate: the pods end by design, like a Job's.
    job_shaped: bool = False
    # Container lists already worked out, by roles; None (not kept) unless the template lives in a
    # request's memo, where nothing can change under it (see `find_pod_template`).
    known_containers: dict[tuple[str, ...], tuple[Container, ...]] | None = field(
        default=None, compare=False, repr=False, hash=False
    )

    @property
    def runs_to_completion(self) -> bool:
        """Jobs and CronJobs, and bare Pods that are not restarted, end by design: no probes needed."""
        if self.kind in _RUN_TO_COMPLETION_KINDS or self.job_shaped:
            return True
        if self.kind == "Pod":
            return text(self.spec, "restartPolicy") in ("Never", "OnFailure")
        return False

    @property
    def is_windows(self) -> bool:
        """Pods declared for Windows nodes, where Linux-only security fields are rejected by the API."""
        return text(mapping(self.spec, "os"), "name") == "windows"


@dataclass(frozen=True)
class Container:
    """One container of a pod spec: role is "container", "initContainer" or "ephemeralContainer"."""

    role: str
    path: str
    name: str | None
    spec: Mapping[str, Any]

    @property
    def is_sidecar(self) -> bool:
        """A native sidecar: an init container that keeps running (restartPolicy Always)."""
        return self.role == "initContainer" and text(self.spec, "restartPolicy") == "Always"

    @property
    def where(self) -> str:
        named = f'name "{self.name}"' if self.name else "no name"
        kind = ", native sidecar" if self.is_sidecar else ""
        return f"{self.path} ({named}{kind})"


def find_pod_template(resource_type: str, props: Mapping[str, Any]) -> PodTemplate | None:
    """The pod template of a workload, or None when the type has none.

    The pack's server hands every policy of one request the same read-only properties with a `memo`
    (server.RequestProps), so the template is found once per request, not once per policy.
    """
    memo = getattr(props, "memo", None)
    if type(memo) is not dict:
        return _find_pod_template(resource_type, props)
    key = ("pod-template", resource_type)
    if key not in memo:
        memo[key] = _find_pod_template(resource_type, props, known_containers={})
    found: PodTemplate | None = memo[key]
    return found


def _find_pod_template(resource_type: str, props: Mapping[str, Any],
                       known_containers: dict[Any, Any] | None = None) -> PodTemplate | None:
    parsed = parse_kubernetes_type(resource_type)
    if parsed in _TEMPLATE_KEYS:
        return _template_at(parsed[1], props, _TEMPLATE_KEYS[parsed], False, known_containers)
    if parsed is None or parsed[0] in _NOT_OBJECTS or parsed[0] in _BUILTIN_GROUPS:
        return None
    for keys, job_shaped in _SHAPES:
        if _holds_containers(_follow(props, keys)):
            return _template_at(parsed[1], props, keys, job_shaped, known_containers)
    return None


def _follow(props: Any, keys: tuple[str, ...]) -> Any:
    template: Any = props
    for key in keys:
        template = get(template, key)
    return template


def _holds_containers(template: Any) -> bool:
    """A pod template's shape: spec.containers lists at least one mapping that names an image."""
    listed = get(get(template, "spec"), "containers")
    if listed is None or isinstance(listed, (str, bytes)) or not hasattr(listed, "__iter__"):
        return False
    return any(get(element, "image") is not None for element in listed)


def _template_at(kind: str, props: Mapping[str, Any], keys: tuple[str, ...], job_shaped: bool,
                 known_containers: dict[Any, Any] | None) -> PodTemplate:
    template = _follow(props, keys)
    prefix = ".".join(keys)
    return PodTemplate(
        kind=kind,
        spec=mapping(template, "spec"),
        path=f"{prefix}.spec" if prefix else "spec",
        metadata=mapping(template, "metadata"),
        metadata_path=f"{prefix}.metadata" if prefix else "metadata",
        owner_metadata=mapping(props, "metadata"),
        owner_spec=mapping(props, "spec"),
        job_shaped=job_shaped,
        known_containers=known_containers,
    )


_ROLE_KEYS = (
    ("container", "containers"),
    ("initContainer", "initContainers"),
    ("ephemeralContainer", "ephemeralContainers"),
)


def containers(template: PodTemplate, roles: tuple[str, ...] = ("container", "initContainer",
                                                                 "ephemeralContainer")) -> list[Container]:
    """Containers of the given roles, in manifest order, each with its field path and name."""
    cache = template.known_containers
    if cache is None:
        return _containers(template, roles)
    if roles not in cache:
        cache[roles] = tuple(_containers(template, roles))
    return list(cache[roles])


def _containers(template: PodTemplate, roles: tuple[str, ...]) -> list[Container]:
    found = []
    for role, key in _ROLE_KEYS:
        if role not in roles:
            continue
        for path, spec in indexed(template.spec, key, template.path):
            found.append(Container(role=role, path=path, name=text(spec, "name"), spec=spec))
    return found


def long_running(template: PodTemplate) -> list[Container]:
    """Containers that live as long as the pod: regular containers and native sidecars."""
    return [c for c in containers(template, ("container", "initContainer"))
            if c.role == "container" or c.is_sidecar]


def with_resources(template: PodTemplate) -> list[Container]:
    """Containers that may carry resources: all but ephemeral ones (the API forbids them there)."""
    return containers(template, ("container", "initContainer"))



def volume_label(path: str, volume: Mapping[str, Any]) -> str:
    """A volume's field path and name, as messages show it."""
    name = text(volume, "name")
    return f'{path} (name "{name}")' if name else f"{path} (no name)"


def missing_containers(template: PodTemplate) -> list[str]:
    """A message when a pod spec has no containers at all: nothing could be checked, so say so."""
    if containers(template, ("container",)):
        return []
    return [f"{template.path}.containers is missing or empty; declare the workload's containers so it "
            "can be checked"]
