"""Upstream manifests as typed Pulumi resources: every object visible offline, named, judged by the pack.

The installers (the Flux Operator, the NACK CRDs, Strimzi) come as vendored documents
(`components/vendored.py`). Instead of a Helm release or a YAML group that only the engine can expand,
each document becomes the pulumi_kubernetes resource of its kind, named explicitly from the
component's name, with `parent` set to the component. Before registration a component patches the
parsed documents (never the vendored files) where upstream defaults cannot comply with the policy:
provenance labels and annotations, its namespace, the restricted security contexts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import defaults
from components.errors import ComponentArgsError
from components.kube import child_opts

Document = dict[str, Any]
Patch = Callable[[Document], Document | None]

# The kinds vendored manifests may hold, and the typed class each becomes. A kind not listed is
# refused, so nothing reaches the cluster in a form the offline preview cannot show.
TYPED: dict[tuple[str, str], type[pulumi.CustomResource]] = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): k8s.apiextensions.v1.CustomResourceDefinition,
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): k8s.rbac.v1.ClusterRole,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): k8s.rbac.v1.ClusterRoleBinding,
    ("rbac.authorization.k8s.io/v1", "Role"): k8s.rbac.v1.Role,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): k8s.rbac.v1.RoleBinding,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
}
CLUSTER_SCOPED = frozenset({"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"})
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def kind_slug(kind: str) -> str:
    return kind.lower()


def resource_name(prefix: str, doc: Document) -> str:
    """The Pulumi name of an upstream object: the component's prefix, its kind and its Kubernetes name."""
    return f"{prefix}-{kind_slug(doc['kind'])}-{doc['metadata']['name']}"


def register(parent: pulumi.Resource, prefix: str, docs: Iterable[Document], *depends_on: pulumi.Resource,
             ordered: bool = True) -> dict[tuple[str, str], pulumi.CustomResource]:
    """Each document as its typed resource (keyed by kind and name). With `ordered`, CRDs, then
    namespaces, accounts and RBAC, then everything else, each group waiting for the one before."""
    docs = list(docs)
    created: dict[tuple[str, str], pulumi.CustomResource] = {}
    waves = _waves(docs) if ordered else [docs]
    before: list[pulumi.Resource] = list(depends_on)
    for wave in waves:
        made = [_one(parent, prefix, doc, before) for doc in wave]
        for doc, res in zip(wave, made, strict=True):
            created[(doc["kind"], doc["metadata"]["name"])] = res
        before = [*depends_on, *made] if made else before
    return created


def _waves(docs: list[Document]) -> list[list[Document]]:
    first = ("CustomResourceDefinition",)
    second = ("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ConfigMap")
    return [[d for d in docs if d["kind"] in first],
            [d for d in docs if d["kind"] in second],
            [d for d in docs if d["kind"] not in first + second]]


def _one(parent: pulumi.Resource, prefix: str, doc: Document, depends_on: list[pulumi.Resource]) -> pulumi.CustomResource:
    cls = TYPED.get((str(doc.get("apiVersion")), str(doc.get("kind"))))
    if cls is None:
        raise ComponentArgsError(f"{prefix}: upstream {doc.get('apiVersion')} {doc.get('kind')} "
                                 f"{(doc.get('metadata') or {}).get('name')!r} has no typed resource; add it to components/upstream.TYPED")
    fields = {_CAMEL.sub("_", key).lower(): value for key, value in doc.items()
              if key not in ("apiVersion", "kind", "status")}
    return cls(resource_name(prefix, doc), **fields, opts=child_opts(parent, *depends_on))


# ---- patches: small, pure, applied to the parsed documents -------------------------------------------------

def patched(docs: Iterable[Document], *patches: Patch) -> list[Document]:
    """Documents after each patch in turn; a patch returning None drops the document."""
    out = []
    for doc in docs:
        current: Document | None = doc
        for patch in patches:
            current = patch(current) if current is not None else None
        if current is not None:
            out.append(current)
    return out


def drop_kinds(*kinds: str) -> Patch:
    """Drop objects the stack makes itself (the namespace is a Zone with quota and default deny)."""
    return lambda doc: None if doc["kind"] in kinds else doc


def stamp(labels: dict[str, str], annotations: dict[str, str], workload: dict[str, str] | None = None) -> Patch:
    """Our provenance on every object; workloads and their pod templates also get `workload` (the
    workload class). Upstream labels are kept and ours win a clash, except that a pod template keeps
    the labels its selector matches (a Deployment whose pods its selector misses is refused)."""
    def patch(doc: Document) -> Document:
        template = pod_template(doc)
        extra = dict(workload or {}) if template is not None else {}
        meta = doc.setdefault("metadata", {})
        meta["labels"] = {**(meta.get("labels") or {}), **labels, **extra}
        meta["annotations"] = {**(meta.get("annotations") or {}), **annotations}
        if template is not None:
            tmeta = template.setdefault("metadata", {})
            tmeta["labels"] = {**(tmeta.get("labels") or {}), **labels, **extra, **_selector(doc)}
        return doc
    return patch


def in_namespace(namespace: str) -> Patch:
    """Namespaced objects in `namespace`; ServiceAccount subjects of bindings follow them."""
    def patch(doc: Document) -> Document:
        if doc["kind"] not in CLUSTER_SCOPED:
            doc["metadata"]["namespace"] = namespace
        for subject in doc.get("subjects") or []:
            if subject.get("kind") == "ServiceAccount":
                subject["namespace"] = namespace
        return doc
    return patch


def restricted_pods(extra_container: Callable[[Document], None] | None = None) -> Patch:
    """Pod Security `restricted` on every pod template: the pod's seccomp profile and non-root ids, and
    each container's capabilities dropped, no escalation, read-only root, non-root. Upstream values that
    are already stricter stay; `extra_container` may add what one upstream needs (resources, probes)."""
    def patch(doc: Document) -> Document:
        template = pod_template(doc)
        if template is None:
            return doc
        spec = template.setdefault("spec", {})
        spec["securityContext"] = {**defaults.pod_security_context(), **(spec.get("securityContext") or {}),
                                   "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
        for key in ("initContainers", "containers"):
            for container in spec.get(key) or []:
                container["securityContext"] = {**(container.get("securityContext") or {}),
                                                **defaults.container_security_context(),
                                                "seccompProfile": {"type": "RuntimeDefault"}}
                if extra_container is not None:
                    extra_container(container)
        return doc
    return patch


def bounded_scratch(size_limit: str) -> Patch:
    """A size limit on every emptyDir that has none, so scratch space cannot fill the node's disk."""
    def patch(doc: Document) -> Document:
        template = pod_template(doc)
        for volume in ((template or {}).get("spec") or {}).get("volumes") or []:
            if "emptyDir" in volume:
                volume["emptyDir"] = {"sizeLimit": size_limit, **(volume["emptyDir"] or {})}
        return doc
    return patch


def pod_template(doc: Document) -> Document | None:
    if doc["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        template: Document = doc.setdefault("spec", {}).setdefault("template", {})
        return template
    return None


def _selector(doc: Document) -> dict[str, str]:
    return dict(((doc.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
