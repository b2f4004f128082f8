"""Whole system, references and order: what the stack refers to exists, and it can start from an empty cluster.

References checked: Secrets, ConfigMaps, ServiceAccounts and PersistentVolumeClaims of every pod template
(operators' pods included), custom resource kinds (a CustomResourceDefinition in the stack, an operator
workload annotated ``cdb-infra.io/provides-kinds``, or a FluxInstance for the Flux kinds), Service
addresses written into configuration (``name.namespace.svc[.cluster.local]:port`` in container args,
env, ConfigMap data and custom resource specs) and named Service target ports, and the references
between custom resources (VSO auth and connection, Flux sources and providers). A Secret counts when it
is in the stack or has a producer: a VaultStaticSecret (or VaultDynamicSecret/VaultPKISecret) whose
``destination`` creates it, or an object annotated ``cdb-infra.io/provides-secrets``.

Order: every "A waits on B" (a pod on what it mounts, a produced Secret on its producer, a custom
resource on the operator that serves its kind and on what it names, Pulumi's own dependencies) forms a
graph; a cycle in it is a set of objects none of which can become ready first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import Severity

from .helpers.access import get, indexed, is_list, is_mapping, items, mapping, number, text
from .helpers.conventions import ANNOTATION_PROVIDES_KINDS, ANNOTATION_PRODUCES
from .helpers.metadata import StackRule
from .helpers.objects import KubeObject, kind_of, objects
from .helpers.operators import FLUX_INSTANCE, PodIndex, RunPod, stack_pods
from .helpers.podspec import containers

BUILT_IN_GROUPS = frozenset((
    "core", "apps", "batch", "networking.k8s.io", "policy", "rbac.authorization.k8s.io", "storage.k8s.io",
    "autoscaling", "apiextensions.k8s.io", "admissionregistration.k8s.io", "scheduling.k8s.io",
    "coordination.k8s.io", "discovery.k8s.io", "node.k8s.io", "certificates.k8s.io",
    "flowcontrol.apiserver.k8s.io", "events.k8s.io", "resource.k8s.io", "apiregistration.k8s.io",
    "authentication.k8s.io", "authorization.k8s.io", "extensions"))
# What Kubernetes itself creates in every namespace: the root CA bundle (root-ca-cert-publisher, GA in
# 1.21, mounted by every projected service-account token volume) and the default ServiceAccount.
CLUSTER_MADE = frozenset({("ConfigMap", "kube-root-ca.crt"), ("ServiceAccount", "default")})
FLUX_KINDS = {
    "source-controller": ("source.toolkit.fluxcd.io", ("GitRepository", "OCIRepository", "HelmRepository",
                                                       "HelmChart", "Bucket")),
    "kustomize-controller": ("kustomize.toolkit.fluxcd.io", ("Kustomization",)),
    "helm-controller": ("helm.toolkit.fluxcd.io", ("HelmRelease",)),
    "notification-controller": ("notification.toolkit.fluxcd.io", ("Provider", "Alert", "Receiver")),
}
VSO_GROUP = "secrets.hashicorp.com"
VSO_SECRET_KINDS = ("VaultStaticSecret", "VaultDynamicSecret", "VaultPKISecret")
SERVICE_URL = re.compile(r"\b([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc"
                         r"(?:\.cluster\.local)?\.?:(\d{1,5})\b")


@dataclass
class Graph:
    """"A waits on B" edges between objects named "Kind namespace/name", with the reason."""

    edges: dict[str, dict[str, str]] = field(default_factory=dict)
    blame: dict[str, str | None] = field(default_factory=dict)

    def wait(self, a: str, b: str, why: str, urn: str | None = None) -> None:
        self.edges.setdefault(a, {}).setdefault(b, why)
        self.blame.setdefault(a, urn)

    def cycles(self) -> list[list[str]]:
        """One cycle through each strongly connected component of more than one node (or a self-loop)."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        components: list[list[str]] = []

        def visit(node: str) -> None:  # Tarjan; the graphs are small (hundreds of nodes)
            index[node] = low[node] = len(index)
            stack.append(node)
            on_stack.add(node)
            for nxt in self.edges.get(node, {}):
                if nxt not in index:
                    visit(nxt)
                    low[node] = min(low[node], low[nxt])
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1 or node in self.edges.get(node, {}):
                    components.append(component)

        for node in sorted(self.edges):
            if node not in index:
                visit(node)
        return [self._cycle_in(set(c)) for c in components]

    def _cycle_in(self, members: set[str]) -> list[str]:
        start = min(members)
        path, seen, node = [start], {start}, start
        while True:
            nxt = next(n for n in sorted(self.edges.get(node, {})) if n in members)
            if nxt in seen:
                return path[path.index(nxt):] + [nxt]
            path.append(nxt)
            seen.add(nxt)
            node = nxt


