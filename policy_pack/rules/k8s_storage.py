"""Clause 5, K8s-Readiness: stateless services, config-only volume kinds, no local path dependencies."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .helpers.access import get, indexed, is_set, mapping, shown, text
from .helpers.conventions import PLATFORM_STATE_HOWTO, platform_state_gaps
from .helpers.metadata import pod_template_rule
from .helpers.podspec import PodTemplate, volume_label

CLAUSE = "5"
HOSTNAME_LABEL = "kubernetes.io/hostname"
SECRETS_STORE_CSI_DRIVER = "secrets-store.csi.k8s.io"
# Config and scratch only; persistentVolumeClaim is admitted here and judged by the stateless rule.
ALLOWED_VOLUME_KINDS = ("configMap", "secret", "projected", "downwardAPI", "emptyDir", "ephemeral", "csi",
                        "persistentVolumeClaim")


def _volume_kinds(volume: Mapping[str, Any]) -> list[str]:
    return [key for key in volume if key != "name"]


def _persistent_claims(template: PodTemplate) -> Iterator[tuple[str, str]]:
    """(label, what it claims) for every PVC volume and StatefulSet claim template."""
    for path, volume in indexed(template.spec, "volumes", template.path):
        if is_set(get(volume, "persistentVolumeClaim")):
            claim = text(mapping(volume, "persistentVolumeClaim"), "claimName")
            yield volume_label(path, volume), f"mounts PersistentVolumeClaim {shown(claim)}"
    # StatefulSets and their look-alikes (OpenKruise CloneSet, Advanced StatefulSet) claim by template.
    if template.path.startswith("spec.template"):
        for path, claim_template in indexed(template.owner_spec, "volumeClaimTemplates", "spec"):
            name = text(mapping(claim_template, "metadata"), "name")
            label = f'{path} (name "{name}")' if name else path
            yield label, f"{template.kind} claims persistent storage"


def check_stateless(template: PodTemplate) -> Iterator[str]:
    claims = list(_persistent_claims(template))
    # The declaration is read only when something claims storage, so an unknown label during preview
    # does not block the verdict for workloads that are stateless anyway.
    gaps = platform_state_gaps(template.owner_metadata) if claims else []
    if not gaps:
        return
    why = "; ".join(gaps)
    for label, what in claims:
        yield (f"{label}: {what} but the workload is not declared platform state ({why}); keep state in "
               f"the platform's stores (emptyDir for scratch), or {PLATFORM_STATE_HOWTO}")


def check_volume_kinds(template: PodTemplate) -> Iterator[str]:
    for path, volume in indexed(template.spec, "volumes", template.path):
        label = volume_label(path, volume)
        for kind in _volume_kinds(volume):
            if not is_set(volume[kind]):
                continue
            if kind not in ALLOWED_VOLUME_KINDS:
                yield (f"{label}: volume kind {kind} is not allowed; mount config through configMap/secret/"
                       "projected/downwardAPI and scratch space through emptyDir or ephemeral")
            elif kind == "csi":
                driver = text(mapping(volume, "csi"), "driver")
                if driver != SECRETS_STORE_CSI_DRIVER:
                    found = f'"{driver}"' if driver else "no driver"
                    yield (f"{label}: csi volume uses {found}; only the {SECRETS_STORE_CSI_DRIVER} driver "
                           "(secrets from the secret manager) is allowed")


def _hostname_terms(template: PodTemplate) -> Iterator[str]:
    affinity_path = f"{template.path}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
    required = mapping(template.spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
    for term_path, term in indexed(required, "nodeSelectorTerms", affinity_path):
        for path, expression in indexed(term, "matchExpressions", term_path):
            if text(expression, "key") == HOSTNAME_LABEL:
                yield f"{path}: required node affinity on {HOSTNAME_LABEL} pins the pod to named nodes"
        for path, expression in indexed(term, "matchFields", term_path):
            if text(expression, "key") == "metadata.name":
                yield f"{path}: required node affinity on metadata.name pins the pod to named nodes"


def check_node_pinning(template: PodTemplate) -> Iterator[str]:
    fix = "remove it and schedule by labels that many nodes share, keeping state off the node's disk"
    if is_set(get(template.spec, "nodeName")):
        yield f"{template.path}.nodeName pins the pod to node {shown(get(template.spec, 'nodeName'))}; {fix}"
    node_selector = mapping(template.spec, "nodeSelector")
    if HOSTNAME_LABEL in node_selector:
        yield (f'{template.path}.nodeSelector["{HOSTNAME_LABEL}"] pins the pod to one node; {fix}')
    for message in _hostname_terms(template):
        yield f"{message}; {fix}"


STATELESS = pod_template_rule(
    name="k8s-stateless-workloads",
    description="Workloads keep no persistent state unless they are declared platform state.",
    clause=CLAUSE,
    specification="Stateless Services",
    severity=Severity.HIGH,
    remediation=(
        "Remove persistentVolumeClaim volumes and StatefulSet volumeClaimTemplates and keep state in the "
        "platform's stores (object store, event bus). Only platform state may persist: "
        + PLATFORM_STATE_HOWTO + "."
    ),
    tags=("k8s-readiness", "stateless"),
    check=check_stateless,
)

VOLUME_KINDS = pod_template_rule(
    name="k8s-allowed-volume-kinds",
    description="Pods mount only config, secret, downward-API and scratch volumes (and declared state claims).",
    clause=CLAUSE,
    specification="Config nur via ENV/ConfigMaps/Secrets. Keine lokalen Pfadabhängigkeiten.",
    severity=Severity.HIGH,
    remediation=(
        "Use only configMap, secret, projected, downwardAPI, emptyDir, ephemeral and persistentVolumeClaim "
        f"volumes, and csi only with the {SECRETS_STORE_CSI_DRIVER} driver; replace hostPath, local, nfs and "
        "every other kind."
    ),
    tags=("k8s-readiness", "config", "volumes"),
    check=check_volume_kinds,
)

NODE_PINNING = pod_template_rule(
    name="k8s-no-node-pinning",
    description="Pods are not pinned to a single node (no nodeName, no hostname selector or required affinity).",
    clause=CLAUSE,
    specification="Keine lokalen Pfadabhängigkeiten",
    severity=Severity.MEDIUM,
    remediation=(
        "Remove spec.nodeName, nodeSelector on kubernetes.io/hostname and required node affinity on "
        "kubernetes.io/hostname or metadata.name; use labels shared by a pool of nodes instead."
    ),
    tags=("k8s-readiness", "scheduling"),
    check=check_node_pinning,
)

RULES = [STATELESS, VOLUME_KINDS, NODE_PINNING]
