"""The GitOps part: Flux installed by the stack, syncing deploy/<stack> every few minutes with prune on,
never suspended, and every Flux event at info severity published into the JetStream audit stream."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from cdb_stack.parts import BuildContext, EventBusOffer, Published, gitops
from components.errors import ComponentArgsError
from components.flux import ALERT_KINDS, FluxArgs, helm_release_spec, parse_duration
from components.flux.duration import MAX_INTERVAL_SECONDS
from components.provenance import Provenance
from tests.render import crd_schemas
from tests.stack.platform_stack import of_type, one, refusal, run_stack

GIT = "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository"
KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization"
INSTANCE = "kubernetes:fluxcd.controlplane.io/v1:FluxInstance"
PROVIDER = "kubernetes:notification.toolkit.fluxcd.io/v1beta3:Provider"
ALERT = "kubernetes:notification.toolkit.fluxcd.io/v1beta3:Alert"
STREAM = "kubernetes:jetstream.nats.io/v1beta2:Stream"
SERVICE = "kubernetes:core/v1:Service"
FLUX_GROUPS = ("source.toolkit.fluxcd.io/", "kustomize.toolkit.fluxcd.io/", "helm.toolkit.fluxcd.io/")
SYNC_TYPES = (GIT, KUSTOMIZATION, "kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository",
              "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease")


def _flux_objects(resources) -> list[Any]:
    return [r for r in resources if r.type.startswith(tuple(f"kubernetes:{g}" for g in FLUX_GROUPS))]


def alert_gaps(resources, alert: dict[str, Any]) -> list[str]:
    """Flux sources/reconcilers of the stack, by (kind, namespace), that the alert does not cover."""
    covered = {(s["kind"], s.get("namespace")) for s in alert["spec"]["eventSources"] if s["name"] == "*"}
    present = {(r.properties["kind"], r.properties["metadata"]["namespace"]) for r in _flux_objects(resources)}
    return sorted(f"{kind} in {ns}" for kind, ns in present - covered)


# --- durations, read as Flux reads them -----------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [
    ("1m", 60), ("5m", 300), ("1m30s", 90), ("300s", 300), ("0.5h", 1800), ("299999ms", Fraction(299999, 1000)),
    ("1h", 3600), ("2m0.5s", Fraction(241, 2)),
])
def test_durations_are_summed_the_way_go_parses_them(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "-1m", "1d", "1.m", "m", "5 m", "1M", " 1m"])
def test_text_that_flux_would_refuse_is_not_a_duration(text):
    with pytest.raises(ValueError, match="not a Flux duration"):
        parse_duration(text)


# --- settings validation: one line naming the key ----------------------------------------------

def test_an_interval_above_five_minutes_is_refused_naming_the_key():
    message = refusal("dev", gitops={"interval": "10m"})
    assert message.startswith("Pulumi.dev.yaml: cdb-infra:gitops.interval: interval '10m' (600s) exceeds 5m")


def test_an_interval_one_second_above_the_bound_is_refused_but_the_bound_itself_is_accepted():
    assert "exceeds 5m" in refusal("dev", gitops={"interval": "5m1s"})
    assert "exceeds 5m" in refusal("dev", gitops={"interval": "4m61s"})
    resources = run_stack("dev", gitops={"interval": "300s", "sourceInterval": "1m30s", "branch": "main"})
    assert one(resources, KUSTOMIZATION, "flux-sync")["spec"]["interval"] == "300s"


@pytest.mark.parametrize("key, value, expected", [
    ("sourceInterval", "30s", "cdb-infra:gitops.sourceInterval: interval '30s' (30s) is below Flux's floor"),
    ("retryInterval", "1 minute", "cdb-infra:gitops.retryInterval: '1 minute' is not a Flux duration"),
    ("timeout", "6m", "cdb-infra:gitops.timeout: '6m' exceeds interval '5m'"),
    ("url", "git@github.com:cdb/cdb-infra.git", "cdb-infra:gitops.url: url 'git@github.com:cdb/cdb-infra.git' uses scp syntax"),
    ("url", "http://git.example/cdb.git", "cdb-infra:gitops.url: url 'http://git.example/cdb.git' is not an https:// or ssh://"),
    ("branch", "feature..x", "cdb-infra:gitops.branch: branch 'feature..x' is not a valid Git branch name"),
    ("path", "../elsewhere", "cdb-infra:gitops.path: path '../elsewhere' must be a folder inside the repository"),
    ("fluxVersion", "2.x", "cdb-infra:gitops.fluxVersion: version '2.x' is not pinned"),
    ("operatorVersion", "v0.58.1", "cdb-infra:gitops.operatorVersion: version 'v0.58.1' is not pinned"),
    ("operatorVersion", "0.59.0", "cdb-infra:gitops.operatorVersion: operator version '0.59.0' is not vendored "
                                  "(components/vendor/flux-operator holds 0.58.1); run scripts/vendor-upstream.py refresh flux-operator"),
    ("registryNetworks", ["ghcr.io"], "cdb-infra:gitops.registryNetworks[0]: registry network 'ghcr.io' is not an IPv4 network"),
    ("audit", {"subject": "audit.v1.>"}, "cdb-infra:gitops.audit.subject: subject 'audit.v1.>' is a wildcard"),
    ("audit", {"subject": "flux-events"}, "cdb-infra:gitops.audit.subject: subject 'flux-events' carries no version token"),
    ("audit", {"address": "http://nats:4222"}, "cdb-infra:gitops.audit.address: address 'http://nats:4222' is not a NATS URL"),
    ("components", ["source-controller", "notification-controller"],
     "cdb-infra:gitops.components: components lack kustomize-controller"),
    ("cpuQuota", "8x", "cdb-infra:gitops.cpuQuota: '8x' is not a Kubernetes quantity"),
    ("suspend", True, "cdb-infra:gitops.suspend: unknown setting"),
    ("prune", False, "cdb-infra:gitops.prune: unknown setting"),
])
def test_invalid_gitops_settings_are_refused_in_one_line_naming_the_key(key, value, expected):
    assert expected in refusal("prod", gitops={key: value})


def test_flux_may_not_share_a_namespace_with_a_declared_zone():
    message = refusal("dev", gitops={"namespace": "apps"})
    assert message == (
        "Pulumi.dev.yaml: cdb-infra:gitops.namespace: 'apps' is also declared under zones; Flux needs its own namespace"
    )


def test_the_component_itself_refuses_a_slow_interval_whoever_calls_it():
    args = {"provenance": Provenance("cdb", "unknown", "cdb-infra/t"), "url": "https://g.example/r.git",
            "path": "./deploy/t", "audit_address": "nats://nats.bus.svc:4222",
            "kubernetes_api": [{"cidr": "172.18.0.2/32", "ports": [6443]}]}
    FluxArgs.parse(args)
    with pytest.raises(ComponentArgsError, match="interval: interval '6m' .* exceeds 5m"):
        FluxArgs.parse({**args, "interval": "6m"})


# --- what the stack records ----------------------------------------------------------------------

@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_stack_syncs_its_rendered_path_with_prune_on_and_never_suspended(stack):
    resources = run_stack(stack)
    source = one(resources, GIT, "flux-source")
    sync = one(resources, KUSTOMIZATION, "flux-sync")
    assert source["spec"]["url"].startswith("https://") and source["spec"]["ref"] == {"branch": "main"}
    assert sync["spec"]["path"] == f"./deploy/{stack}"
    assert sync["spec"]["sourceRef"] == {"kind": "GitRepository", "name": source["metadata"]["name"]}
    assert sync["spec"]["prune"] is True
    for r in resources:
        if r.type in SYNC_TYPES:
            assert r.properties["spec"].get("suspend") is not True, r.name
            assert 60 <= parse_duration(r.properties["spec"]["interval"]) <= MAX_INTERVAL_SECONDS, r.name
        if r.type.endswith(":HelmRelease"):
            assert r.properties["spec"]["driftDetection"]["mode"] == "enabled", r.name


@pytest.mark.parametrize("stack, size", [("dev", "small"), ("prod", "medium")])
def test_flux_is_installed_by_the_operator_at_a_pinned_version(stack, size):
    resources = run_stack(stack)
    instance = one(resources, INSTANCE, "flux-instance")
    operator = one(resources, "kubernetes:apps/v1:Deployment", "flux-operator-deployment-flux-operator")
    assert operator["spec"]["template"]["spec"]["containers"][0]["image"].endswith("/flux-operator:v0.58.1")
    assert operator["metadata"]["namespace"] == "flux-system"
    assert instance["metadata"]["name"] == "flux" and instance["metadata"]["namespace"] == "flux-system"
    assert instance["spec"]["distribution"]["version"] == "2.9.0"
    assert instance["spec"]["cluster"]["size"] == size
    every = instance["metadata"]["annotations"]["fluxcd.controlplane.io/reconcileEvery"]
    assert parse_duration(every) <= MAX_INTERVAL_SECONDS


def test_flux_events_go_to_the_event_bus_and_its_audit_stream_stores_them():
    resources = run_stack("prod")
    provider = one(resources, PROVIDER, "flux-provider")["spec"]
    assert provider["type"] == "nats" and provider["channel"] == "audit.v1.flux"
    host, port = provider["address"].removeprefix("nats://").rsplit(":", 1)
    service, namespace = host.split(".")[:2]
    assert any(r.properties["metadata"]["name"] == service and r.properties["metadata"]["namespace"] == namespace
               and int(port) in [p["port"] for p in r.properties["spec"]["ports"]] for r in of_type(resources, SERVICE))
    audit = [s["spec"] for s in (r.properties for r in of_type(resources, STREAM))
             if any(provider["channel"].startswith(subj.rstrip(">")) or subj == provider["channel"] for subj in s["spec"]["subjects"])]
    assert audit and audit[0]["storage"] == "file" and audit[0]["denyDelete"] and audit[0]["denyPurge"]


def _plan_ctx():
    from cdb_stack.settings import parse_settings
    from cdb_stack.stack import plan_stack
    from tests.stack.platform_stack import stack_config

    return plan_stack(parse_settings(stack_config("dev")), "cdb-infra", "dev")


def _bus(url: str, subject: str) -> Published:
    return Published(event_bus=EventBusOffer(url=url, audit_subject=subject, namespace="x", client_labels={}))


def test_without_a_published_event_bus_the_provider_falls_back_to_the_default_address():
    planned = _plan_ctx().parts["gitops"]
    args = gitops._final_args(planned, BuildContext(_plan_ctx().context))
    assert args.audit_address == "nats://nats.event-bus.svc:4222" and args.audit_subject == "audit.v1.flux"
    published = BuildContext(_plan_ctx().context, published=_bus("nats://bus.x.svc:4222", "audit.v2.flux"))
    args = gitops._final_args(planned, published)
    assert (args.audit_address, args.audit_subject) == ("nats://bus.x.svc:4222", "audit.v2.flux")


def test_an_audit_address_in_settings_wins_over_the_published_one():
    from cdb_stack.settings import parse_settings
    from cdb_stack.stack import plan_stack
    from tests.stack.platform_stack import stack_config

    config = stack_config("dev", gitops={"audit": {"address": "tls://audit.example:4222"}})
    plan = plan_stack(parse_settings(config), "cdb-infra", "dev")
    ctx = BuildContext(plan.context, published=_bus("nats://bus.x.svc:4222", "audit.v1.flux"))
    assert gitops._final_args(plan.parts["gitops"], ctx).audit_address == "tls://audit.example:4222"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_alert_covers_every_flux_kind_present_in_the_stack_at_info_severity(stack):
    resources = run_stack(stack)
    alert = next(r.properties for r in of_type(resources, ALERT))
    assert alert["spec"]["eventSeverity"] == "info"
    assert alert["spec"]["providerRef"]["name"] == one(resources, PROVIDER, "flux-provider")["metadata"]["name"]
    assert _flux_objects(resources), "the stack declares Flux objects"
    assert alert_gaps(resources, alert) == []
    namespaces = {r.properties["metadata"]["name"] for r in of_type(resources, "kubernetes:core/v1:Namespace")}
    for namespace in namespaces:  # also every kind a later change might add, in every namespace
        for kind in ALERT_KINDS:
            assert {"kind": kind, "name": "*", "namespace": namespace} in alert["spec"]["eventSources"]


def test_an_alert_missing_a_kind_is_found_by_the_coverage_check():
    resources = run_stack("dev")
    alert = next(r.properties for r in of_type(resources, ALERT))
    narrowed = {"spec": {**alert["spec"], "eventSources": [
        s for s in alert["spec"]["eventSources"] if s["kind"] != "Kustomization"]}}
    assert alert_gaps(resources, narrowed) == ["Kustomization in flux-system"]


def test_every_flux_object_carries_provenance_and_an_explicit_namespace():
    resources = run_stack("dev")
    for r in resources:
        if r.type in (GIT, KUSTOMIZATION, INSTANCE, PROVIDER, ALERT):
            meta = r.properties["metadata"]
            assert meta["namespace"] == "flux-system"
            assert meta["labels"]["app.kubernetes.io/managed-by"] == "pulumi"
            assert set(meta["annotations"]) >= {"cdb-infra.io/git-revision", "cdb-infra.io/source"}


def test_helm_releases_built_here_always_correct_drift_and_match_the_crd():
    spec = helm_release_spec("podinfo", "6.7.1", "HelmRepository", "podinfo", "5m", values={"replicaCount": 2})
    assert spec["driftDetection"] == {"mode": "enabled"}
    manifest = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "spec": spec}
    assert crd_schemas.problems(manifest) == []
