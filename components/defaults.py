"""Secure defaults of every component, in one place.

Components refer to these by name instead of repeating literals, and tests/components pins them in
one test, so a weakened default is a visible, reviewed change. Functions return fresh dicts (camelCase,
as Kubernetes spells them) so a caller can never mutate a shared default.
"""

from typing import Any, Final

from components import conventions

RUN_AS_USER: Final = 65532
"""Non-root UID for every pod (the distroless `nonroot` user), so images without a USER still run."""

RUN_AS_GROUP: Final = 65532
"""Non-root primary GID for every pod."""

FS_GROUP: Final = 65532
"""Group that owns mounted volumes, so the non-root user can read config and write emptyDirs."""

AUTOMOUNT_SERVICE_ACCOUNT_TOKEN: Final = False
"""No API token in pods unless a service asks for one (an AI workload never gets one)."""

ENABLE_SERVICE_LINKS: Final = False
"""No docker-link env vars: config comes only from declared env, ConfigMaps and Secrets."""

DEFAULT_REPLICAS: Final = 2
"""Two replicas so a voluntary disruption (drain, rollout) keeps the service up."""

REVISION_HISTORY_LIMIT: Final = 5
"""Old ReplicaSets kept for rollback; bounded so namespaces do not fill with history."""

TERMINATION_GRACE_PERIOD_SECONDS: Final = 30
"""Time a pod gets to drain after SIGTERM."""

IMAGE_PULL_POLICY: Final = "IfNotPresent"
"""Images are pinned (tag or digest, never `latest`), so a cached image is the right image."""

PORT_NAME: Final = "http"
"""Name of the container port a service exposes; probes and the Service refer to it."""

WRITABLE_PATHS: Final = ("/tmp",)
"""Paths that get an emptyDir, because the root filesystem is read-only."""

EMPTY_DIR_SIZE_LIMIT: Final = "64Mi"
"""Size cap of each writable emptyDir, so scratch space cannot exhaust the node's disk."""

CONFIG_FILE_MODE: Final = 0o444
"""File mode of mounted ConfigMap keys: readable, never writable or executable."""

SECRET_FILE_MODE: Final = 0o440
"""File mode of mounted Secret keys: readable by the pod's user and fsGroup only."""

PROBE_INITIAL_DELAY_SECONDS: Final = 0
"""Probes start at once; slow starters declare a startup probe instead of a long delay."""

PROBE_PERIOD_SECONDS: Final = 10
"""Seconds between probes."""

PROBE_TIMEOUT_SECONDS: Final = 2
"""Seconds a probe may take before it counts as failed."""

PROBE_FAILURE_THRESHOLD: Final = 3
"""Consecutive failures before a container is restarted or taken out of the Service."""

PROBE_SUCCESS_THRESHOLD: Final = 1
"""Consecutive successes before a probe passes (Kubernetes demands 1 for liveness and startup)."""

DNS_NAMESPACE: Final = "kube-system"
"""Namespace of the cluster DNS, the one egress every zone allows."""

DNS_POD_LABELS: Final = {"k8s-app": "kube-dns"}
"""Labels of the cluster DNS pods (CoreDNS keeps the kube-dns label)."""

DEFAULT_DENY_POLICY_NAME: Final = "default-deny"
"""Kubernetes name of a zone's deny-all NetworkPolicy."""

DNS_POLICY_NAME: Final = "allow-dns-egress"
"""Kubernetes name of a zone's DNS egress NetworkPolicy."""

QUOTA_NAME: Final = "zone-quota"
"""Kubernetes name of a zone's ResourceQuota."""

LIMIT_RANGE_NAME: Final = "zone-limits"
"""Kubernetes name of a zone's LimitRange."""

CONTAINER_CPU_REQUEST: Final = "100m"
"""LimitRange default CPU request for a container that declares none."""

CONTAINER_MEMORY_REQUEST: Final = "128Mi"
"""LimitRange default memory request for a container that declares none."""

CONTAINER_CPU_LIMIT: Final = "500m"
"""LimitRange default CPU limit for a container that declares none."""

CONTAINER_MEMORY_LIMIT: Final = "512Mi"
"""LimitRange default memory limit for a container that declares none."""

QUOTA_HARD: Final = {
    "requests.cpu": "8",
    "requests.memory": "16Gi",
    "limits.cpu": "16",
    "limits.memory": "32Gi",
    "pods": "50",
    "services.loadbalancers": "0",
    "services.nodeports": "0",
    "persistentvolumeclaims": "0",
}
"""A zone's ResourceQuota: bounded compute, no externally exposed Services, and no PVCs (stateless
by default; a platform-state zone raises `persistentvolumeclaims` explicitly)."""


def container_security_context() -> dict[str, Any]:
    """Restricted container securityContext: non-root, no escalation, read-only root, no capabilities."""
    return {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
    }


def pod_security_context() -> dict[str, Any]:
    """Restricted pod securityContext: non-root ids and the runtime's default seccomp profile."""
    return {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS_USER,
        "runAsGroup": RUN_AS_GROUP,
        "fsGroup": FS_GROUP,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def psa_labels() -> dict[str, str]:
    """Pod Security Admission: enforce, audit and warn at `restricted`, tracking the latest version."""
    labels: dict[str, str] = {}
    for mode in conventions.PSA_MODES:
        labels[conventions.PSA_LEVEL_LABEL.format(mode=mode)] = "restricted"
        labels[conventions.PSA_VERSION_LABEL.format(mode=mode)] = "latest"
    return labels


def rolling_update() -> dict[str, Any]:
    """Rolling update that adds pods before removing any, so capacity never drops during a rollout."""
    return {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}


def pdb_spec(replicas: int, match_labels: dict[str, str]) -> dict[str, Any]:
    """PodDisruptionBudget: keep one pod when there are several; with one pod allow its eviction,
    because minAvailable 1 on a single replica would block every node drain."""
    spec: dict[str, Any] = {
        "selector": {"matchLabels": dict(match_labels)},
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }
    if replicas > 1:
        spec["minAvailable"] = 1
    else:
        spec["maxUnavailable"] = 1
    return spec


def default_deny_spec() -> dict[str, Any]:
    """NetworkPolicy that selects every pod and allows nothing, in either direction."""
    return {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [], "egress": []}


def dns_egress_rule(namespace: str = DNS_NAMESPACE, pod_labels: dict[str, str] | None = None) -> dict[str, Any]:
    """Egress rule to the cluster DNS on port 53 (UDP and TCP), so pods behind deny-all still resolve."""
    labels = dict(DNS_POD_LABELS if pod_labels is None else pod_labels)
    return {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {conventions.LABEL_NAMESPACE_NAME: namespace}},
                "podSelector": {"matchLabels": labels},
            }
        ],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }


def quota_hard() -> dict[str, str]:
    """A fresh copy of QUOTA_HARD."""
    return dict(QUOTA_HARD)

