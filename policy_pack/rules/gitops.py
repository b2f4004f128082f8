"""Clause 2.3: reconcile is always on, at most every 5 minutes, and every drift event is kept.

Intervals are read as Flux reads them (Go durations); one that Flux could not parse is a violation,
and Flux's own floor of one minute is the lower bound. A stack with Flux objects must also forward
their events at info severity (error drops the Info events of drift correction) to a Provider that
persists them: nats (the JetStream audit stream) or otel (the collector that ships to Loki).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from pulumi_policy import Severity

from .helpers.access import get, indexed, mapping, shown, text
from .helpers.durations import parse_duration, shown_seconds
from .helpers.metadata import StackRule, kinds_rule
from .helpers.objects import KubeObject, kind_of, objects, selector_matches

SOURCE = "source.toolkit.fluxcd.io"
KUSTOMIZE = "kustomize.toolkit.fluxcd.io"
HELM = "helm.toolkit.fluxcd.io"
NOTIFICATION = "notification.toolkit.fluxcd.io"
OPERATOR = "fluxcd.controlplane.io"
SOURCE_KINDS = tuple((SOURCE, kind) for kind in ("GitRepository", "OCIRepository", "HelmRepository", "Bucket",
                                                  "HelmChart"))
KUSTOMIZATION = (KUSTOMIZE, "Kustomization")
HELM_RELEASE = (HELM, "HelmRelease")
FLUX_INSTANCE = (OPERATOR, "FluxInstance")
# Objects whose events notification-controller can forward (Alert eventSources kinds).
EVENT_SOURCE_KINDS = SOURCE_KINDS + (KUSTOMIZATION, HELM_RELEASE)
SYNC_KINDS = EVENT_SOURCE_KINDS + (FLUX_INSTANCE,)
MIN_INTERVAL = Decimal(60)
MAX_INTERVAL = Decimal(300)
PERSISTING_PROVIDERS = ("nats", "otel")


def interval_problem(value: Any) -> str | None:
    if value is None:
        return "is missing"
    seconds = parse_duration(value)
    if seconds is None:
        return f'is {shown(value)}, not a Go duration (write e.g. "1m", "90s", "1m30s", "0.05h")'
    if seconds < MIN_INTERVAL:
        return f"is {shown(value)} ({shown_seconds(seconds)}), below Flux's floor of 1m"
    if seconds > MAX_INTERVAL:
        return f"is {shown(value)} ({shown_seconds(seconds)}), above the policy's 5m"
    return None


def _intervals(resource_type: str, props: Mapping[str, Any]) -> Iterator[tuple[str, Any, bool]]:
    """(field path, value, required) of every reconcile interval of a Flux object."""
    if kind_of(resource_type) == FLUX_INSTANCE:
        sync = get(mapping(props, "spec"), "sync")
        if sync is not None:
            # The operator defaults an absent sync.interval to 1m, which is within bounds.
            yield "spec.sync.interval", get(mapping(sync), "interval") if isinstance(sync, Mapping) else None, False
        return
    yield "spec.interval", get(mapping(props, "spec"), "interval"), True
    if kind_of(resource_type) == HELM_RELEASE:
        yield "spec.chart.spec.interval", get(mapping(props, "spec", "chart", "spec"), "interval"), False


def check_interval(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    for path, value, required in _intervals(resource_type, props):
        if value is None and not required:
            continue
        problem = interval_problem(value)
        if problem:
            yield f"{path} {problem}; set an interval between 1m and 5m"


def check_prune(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    prune = get(mapping(props, "spec"), "prune")
    if prune is not True:
        yield (f"spec.prune is {shown(prune)}; set prune: true so objects removed from Git are removed from the "
               "cluster")


def check_drift_detection(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    mode = get(mapping(props, "spec", "driftDetection"), "mode")
    if mode != "enabled":
        yield (f"spec.driftDetection.mode is {shown(mode)}; set it to \"enabled\" so helm-controller detects "
               "and corrects drift (warn only reports, disabled is the default)")


def _implied_objects(instance: KubeObject) -> Iterator[tuple[str, str | None, str | None, Mapping[str, Any]]]:
    """The source and Kustomization a FluxInstance's sync creates (named after its namespace)."""
    sync = mapping(instance.spec, "sync")
    if not sync:
        return
    name = text(sync, "name") or instance.namespace
    yield text(sync, "kind") or "GitRepository", name, instance.namespace, {}
    yield "Kustomization", name, instance.namespace, {}


def _covers(alert: KubeObject, kind: str, name: str | None, namespace: str | None, labels: Mapping[str, Any]) -> bool:
    for _, source in indexed(alert.spec, "eventSources", ""):
        if text(source, "kind") != kind:
            continue
        wanted_ns = text(source, "namespace") or alert.namespace
        if wanted_ns != namespace:
            continue
        wanted = text(source, "name")
        if wanted != "*" and wanted != name:
            continue
        if mapping(source, "matchLabels") and not selector_matches(source, labels):
            continue
        return True
    return False