def _key(kind: str, namespace: str | None, name: str | None) -> str:
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _ref(value: str | None, namespace: str | None) -> tuple[str | None, str | None]:
    """"ns/name" or "name" (in the given namespace)."""
    if not value:
        return namespace, None
    ns, _, name = value.rpartition("/")
    return (ns or namespace), name


def _pod_refs(pod: RunPod) -> Iterator[tuple[str, str, str]]:
    """(kind, name, field path) of everything a pod needs to exist before it can start."""
    spec, path = pod.template.spec, pod.template.path
    account = text(spec, "serviceAccountName") or text(spec, "serviceAccount")
    if account and account != "default":
        yield "ServiceAccount", account, f"{path}.serviceAccountName"
    for where, entry in indexed(spec, "imagePullSecrets", path):
        if text(entry, "name"):
            yield "Secret", text(entry, "name") or "", where
    for where, volume in indexed(spec, "volumes", path):
        secret = mapping(volume, "secret")
        if secret and get(secret, "optional") is not True and text(secret, "secretName"):
            yield "Secret", text(secret, "secretName") or "", where
        config = mapping(volume, "configMap")
        if config and get(config, "optional") is not True and text(config, "name"):
            yield "ConfigMap", text(config, "name") or "", where
        claim = text(mapping(volume, "persistentVolumeClaim"), "claimName")
        if claim:
            yield "PersistentVolumeClaim", claim, where
        for index, source in enumerate(items(mapping(volume, "projected"), "sources")):
            for kind, key in (("Secret", "secret"), ("ConfigMap", "configMap")):
                ref = mapping(source, key)
                if ref and get(ref, "optional") is not True and text(ref, "name"):
                    yield kind, text(ref, "name") or "", f"{where}.projected.sources[{index}]"
    for container in containers(pod.template):
        for where, env in indexed(container.spec, "env", container.path):
            for kind, key in (("Secret", "secretKeyRef"), ("ConfigMap", "configMapKeyRef")):
                ref = mapping(env, "valueFrom", key)
                if ref and get(ref, "optional") is not True and text(ref, "name"):
                    yield kind, text(ref, "name") or "", f"{where}.valueFrom.{key}"
        for where, source in indexed(container.spec, "envFrom", container.path):
            for kind, key in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")):
                ref = mapping(source, key)
                if ref and get(ref, "optional") is not True and text(ref, "name"):
                    yield kind, text(ref, "name") or "", f"{where}.{key}"


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif depth < 12 and is_mapping(value):
        for item in value.values():
            yield from _strings(item, depth + 1)
    elif depth < 12 and is_list(value):
        for item in value:
            yield from _strings(item, depth + 1)


def _annotated_list(obj: KubeObject, key: str) -> list[str]:
    raw = get(obj.annotations, key)
    return [part.strip() for part in raw.split(",") if part.strip()] if isinstance(raw, str) else []


