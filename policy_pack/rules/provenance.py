"""Clauses 2.1 and 2.2: every object says it was built from code, and Git stays the only writer.

Provenance: managed-by and component labels and the git-revision annotation on every Kubernetes
object, the labels also on pod templates (their pods are what an operator sees at run time).
Reconcile: no object may opt out of Flux overwriting it (annotations/labels, suspend on Flux objects).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .helpers.access import get, is_true, mapping, shown
from .helpers.conventions import ANNOTATION_GIT_REVISION, LABEL_COMPONENT, LABEL_MANAGED_BY, MANAGED_BY_VALUE
from .helpers.metadata import kinds_rule
from .helpers.objects import kind_of
from .helpers.podspec import find_pod_template

PROVENANCE_LABELS = (LABEL_MANAGED_BY, LABEL_COMPONENT)
FLUX_GROUP_SUFFIXES = (".toolkit.fluxcd.io", "fluxcd.controlplane.io")
# Per-object switches that keep Flux from applying, correcting or pruning an object, with the values
# that switch it off (kustomize-controller, helm-controller and flux-operator docs).
OPT_OUTS: dict[str, tuple[str, ...]] = {
    "kustomize.toolkit.fluxcd.io/reconcile": ("disabled",),
    "kustomize.toolkit.fluxcd.io/prune": ("disabled",),
    "kustomize.toolkit.fluxcd.io/ssa": ("Ignore", "IfNotPresent"),
    "helm.toolkit.fluxcd.io/driftDetection": ("disabled",),
    "fluxcd.controlplane.io/reconcile": ("disabled",),
}


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def _missing_labels(labels: Mapping[str, Any], path: str) -> Iterator[str]:
    for key in PROVENANCE_LABELS:
        if _blank(get(labels, key)):
            yield f'{path}.labels["{key}"] is missing'


def check_provenance(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    fix = (f'; set labels "{LABEL_MANAGED_BY}" (e.g. "{MANAGED_BY_VALUE}") and "{LABEL_COMPONENT}", and '
           f'annotation "{ANNOTATION_GIT_REVISION}" (commit sha or "unknown")')
    gaps = list(_missing_labels(mapping(props, "metadata", "labels"), "metadata"))
    if _blank(get(mapping(props, "metadata", "annotations"), ANNOTATION_GIT_REVISION)):
        gaps.append(f'metadata.annotations["{ANNOTATION_GIT_REVISION}"] is missing')
    template = find_pod_template(resource_type, props)
    if template is not None and template.metadata_path != "metadata":
        gaps.extend(_missing_labels(mapping(template.metadata, "labels"), template.metadata_path))
    if gaps:
        yield "; ".join(gaps) + fix


def is_flux_kind(group: str) -> bool:
    return group.endswith(FLUX_GROUP_SUFFIXES)


def check_reconcile(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    for where in ("labels", "annotations"):
        values = mapping(props, "metadata", where)
        for key, disabling in OPT_OUTS.items():
            value = get(values, key)
            if value in disabling:
                yield (f'metadata.{where}["{key}"] is {shown(value)}: the object opts out of reconcile; remove '
                       "it so Flux overwrites changes made outside Git")
    parsed = kind_of(resource_type)
    if parsed is not None and is_flux_kind(parsed[0]) and is_true(mapping(props, "spec"), "suspend"):
        yield "spec.suspend is true: reconcile is paused; remove suspend or set it to false"


PROVENANCE = kinds_rule(
    name="k8s-provenance-metadata",
    description="Every Kubernetes object names its owner tool, its component and the Git revision it came from.",
    clause="2.1",
    specification="Jede Infrastrukturressource ist als Code definiert.",
    severity=Severity.MEDIUM,
    remediation=(
        f'Set metadata.labels "{LABEL_MANAGED_BY}" and "{LABEL_COMPONENT}" and metadata.annotations '
        f'"{ANNOTATION_GIT_REVISION}" on every object, and the two labels on every pod template; the cdb '
        "components do this from their Provenance argument."
    ),
    tags=("iac", "provenance"),
    check=check_provenance,
)

NO_RECONCILE_OPT_OUT = kinds_rule(
    name="gitops-no-reconcile-opt-out",
    description="No object opts out of GitOps reconcile, and no Flux object is suspended.",
    clause="2.2",
    specification="Änderungen außerhalb von Git werden bei Reconcile überschrieben.",
    severity=Severity.HIGH,
    remediation=(
        "Remove " + ", ".join(f"{key}: {'|'.join(values)}" for key, values in OPT_OUTS.items())
        + " from labels and annotations, and spec.suspend: true from Flux objects; emergencies use the "
        "break-glass marker instead and are codified right after."
    ),
    tags=("gitops", "reconcile"),
    check=check_reconcile,
)

RULES = [PROVENANCE, NO_RECONCILE_OPT_OUT]
