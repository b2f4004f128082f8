"""Helm inputs are judged even when the chart is never expanded (clauses 5 and 6).

A pulumi-kubernetes Helm v3 Release or v4 Chart is expanded by the provider (or not at all during an
offline preview), and a Flux HelmRelease by the helm-controller in the cluster. Either way the values
the program writes are inputs the pack can read: a literal credential there is a secret in code, and a
persistence switch turned on makes the release keep state in the cluster, which only a workload
declared as platform state may do (a Redis chart never, clause 4.1).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .helpers.access import get, is_list, is_mapping, mapping, text
from .helpers.conventions import PLATFORM_STATE_HOWTO, platform_state_gaps
from .helpers.metadata import Rule
from .helpers.objects import kind_of
from .helpers.conventions import ANNOTATION_NOT_A_SECRET
from .secrets import allowed_keys, value_findings

PULUMI_HELM_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart")
HELM_RELEASE = ("helm.toolkit.fluxcd.io", "HelmRelease")
# Keys under which charts switch persistent storage on (Bitnami, upstream and HashiCorp conventions).
PERSISTENCE_KEYS = frozenset(("persistence", "persistentvolume", "datastorage", "auditstorage", "storage"))
REDIS_CHARTS = ("redis", "valkey", "redis-cluster", "valkey-cluster", "redis-ha")


def is_helm(resource_type: str) -> bool:
    return resource_type in PULUMI_HELM_TYPES or kind_of(resource_type) == HELM_RELEASE


def helm_inputs(resource_type: str, props: Mapping[str, Any]) -> tuple[str, Any, Mapping[str, Any], str]:
    """(path of the values, the values, the object's metadata, the chart name) for any Helm input."""
    if resource_type in PULUMI_HELM_TYPES:
        chart = text(props, "chart") or ""
        return "values", get(props, "values"), mapping(props, "metadata"), chart
    spec = mapping(props, "spec")
    chart = text(mapping(spec, "chart", "spec"), "chart") or text(mapping(spec, "chartRef"), "name") or ""
    return "spec.values", get(spec, "values"), mapping(props, "metadata"), chart


def chart_name(chart: str) -> str:
    """"oci://registry-1.docker.io/bitnamicharts/redis" or "bitnami/redis" -> "redis"."""
    return chart.rstrip("/").rsplit("/", 1)[-1].split(":", 1)[0].lower()


def check_values_secrets(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    path, values, metadata, _ = helm_inputs(resource_type, props)
    for finding in value_findings(values, path, allowed_keys(metadata)):
        yield (f"{finding}; give the chart an existing Secret delivered by the secret manager (e.g. "
               "auth.existingSecret) instead of the credential")


def _switches(values: Any, path: str) -> Iterator[str]:
    """Paths of persistence switches that are on: <persistence-like key>.enabled: true."""
    if is_list(values):
        for index, inner in enumerate(values):
            yield from _switches(inner, f"{path}[{index}]")
        return
    if not is_mapping(values):
        return
    for key, inner in values.items():
        inner_path = f"{path}.{key}"
        if str(key).lower() in PERSISTENCE_KEYS and is_mapping(inner) and get(inner, "enabled") is True:
            yield f"{inner_path}.enabled"
        elif str(key).lower() in ("appendonly", "aof") and inner in (True, "yes"):
            yield inner_path
        else:
            yield from _switches(inner, inner_path)


def check_values_persistence(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    path, values, metadata, chart = helm_inputs(resource_type, props)
    switches = list(_switches(values, path))
    if not switches:
        return
    if chart_name(chart) in REDIS_CHARTS:
        for switch in switches:
            yield f"{switch} turns persistence on in Redis chart {chart}; Redis is transport only, set it to false"
        return
    gaps = platform_state_gaps(metadata)
    if not gaps:
        return
    for switch in switches:
        yield (f"{switch} is true, so the release keeps state, but it is not declared platform state "
               f"({'; '.join(gaps)}); set it to false, or deploy it as a Flux HelmRelease and {PLATFORM_STATE_HOWTO}")


HELM_SECRETS = Rule(
    name="helm-values-no-literal-secrets",
    description="Helm values (Release, Chart, Flux HelmRelease) carry no literal credential.",
    clause="6",
    specification="Keine Secrets im Repo (Scan + CI-Block).",
    severity=Severity.CRITICAL,
    remediation=(
        "Point charts at Secrets delivered by the secret manager (auth.existingSecret and the like) instead of "
        "writing passwords, tokens, keys or URLs with passwords into values; values marked secret by the "
        f"engine (config.require_secret) are accepted. Keys that hold no secret are listed in the annotation "
        f"{ANNOTATION_NOT_A_SECRET} of a HelmRelease."
    ),
    tags=("secrets", "helm"),
    check=check_values_secrets,
    applies_to=is_helm,
    not_applicable_reason="not a Helm release or chart",
)

HELM_PERSISTENCE = Rule(
    name="helm-values-no-persistence",
    description="Helm values switch on no persistence unless the release is declared platform state.",
    clause="5",
    specification="Stateless Services",
    severity=Severity.HIGH,
    remediation=(
        "Set persistence.enabled (persistentVolume, dataStorage, ...) to false in the values. State belongs to "
        "the platform's stores: only a Flux HelmRelease declared platform state may keep it, and a Redis or "
        "Valkey chart never does (clause 4.1)."
    ),
    tags=("stateless", "helm"),
    check=check_values_persistence,
    applies_to=is_helm,
    not_applicable_reason="not a Helm release or chart",
)

RULES = [HELM_SECRETS, HELM_PERSISTENCE]