def _persisting_alerts(resources: Sequence[Any]) -> tuple[list[KubeObject], list[str]]:
    """Alerts at info severity whose Provider persists events, and why the others do not count."""
    providers = {(p.namespace, p.name): p for p in objects(resources, ((NOTIFICATION, "Provider"),))}
    good, notes = [], []
    for alert in objects(resources, ((NOTIFICATION, "Alert"),)):
        severity = text(alert.spec, "eventSeverity") or "info"
        provider_name = text(mapping(alert.spec, "providerRef"), "name")
        provider = providers.get((alert.namespace, provider_name))
        if severity != "info":
            notes.append(f"{alert.label} has eventSeverity {shown(severity)} (drops Info drift events)")
        elif provider is None:
            notes.append(f"{alert.label} points at Provider {shown(provider_name)}, which is not in the stack")
        elif text(provider.spec, "type") not in PERSISTING_PROVIDERS:
            notes.append(f"{alert.label} sends to {provider.label} of type {shown(text(provider.spec, 'type'))}, "
                         "which does not persist events")
        else:
            good.append(alert)
    return good, notes


def check_events_persisted(resources: Sequence[Any]) -> Iterator[tuple[str, str | None]]:
    flux = [(obj.kind, obj.name, obj.namespace, obj.labels, obj.urn)
            for obj in objects(resources, EVENT_SOURCE_KINDS)]
    for instance in objects(resources, (FLUX_INSTANCE,)):
        flux.extend((kind, name, ns, labels, instance.urn) for kind, name, ns, labels in _implied_objects(instance))
    if not flux and not any(True for _ in objects(resources, (FLUX_INSTANCE,))):
        return
    alerts, notes = _persisting_alerts(resources)
    why = ("; " + "; ".join(notes)) if notes else ""
    fix = ("add a notification.toolkit.fluxcd.io Alert with eventSeverity info, eventSources covering it "
           f"(name \"*\" or its name) and a providerRef to a Provider of type {' or '.join(PERSISTING_PROVIDERS)}")
    if not alerts and not flux:
        yield f"the stack runs a FluxInstance but no Alert persists its events{why}; {fix}", None
    for kind, name, namespace, labels, urn in flux:
        if not any(_covers(alert, kind, name, namespace, labels) for alert in alerts):
            yield f"{kind} {namespace}/{name}: no Alert forwards its events to a persisting Provider{why}; {fix}", urn


SPEC_23 = "Reconcile-Intervall: ≤ 5 Minuten."

INTERVAL = kinds_rule(
    name="flux-reconcile-interval",
    description="Every Flux sync object reconciles at least every 5 minutes (and not more often than every minute).",
    clause="2.3",
    specification=SPEC_23,
    severity=Severity.HIGH,
    remediation=(
        "Set spec.interval (FluxInstance: spec.sync.interval; HelmRelease also spec.chart.spec.interval when "
        "set) of GitRepository, OCIRepository, HelmRepository, Bucket, HelmChart, Kustomization and "
        'HelmRelease to a Go duration between 1m and 5m, e.g. "1m" or "5m".'
    ),
    tags=("gitops", "drift", "flux"),
    kinds=SYNC_KINDS,
    check=check_interval,
)

PRUNE = kinds_rule(
    name="flux-kustomization-prune",
    description="Flux Kustomizations prune what was removed from Git.",
    clause="2.3",
    specification="GitOps-Reconcile ist immer aktiv.",
    severity=Severity.HIGH,
    remediation="Set spec.prune: true on every kustomize.toolkit.fluxcd.io Kustomization.",
    tags=("gitops", "drift", "flux"),
    kinds=(KUSTOMIZATION,),
    check=check_prune,
)

DRIFT_DETECTION = kinds_rule(
    name="flux-helmrelease-drift-detection",
    description="Flux HelmReleases detect and correct drift.",
    clause="2.3",
    specification="GitOps-Reconcile ist immer aktiv.",
    severity=Severity.HIGH,
    remediation='Set spec.driftDetection.mode: "enabled" on every helm.toolkit.fluxcd.io HelmRelease.',
    tags=("gitops", "drift", "flux"),
    kinds=(HELM_RELEASE,),
    check=check_drift_detection,
)

EVENTS_PERSISTED = StackRule(
    name="flux-drift-events-persisted",
    description="A stack with Flux objects forwards all their events at info severity to a persisting Provider.",
    clause="2.3",
    specification="Drift-Events werden geloggt.",
    severity=Severity.HIGH,
    remediation=(
        "Add a notification.toolkit.fluxcd.io Alert (eventSeverity: info) whose eventSources cover every "
        'GitRepository, OCIRepository, HelmRepository, Bucket, HelmChart, Kustomization and HelmRelease (name "*" '
        "per kind and namespace, or each name), with providerRef naming a Provider in the Alert's namespace "
        "of type nats (the JetStream audit stream) or otel (the collector that ships to Loki)."
    ),
    tags=("gitops", "drift", "audit", "flux"),
    check=check_events_persisted,
)

RULES = [INTERVAL, PRUNE, DRIFT_DETECTION, EVENTS_PERSISTED]
