"""Clauses 2.1-2.4 beyond the basic cases: durations as Flux parses them, opt-outs, RBAC resolution,
break-glass edge cases, and Flux stacks that are compliant object by object but not together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from policy_pack.rules.helpers.durations import parse_duration

from .fixtures import UNKNOWN_STRING, deployment, pod_spec, workload
from .system_cases import complete
from .harness import analyze, analyze_stack, stack_violations, violations
from .objects import break_glass, iso, nodes, obj
from .stack_cases import flux_alerting, flux_objects, rbac_stack

INTERVAL = "flux-reconcile-interval"
EVENTS = "flux-drift-events-persisted"
RBAC = "k8s-no-human-write-rbac"
BREAK_GLASS = "break-glass-marker-complete"


@pytest.mark.parametrize(("text", "seconds"), [("1m30s", 90), ("300s", 300), ("0.5h", 1800), ("1h", 3600),
                                               ("1.5m", 90), ("90s", 90), ("5m0s", 300), ("0", 0)])
def test_go_durations_parse_like_flux(text, seconds):
    assert parse_duration(text) == Decimal(seconds)


@pytest.mark.parametrize("text", ["5 m", "5min", "1d", "", "m", "5", "1h-2m", 300.0, None])
def test_what_go_refuses_is_unparseable(text):
    assert parse_duration(text) is None


@pytest.mark.parametrize(("interval", "fragment"), [
    ("30s", 'is "30s" (30s), below Flux\'s floor of 1m'),
    ("0.1h", 'is "0.1h" (6m), above the policy\'s 5m'),
    ("5 minutes", 'is "5 minutes", not a Go duration'),
    (300.0, "is 300, not a Go duration"),
])
def test_intervals_out_of_bounds_or_unparseable_are_violations_not_crashes(interval, fragment):
    messages = violations(*obj("Kustomization", "k", "flux-system", spec={"interval": interval, "prune": True}),
                          INTERVAL)
    assert len(messages) == 1 and fragment in messages[0]


def test_missing_interval_is_a_violation_but_flux_instance_defaults_to_one_minute():
    assert violations(*obj("OCIRepository", "o", "flux-system", spec={"url": "oci://r/x"}), INTERVAL) == [
        "spec.interval is missing; set an interval between 1m and 5m"]
    instance = obj("FluxInstance", "flux", "flux-system", spec={"sync": {"kind": "GitRepository", "url": "u"}})
    assert violations(*instance, INTERVAL) == []
    slow = obj("FluxInstance", "flux", "flux-system", spec={"sync": {"url": "u", "interval": "10m"}})
    assert violations(*slow, INTERVAL)[0].startswith('spec.sync.interval is "10m"')


def test_helm_release_chart_interval_is_checked_too():
    release = obj("HelmRelease", "r", "flux-system", spec={"interval": "5m", "driftDetection": {"mode": "enabled"},
                                                          "chart": {"spec": {"chart": "x", "interval": "1h"}}})
    assert violations(*release, INTERVAL)[0].startswith('spec.chart.spec.interval is "1h"')


def test_unknown_interval_at_preview_is_advisory():
    outcome = analyze(*obj("GitRepository", "g", "flux-system", spec={"interval": UNKNOWN_STRING}))
    assert [f.enforcement for f in outcome.findings if f.policy == INTERVAL] == ["advisory"]


@pytest.mark.parametrize(("where", "key", "value"), [
    ("labels", "kustomize.toolkit.fluxcd.io/reconcile", "disabled"),
    ("annotations", "kustomize.toolkit.fluxcd.io/ssa", "IfNotPresent"),
    ("annotations", "helm.toolkit.fluxcd.io/driftDetection", "disabled"),
    ("annotations", "kustomize.toolkit.fluxcd.io/prune", "disabled"),
])
def test_every_reconcile_opt_out_is_rejected(where, key, value):
    assert violations(*obj("ConfigMap", "c"), "gitops-no-reconcile-opt-out") == []
    token, props = obj("ConfigMap", "c")
    props["metadata"][where][key] = value
    assert violations(token, props, "gitops-no-reconcile-opt-out") == [
        f'metadata.{where}["{key}"] is "{value}": the object opts out of reconcile; remove it so Flux overwrites '
        "changes made outside Git"]


def test_suspended_flux_object_is_rejected_but_suspend_false_is_fine():
    suspended = obj("HelmRelease", "r", "flux-system", spec={"suspend": True})
    assert "spec.suspend is true" in violations(*suspended, "gitops-no-reconcile-opt-out")[0]
    running = obj("HelmRelease", "r", "flux-system", spec={"suspend": False})
    assert violations(*running, "gitops-no-reconcile-opt-out") == []


def test_pod_template_without_provenance_labels_is_rejected_in_a_cronjob():
    token, props = workload("CronJob", pod_spec())
    props["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"] = {}
    messages = violations(token, props, "k8s-provenance-metadata")
    assert messages[0].startswith('spec.jobTemplate.spec.template.metadata.labels["app.kubernetes.io/managed-by"] '
                                  "is missing")


def test_group_bound_to_a_stack_role_with_write_verbs_is_rejected():
    messages = stack_violations(rbac_stack(verbs=["get", "patch", "*"]), RBAC)
    assert messages == ["ClusterRoleBinding platform-readers: roleRef ClusterRole platform-reader grants patch, *, "
                        "bound to Group platform-team; bind people to a role with only get/list/watch (e.g. "
                        "ClusterRole view) and leave write to the GitOps controller and the pipeline ServiceAccounts"]


def test_role_missing_from_the_stack_cannot_be_shown_read_only():
    messages = stack_violations(rbac_stack(role_ref={"kind": "ClusterRole", "name": "custom"})[1:], RBAC)
    assert "ClusterRole custom is not in the stack" in messages[0]


def test_service_accounts_and_system_groups_may_hold_write():
    for kind in ("ServiceAccount",):
        assert stack_violations(rbac_stack(verbs=["*"], subject_kind=kind), RBAC) == []
    assert stack_violations(rbac_stack(role_ref={"kind": "ClusterRole", "name": "view"}), RBAC) == []


def test_write_binding_with_a_valid_break_glass_marker_is_the_documented_exception():
    assert stack_violations(rbac_stack(role_ref={"kind": "ClusterRole", "name": "cluster-admin"},
                                       annotations=break_glass()), RBAC) == []
    expired = break_glass(expiry=iso(-timedelta(minutes=1)))
    assert stack_violations(rbac_stack(role_ref={"kind": "ClusterRole", "name": "cluster-admin"},
                                       annotations=expired), RBAC)


@pytest.mark.parametrize(("overrides", "fragment"), [
    ({"reason": "convenience"}, 'cdb-infra.io/break-glass-reason is "convenience", not one of incident|security'),
    ({"responsible": None}, "missing cdb-infra.io/break-glass-responsible"),
    ({"time": "yesterday"}, 'cdb-infra.io/break-glass-time "yesterday" is not an ISO 8601 date-time'),
    ({"time": "2026-01-01T10:00:00"}, "is not an ISO 8601 date-time with offset"),
    ({"expiry": iso(-timedelta(hours=2))}, "is not after cdb-infra.io/break-glass-time"),
    ({"ticket": "  "}, "missing cdb-infra.io/break-glass-ticket"),
])
def test_incomplete_or_malformed_break_glass_markers_are_rejected(overrides, fragment):
    messages = violations(*deployment(metadata={"name": "web", "annotations": break_glass(**overrides)}), BREAK_GLASS)
    assert any(fragment in message for message in messages), messages


def test_break_glass_expiry_as_a_future_date_is_accepted():
    # A bare date is midnight UTC: two days ahead stays within the 72h lifetime from a time an hour ago.
    marker = break_glass(expiry=(datetime.now(UTC) + timedelta(days=2)).date().isoformat())
    assert violations(*deployment(metadata={"name": "web", "annotations": marker}), BREAK_GLASS) == []


def test_flux_stack_without_any_alert_is_rejected_per_object():
    messages = stack_violations(nodes(*flux_objects()), EVENTS)
    assert [m.split(":")[0] for m in messages] == ["GitRepository flux-system/platform",
                                                   "Kustomization flux-system/platform",
                                                   "HelmRelease flux-system/nats"]


def test_alert_that_misses_a_kind_leaves_that_kind_uncovered():
    sources = [{"kind": "GitRepository", "name": "*"}, {"kind": "Kustomization", "name": "platform"}]
    messages = stack_violations(nodes(*flux_objects(), *flux_alerting(sources=sources)), EVENTS)
    assert len(messages) == 1 and messages[0].startswith("HelmRelease flux-system/nats: no Alert forwards")


def test_alert_at_error_severity_does_not_count():
    messages = stack_violations(nodes(*flux_objects(), *flux_alerting(severity="error")), EVENTS)
    assert len(messages) == 3 and 'eventSeverity "error" (drops Info drift events)' in messages[0]


def test_alert_in_another_namespace_does_not_cover_without_a_namespace_in_the_source():
    messages = stack_violations(nodes(*flux_objects(), *flux_alerting(namespace="monitoring")), EVENTS)
    assert len(messages) == 3


def test_flux_instance_sync_objects_need_an_alert_too():
    instance = obj("FluxInstance", "flux", "flux-system", spec={"sync": {"kind": "GitRepository", "url": "u",
                                                                          "interval": "1m"}})
    messages = stack_violations(nodes(instance), EVENTS)
    assert [m.split(":")[0] for m in messages] == ["GitRepository flux-system/flux-system",
                                                   "Kustomization flux-system/flux-system"]
    sources = [{"kind": "GitRepository", "name": "*"}, {"kind": "Kustomization", "name": "*"}]
    assert stack_violations(nodes(instance, *flux_alerting(sources=sources)), EVENTS) == []


def test_stack_without_flux_needs_no_alert():
    assert analyze_stack(complete(nodes(deployment()))).findings == []
