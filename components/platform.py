"""Shared building blocks of declared platform state (object store, secret store, metrics and log stores).

Platform state is the only kind of workload that may keep PersistentVolumeClaims, and it must say so on
its own metadata (label workload-class=platform-state plus the platform-state annotation naming its
kind). These helpers produce that metadata, the claim templates, hardened containers and pod specs, and
quorum-safe disruption budgets, so every stateful component is declared the same way.
"""

from typing import Annotated, Any

from pydantic import AfterValidator, Field

from components import conventions, defaults, names, quantity
from components.intent import Intent
from components.provenance import Provenance
from components.types import Probe, Resources

STATE_CLASS = conventions.WORKLOAD_CLASS_PLATFORM_STATE


class Volume(Intent):
    """A persistent volume claim template of a stateful workload."""

    name: Annotated[str, AfterValidator(names.dns_label)] = Field(description="Claim template name, also the volume name")
    mount_path: str = Field(pattern=r"^/.+", description="Where the container mounts it")
    size: Annotated[str, AfterValidator(quantity.memory)] = Field(description="Requested storage, e.g. '10Gi'")
    storage_class: str | None = Field(default=None, description="StorageClass; the cluster default when unset")

    def claim_template(self, labels: dict[str, str], annotations: dict[str, str]) -> dict[str, Any]:
        spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": self.size}}}
        if self.storage_class:
            spec["storageClassName"] = self.storage_class
        return {"metadata": {"name": self.name, "labels": dict(labels), "annotations": dict(annotations)}, "spec": spec}


def state_labels(provenance: Provenance, name: str, instance: str, component: str) -> dict[str, str]:
    return provenance.labels(name=name, instance=instance, component=component, workload_class=STATE_CLASS)


def state_annotations(provenance: Provenance, kind: str) -> dict[str, str]:
    if kind not in conventions.PLATFORM_STATE_KINDS:
        raise ValueError(f"platform-state kind {kind!r} is unknown; use one of {', '.join(conventions.PLATFORM_STATE_KINDS)}")
    return {**provenance.annotations(), conventions.ANNOTATION_PLATFORM_STATE: kind}


def container(
    name: str,
    image: str,
    ports: dict[str, int],
    resources: Resources,
    liveness: Probe,
    readiness: Probe,
    *,
    args: list[str] | None = None,
    command: list[str] | None = None,
    env: list[dict[str, Any]] | None = None,
    mounts: list[dict[str, Any]] | None = None,
    startup: Probe | None = None,
) -> dict[str, Any]:
    """A long-running container with probes, requests/limits and the restricted security context."""
    spec: dict[str, Any] = {
        "name": name,
        "image": image,
        "imagePullPolicy": defaults.IMAGE_PULL_POLICY,
        "ports": [{"name": port_name, "containerPort": port, "protocol": "TCP"} for port_name, port in ports.items()],
        "resources": resources.to_k8s(),
        "livenessProbe": liveness.to_k8s(),
        "readinessProbe": readiness.to_k8s(),
        "securityContext": defaults.container_security_context(),
    }
    optional = {"command": command, "args": args, "env": env, "volumeMounts": mounts}
    spec.update({key: value for key, value in optional.items() if value})
    if startup is not None:
        spec["startupProbe"] = startup.to_k8s()
    return spec


def job_container(name: str, image: str, resources: Resources, args: list[str], env: list[dict[str, Any]],
                  mounts: list[dict[str, Any]]) -> dict[str, Any]:
    """A run-to-completion container (Jobs are exempt from probes, never from resources or hardening)."""
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": defaults.IMAGE_PULL_POLICY,
        "args": args,
        "env": env,
        "volumeMounts": mounts,
        "resources": resources.to_k8s(),
        "securityContext": defaults.container_security_context(),
    }


def pod_spec(service_account: str, containers: list[dict[str, Any]], volumes: list[dict[str, Any]],
             *, automount_token: bool = False, grace_seconds: int = defaults.TERMINATION_GRACE_PERIOD_SECONDS,
             **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "serviceAccountName": service_account,
        "automountServiceAccountToken": automount_token,
        "enableServiceLinks": defaults.ENABLE_SERVICE_LINKS,
        "securityContext": defaults.pod_security_context(),
        "terminationGracePeriodSeconds": grace_seconds,
        "containers": containers,
        **extra,
    }
    if volumes:
        spec["volumes"] = volumes
    return spec


def scratch(name: str, mount_path: str, size: str = defaults.EMPTY_DIR_SIZE_LIMIT) -> tuple[dict[str, Any], dict[str, Any]]:
    """(volume, mount) of a size-limited emptyDir, for tools that write beside a read-only root."""
    return {"name": name, "emptyDir": {"sizeLimit": size}}, {"name": name, "mountPath": mount_path}


def config_volume(name: str, config_map: str, mount_path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        {"name": name, "configMap": {"name": config_map, "defaultMode": defaults.CONFIG_FILE_MODE}},
        {"name": name, "mountPath": mount_path, "readOnly": True},
    )


def quorum_pdb_spec(selector: dict[str, str]) -> dict[str, Any]:
    """One voluntary disruption at a time: a Raft or erasure-coded set keeps its quorum during drains
    (minAvailable 1 would let a 3-node Raft lose two members at once)."""
    return {"selector": {"matchLabels": dict(selector)}, "maxUnavailable": 1, "unhealthyPodEvictionPolicy": "AlwaysAllow"}


def pod_anti_affinity(selector: dict[str, str]) -> dict[str, Any]:
    """Prefer one replica per node, so a node loss costs at most one member (preferred, not pinned)."""
    return {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": dict(selector)},
                                                    "topologyKey": "kubernetes.io/hostname"}}
            ]
        }
    }


def service_ports(ports: dict[str, int]) -> list[dict[str, Any]]:
    return [{"name": name, "port": port, "targetPort": name, "protocol": "TCP"} for name, port in ports.items()]


def field_env(name: str, field_path: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": field_path}}}
