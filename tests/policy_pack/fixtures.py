"""Compliant workloads of every pod-template kind, in camelCase wire form, and ways to break them.

Every builder returns fresh dicts, so a test can mutate its copy without touching another test.
"""

from __future__ import annotations

import copy
from typing import Any

from pulumi.runtime.rpc import UNKNOWN

TYPES = {
    "Pod": "kubernetes:core/v1:Pod",
    "Deployment": "kubernetes:apps/v1:Deployment",
    "StatefulSet": "kubernetes:apps/v1:StatefulSet",
    "DaemonSet": "kubernetes:apps/v1:DaemonSet",
    "ReplicaSet": "kubernetes:apps/v1:ReplicaSet",
    "Job": "kubernetes:batch/v1:Job",
    "CronJob": "kubernetes:batch/v1:CronJob",
}
# Where each kind keeps its pod spec, as messages name it.
POD_SPEC_PATHS = {
    "Pod": "spec",
    "Deployment": "spec.template.spec",
    "StatefulSet": "spec.template.spec",
    "DaemonSet": "spec.template.spec",
    "ReplicaSet": "spec.template.spec",
    "Job": "spec.template.spec",
    "CronJob": "spec.jobTemplate.spec.template.spec",
}
LONG_RUNNING_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
DIGEST = "sha256:" + "ab" * 32
UNKNOWN_STRING = UNKNOWN
# Provenance every object carries (clause 2.1); pod templates carry the labels.
PROVENANCE_LABELS = {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/component": "service"}
PROVENANCE_ANNOTATIONS = {"cdb-infra.io/git-revision": "0123456789abcdef0123456789abcdef01234567"}
PLATFORM_STATE_METADATA = {
    "name": "object-store",
    "labels": {"cdb-infra.io/workload-class": "platform-state"},
    "annotations": {"cdb-infra.io/platform-state": "object-store"},
}


def with_provenance(metadata: dict[str, Any]) -> dict[str, Any]:
    """Metadata with the provenance labels and annotation added (given keys win)."""
    metadata = copy.deepcopy(metadata)
    metadata["labels"] = {**PROVENANCE_LABELS, **(metadata.get("labels") or {})}
    metadata["annotations"] = {**PROVENANCE_ANNOTATIONS, **(metadata.get("annotations") or {})}
    return metadata


def probe(path: str = "/healthz", port: Any = 8080) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": port}, "periodSeconds": 10}


def resources(cpu: Any = "250m", memory: Any = "256Mi", cpu_limit: Any = "500m",
              memory_limit: Any = "512Mi") -> dict[str, Any]:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


def container(name: str = "web", image: str = "registry.example:5000/cdb/web:1.4.2", probes: bool = True,
              **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": name,
        "image": image,
        "ports": [{"containerPort": 8080, "name": "http"}],
        "resources": resources(),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
        },
    }
    if probes:
        spec["livenessProbe"] = probe("/healthz")
        spec["readinessProbe"] = probe("/ready")
    spec.update(extra)
    return spec


def init_container(name: str = "migrate", **extra: Any) -> dict[str, Any]:
    spec = container(name=name, probes=False)
    del spec["ports"]
    spec.update(extra)
    return spec


def sidecar(name: str = "proxy", **extra: Any) -> dict[str, Any]:
    return container(name=name, restartPolicy="Always", **extra)


def pod_spec(*containers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": list(containers) or [container()],
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
        "volumes": [{"name": "config", "configMap": {"name": "web-config"}}, {"name": "tmp", "emptyDir": {}}],
    }
    spec.update(extra)
    return spec


def workload(kind: str, spec: dict[str, Any] | None = None,
             metadata: dict[str, Any] | None = None, **owner_spec: Any) -> tuple[str, dict[str, Any]]:
    """(type token, props) of a kind around a pod spec; owner_spec adds fields to the workload's spec."""
    spec = copy.deepcopy(spec) if spec is not None else pod_spec()
    if kind == "Job":
        spec.setdefault("restartPolicy", "Never")
    if kind == "CronJob":
        spec.setdefault("restartPolicy", "OnFailure")
    template = {"metadata": {"labels": {"app.kubernetes.io/name": "web", **PROVENANCE_LABELS}}, "spec": spec}
    group_version = TYPES[kind].split(":")[1]
    api_version = "v1" if group_version == "core/v1" else group_version
    props: dict[str, Any] = {"apiVersion": api_version, "kind": kind,
                             "metadata": with_provenance(metadata if metadata else {"name": "web"})}
    if kind == "Pod":
        props["metadata"].setdefault("labels", template["metadata"]["labels"])
        props["spec"] = spec
    elif kind == "CronJob":
        props["spec"] = {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": template}}}
    else:
        props["spec"] = {"selector": {"matchLabels": {"app.kubernetes.io/name": "web"}}, "template": template}
        if kind == "StatefulSet":
            props["spec"]["serviceName"] = "web"
    props["spec"].update(owner_spec)
    return TYPES[kind], props


def deployment(*containers: dict[str, Any], metadata: dict[str, Any] | None = None,
               **spec_extra: Any) -> tuple[str, dict[str, Any]]:
    return workload("Deployment", pod_spec(*containers, **spec_extra), metadata)


def volume_claim_template(name: str = "data") -> dict[str, Any]:
    return {"metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}}