class Stack:
    """What exists, what is produced and by whom, read once for all checks."""

    def __init__(self, resources: Sequence[Any]):
        self.objects = list(objects(resources))
        self.pods = stack_pods(resources)
        self.index = PodIndex(self.pods)
        self.existing: dict[str, KubeObject] = {}
        self.producers: dict[str, tuple[str, str | None]] = {}  # object key -> (producer key, urn)
        self.kinds: dict[tuple[str, str], tuple[str | None, str | None]] = {}  # (group, kind) -> (producer, urn)
        self.namespaces = {o.name for o in self.objects if o.kind == "Namespace" and o.group == "core"}
        for obj in self.objects:
            self.existing[_key(obj.kind, obj.namespace, obj.name)] = obj
            if obj.kind == "CustomResourceDefinition":
                group, kind = text(obj.spec, "group"), text(mapping(obj.spec, "names"), "kind")
                if group and kind:
                    self.kinds[(group, kind)] = (None, obj.urn)
            for entry in _annotated_list(obj, ANNOTATION_PROVIDES_KINDS):
                group, _, kind = entry.rpartition("/")
                self.kinds.setdefault((group or "core", kind), (obj.label, obj.urn))
            for entry in _annotated_list(obj, ANNOTATION_PRODUCES):
                ns, name = _ref(entry, obj.namespace)
                self.producers.setdefault(_key("Secret", ns, name), (obj.label, obj.urn))
            if obj.group == VSO_GROUP and obj.kind in VSO_SECRET_KINDS:
                destination = mapping(obj.spec, "destination")
                if get(destination, "create") is True and text(destination, "name"):
                    self.producers.setdefault(_key("Secret", obj.namespace, text(destination, "name")),
                                              (obj.label, obj.urn))
        for instance in objects(resources, FLUX_INSTANCE):
            for component in [c for c in items(instance.spec, "components") if isinstance(c, str)] or list(FLUX_KINDS):
                group, kinds = FLUX_KINDS.get(component, ("", ()))
                for kind in kinds:
                    self.kinds.setdefault((group, kind), (instance.label, instance.urn))
        self.urn_keys = {obj.urn: obj.label for obj in self.objects if obj.urn}

    def has(self, kind: str, namespace: str | None, name: str) -> bool:
        if (kind, name) in CLUSTER_MADE:
            return True
        key = _key(kind, namespace, name)
        return key in self.existing or key in self.producers


def check_references(resources: Sequence[Any]) -> Iterator[tuple[str, str | None]]:
    stack = Stack(resources)
    graph = Graph()
    yield from _pods(stack, graph)
    yield from _kinds(stack, graph)
    yield from _custom_refs(stack, graph)
    yield from _service_urls(stack)
    for resource in resources:
        label = stack.urn_keys.get(str(getattr(resource, "urn", "")))
        for dependency in getattr(resource, "dependencies", None) or ():
            target = stack.urn_keys.get(str(getattr(dependency, "urn", "")))
            if label and target and kind_of(dependency.resource_type) is not None:
                graph.wait(label, target, "Pulumi waits for it (dependsOn or an input)", resource.urn)
    for cycle in graph.cycles():
        steps = "; ".join(f"{a} waits on {b} ({graph.edges[a][b]})" for a, b in zip(cycle, cycle[1:]))
        yield (f"dependency cycle, none of these can become ready first on an empty cluster: {steps}; break the "
               "cycle (e.g. create the first object without waiting, or deliver it another way)",
               graph.blame.get(cycle[0]))


def _missing(what: str, kind: str, namespace: str | None, name: str) -> str:
    fix = {"Secret": f"add it, create it through a VaultStaticSecret with destination.name {name}, or annotate "
                     f"its producer with {ANNOTATION_PRODUCES}"}.get(kind, "add it to the stack")
    return f"{what} refers to {_key(kind, namespace, name)}, which is not in the stack and has no producer; {fix}"


def _pods(stack: Stack, graph: Graph) -> Iterator[tuple[str, str | None]]:
    for pod in stack.pods:
        if pod.origin is not None:
            continue  # an operator creates its pods' ServiceAccounts and configuration with them
        namespace = pod.workload.namespace
        for kind, name, where in _pod_refs(pod):
            if not stack.has(kind, namespace, name):
                yield f"{pod.label}: {_missing(where, kind, namespace, name)}", pod.urn
            target = _key(kind, namespace, name)
            graph.wait(pod.workload.label, target, f"{where} mounts or reads it", pod.urn)
            if target in stack.producers:
                producer, urn = stack.producers[target]
                graph.wait(target, producer, "its producer creates it", urn)


