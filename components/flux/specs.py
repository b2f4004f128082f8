"""The specs of the Flux objects, as pure functions over validated values.

Field names are checked against the upstream CRDs (test data in tests/render/data/crds names each
source: fluxcd/source-controller, kustomize-controller, helm-controller, notification-controller
`config/crd/bases`, controlplaneio-fluxcd/flux-operator `config/crd/bases`). What CDB_INFRA_POLICY 2.2/2.3
demands is fixed here, not offered as an option: prune on, never suspended, HelmRelease drift
detection enabled, alerts at info severity (an `error` alert drops the Info events that report drift
corrections).
"""

from __future__ import annotations

from typing import Any, Final

OPERATOR_API_VERSION: Final = "fluxcd.controlplane.io/v1"
SOURCE_API_VERSION: Final = "source.toolkit.fluxcd.io/v1"
KUSTOMIZE_API_VERSION: Final = "kustomize.toolkit.fluxcd.io/v1"
HELM_API_VERSION: Final = "helm.toolkit.fluxcd.io/v2"
# Provider and Alert are still served as v1beta3 (their storage version); only Receiver is v1.
NOTIFICATION_API_VERSION: Final = "notification.toolkit.fluxcd.io/v1beta3"

# The operator accepts exactly one FluxInstance, named `flux` (a CEL rule of its CRD).
INSTANCE_NAME: Final = "flux"

# Every Flux kind that produces reconcile or drift events: sources, then reconcilers.
SOURCE_KINDS: Final = ("GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket")
RECONCILER_KINDS: Final = ("Kustomization", "HelmRelease")
ALERT_KINDS: Final = SOURCE_KINDS + RECONCILER_KINDS
# API groups whose objects are Flux sources or reconcilers (for checks over a whole stack).
FLUX_GROUPS: Final = ("source.toolkit.fluxcd.io", "kustomize.toolkit.fluxcd.io", "helm.toolkit.fluxcd.io")

CORE_COMPONENTS: Final = ("source-controller", "kustomize-controller", "helm-controller", "notification-controller")
# What this stack's own objects need: a Git source, a Kustomization and the audit alert.
REQUIRED_COMPONENTS: Final = ("source-controller", "kustomize-controller", "notification-controller")
KNOWN_COMPONENTS: Final = CORE_COMPONENTS + (
    "image-reflector-controller", "image-automation-controller", "source-watcher",
)


def flux_instance_spec(
    version: str,
    registry: str,
    artifact: str,
    components: tuple[str, ...],
    cluster_size: str,
    common_annotations: dict[str, str],
    common_labels: dict[str, str],
) -> dict[str, Any]:
    """FluxInstance `spec`: the pinned distribution, Flux's own network policies, and our provenance
    stamped on everything the operator installs (commonMetadata)."""
    return {
        "distribution": {"version": version, "registry": registry, "artifact": artifact},
        "components": list(components),
        "cluster": {"type": "kubernetes", "size": cluster_size, "multitenant": False, "networkPolicy": True},
        "commonMetadata": {"labels": dict(common_labels), "annotations": dict(common_annotations)},
        # Sync is declared as explicit GitRepository/Kustomization objects, so the pack sees them.
        "wait": True,
    }


def git_repository_spec(
    url: str, branch: str, interval: str, timeout: str, secret_name: str | None, ignore: str | None
) -> dict[str, Any]:
    spec: dict[str, Any] = {"url": url, "ref": {"branch": branch}, "interval": interval, "timeout": timeout}
    if secret_name:
        spec["secretRef"] = {"name": secret_name}
    if ignore:
        spec["ignore"] = ignore
    return spec


def kustomization_spec(
    source_name: str, path: str, interval: str, retry_interval: str, timeout: str, wait: bool
) -> dict[str, Any]:
    """Kustomization `spec`: prune always on (objects removed from Git are removed from the cluster)."""
    return {
        "sourceRef": {"kind": "GitRepository", "name": source_name},
        "path": path,
        "interval": interval,
        "retryInterval": retry_interval,
        "timeout": timeout,
        "prune": True,
        "wait": wait,
        "force": False,
    }


def helm_release_spec(
    chart: str,
    version: str,
    source_kind: str,
    source_name: str,
    interval: str,
    values: dict[str, Any] | None = None,
    target_namespace: str | None = None,
) -> dict[str, Any]:
    """HelmRelease `spec` with drift detection enabled: helm-controller's default is `disabled`,
    which would let in-cluster edits of a chart's objects stand (clause 2.3)."""
    if source_kind not in ("HelmRepository", "GitRepository", "Bucket"):
        raise ValueError(f"chart source kind {source_kind!r} is not a HelmChart source; use HelmRepository")
    spec: dict[str, Any] = {
        "interval": interval,
        "chart": {
            "spec": {
                "chart": chart,
                "version": version,
                "sourceRef": {"kind": source_kind, "name": source_name},
                "interval": interval,
            }
        },
        "driftDetection": {"mode": "enabled"},
        "install": {"remediation": {"retries": 3}},
        "upgrade": {"remediation": {"retries": 3}},
    }
    if values:
        spec["values"] = values
    if target_namespace:
        spec["targetNamespace"] = target_namespace
    return spec


def nats_provider_spec(address: str, subject: str, secret_name: str | None) -> dict[str, Any]:
    """Provider `spec` of type nats: notification-controller publishes each event's JSON on `channel`."""
    spec: dict[str, Any] = {"type": "nats", "address": address, "channel": subject}
    if secret_name:
        spec["secretRef"] = {"name": secret_name}
    return spec


def alert_spec(provider_name: str, namespaces: tuple[str, ...], kinds: tuple[str, ...] = ALERT_KINDS) -> dict[str, Any]:
    """Alert `spec` over every kind in every namespace at info severity.

    notification-controller matches an event source only in its exact namespace (no wildcard
    namespace), so there is one entry per kind and namespace.
    """
    return {
        "providerRef": {"name": provider_name},
        "eventSeverity": "info",
        "eventSources": [
            {"kind": kind, "name": "*", "namespace": namespace}
            for namespace in sorted(set(namespaces))
            for kind in kinds
        ],
    }