def _kinds(stack: Stack, graph: Graph) -> Iterator[tuple[str, str | None]]:
    for obj in stack.objects:
        if obj.group in BUILT_IN_GROUPS:
            continue
        producer = stack.kinds.get((obj.group, obj.kind))
        if producer is None:
            yield (f"{obj.label}: kind {obj.group}/{obj.kind} has no CustomResourceDefinition in the stack and no "
                   f"operator declaring it ({ANNOTATION_PROVIDES_KINDS}); vendor the CRD or declare its producer",
                   obj.urn)
        elif producer[0] is not None and producer[0] != obj.label:
            graph.wait(obj.label, producer[0], f"it serves kind {obj.kind}", obj.urn)


def _custom_refs(stack: Stack, graph: Graph) -> Iterator[tuple[str, str | None]]:
    """References between custom resources: VSO auth/connection/service account, Flux sources/providers."""
    for obj in stack.objects:
        refs: list[tuple[str, str | None, str | None, str]] = []
        if obj.group == VSO_GROUP and obj.kind in VSO_SECRET_KINDS:
            ns, name = _ref(text(obj.spec, "vaultAuthRef"), obj.namespace)
            if name:
                refs.append(("VaultAuth", ns, name, "spec.vaultAuthRef"))
            destination = mapping(obj.spec, "destination")
            if get(destination, "create") is not True and text(destination, "name"):
                refs.append(("Secret", obj.namespace, text(destination, "name"), "spec.destination.name"))
        elif obj.group == VSO_GROUP and obj.kind == "VaultAuth":
            ns, name = _ref(text(obj.spec, "vaultConnectionRef"), obj.namespace)
            if name:
                refs.append(("VaultConnection", ns, name, "spec.vaultConnectionRef"))
            account = text(mapping(obj.spec, "kubernetes"), "serviceAccount")
            if account and account != "default":
                refs.append(("ServiceAccount", obj.namespace, account, "spec.kubernetes.serviceAccount"))
        elif obj.kind in ("Kustomization", "HelmRelease") and obj.group.endswith("toolkit.fluxcd.io"):
            source = mapping(obj.spec, "sourceRef") if obj.kind == "Kustomization" else mapping(
                obj.spec, "chart", "spec", "sourceRef")
            if text(source, "name"):
                refs.append((text(source, "kind") or "GitRepository", text(source, "namespace") or obj.namespace,
                             text(source, "name"), "sourceRef"))
        elif obj.kind == "Alert" and obj.group == "notification.toolkit.fluxcd.io":
            if text(mapping(obj.spec, "providerRef"), "name"):
                refs.append(("Provider", obj.namespace, text(mapping(obj.spec, "providerRef"), "name"),
                             "spec.providerRef"))
        elif obj.kind == "Provider" and obj.group == "notification.toolkit.fluxcd.io":
            if text(mapping(obj.spec, "secretRef"), "name"):
                refs.append(("Secret", obj.namespace, text(mapping(obj.spec, "secretRef"), "name"), "spec.secretRef"))
        for kind, ns, name, where in refs:
            assert name is not None
            if not stack.has(kind, ns, name):
                yield f"{obj.label}: {_missing(where, kind, ns, name)}", obj.urn
            graph.wait(obj.label, _key(kind, ns, name), f"{where} names it", obj.urn)
            target = _key(kind, ns, name)
            if target in stack.producers:
                graph.wait(target, stack.producers[target][0], "its producer creates it", stack.producers[target][1])
        if obj.group == VSO_GROUP and obj.kind == "VaultConnection":
            for service_ns, service, _ in _urls(text(obj.spec, "address") or ""):
                for pod in _behind(stack, service_ns, service):
                    graph.wait(obj.label, pod.workload.label, "the operator must reach Vault through it", obj.urn)


def _urls(value: str) -> Iterator[tuple[str, str, int]]:
    for match in SERVICE_URL.finditer(value):
        yield match.group(3), match.group(1), int(match.group(5))


def _behind(stack: Stack, namespace: str, name: str) -> list[RunPod]:
    service = stack.existing.get(_key("Service", namespace, name))
    selector = mapping(service.spec, "selector") if service is not None else {}
    return stack.index.matching(namespace, selector) if selector else []


def _service_ports(service: KubeObject) -> set[int]:
    return {int(n) for n in (number(get(p, "port")) for p in items(service.spec, "ports")) if n is not None}


def _service_urls(stack: Stack) -> Iterator[tuple[str, str | None]]:
    """Service addresses written into configuration exist with that port; named target ports exist."""
    for obj in stack.objects:
        if obj.kind == "Secret" and obj.group == "core":
            continue  # never read secret values
        sources: list[tuple[str, Any]] = []
        if obj.kind == "ConfigMap" and obj.group == "core":
            sources.append(("data", get(obj.props, "data")))
        elif obj.group not in BUILT_IN_GROUPS:
            sources.append(("spec", get(obj.props, "spec")))
        pod = obj.pod_template(f"kubernetes:{obj.group}/v1:{obj.kind}")
        if pod is not None:
            for container in containers(pod):
                for key in ("command", "args", "env"):
                    sources.append((f"{container.where}.{key}", get(container.spec, key)))
        seen: set[tuple[str, str, int]] = set()
        for where, value in sources:
            for string in _strings(value):
                for namespace, name, port in _urls(string):
                    if namespace not in stack.namespaces or (namespace, name, port) in seen:
                        continue
                    seen.add((namespace, name, port))
                    service = stack.existing.get(_key("Service", namespace, name))
                    if service is None:
                        yield (f"{obj.label}: {where} addresses {name}.{namespace}.svc:{port}, but Service "
                               f"{namespace}/{name} is not in the stack; add it or fix the address", obj.urn)
                    elif port not in _service_ports(service):
                        ports = ", ".join(str(p) for p in sorted(_service_ports(service))) or "none"
                        yield (f"{obj.label}: {where} addresses {name}.{namespace}.svc:{port}, but {service.label} "
                               f"exposes port(s) {ports}; add port {port} to the Service or fix the address", obj.urn)
    for service in stack.objects:
        if service.kind != "Service" or service.group != "core":
            continue
        selector = mapping(service.spec, "selector")
        behind = _behind(stack, service.namespace or "default", service.name or "") if selector else []
        for index, entry in enumerate(items(service.spec, "ports")):
            target = get(entry, "targetPort")
            if not isinstance(target, str) or not behind:
                continue
            names = {text(p, "name") for pod in behind for c in containers(pod.template) for p in items(c.spec, "ports")}
            if target not in names:
                yield (f"{service.label}: spec.ports[{index}].targetPort \"{target}\" is no container port name of "
                       f"the pods it selects; name the container port or fix targetPort", service.urn)


REFERENCES = StackRule(
    name="system-references-resolve",
    description="Everything the stack refers to exists or has a producer, and nothing waits on itself.",
    clause="2.1",
    specification="Jede Infrastrukturressource ist als Code definiert.",
    severity=Severity.HIGH,
    remediation=(
        "Add every Secret, ConfigMap, ServiceAccount, PersistentVolumeClaim and Service a workload, custom "
        "resource or configuration names to the stack (Secrets from Vault: a VaultStaticSecret whose destination "
        "creates them; CRD kinds: the vendored CustomResourceDefinition, or the operator workload annotated "
        f"{ANNOTATION_PROVIDES_KINDS}); give Services the ports configurations address; break every cycle of "
        "waits so the stack can start from an empty cluster."
    ),
    tags=("references", "order", "whole-system"),
    check=check_references,
)

RULES = [REFERENCES]
