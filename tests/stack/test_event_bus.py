"""The event bus part (NATS JetStream, NACK, streams from StreamSpec) on recorded wire inputs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdb_core.errors import SettingsError
from cdb_stack.parts import BuildContext, PlanContext, event_bus
from cdb_stack.settings import StackSettings, parse_settings
from cdb_stack.stack import plan_stack
from components import conventions
from components.nats import nack
from components.provenance import Provenance
from components.streams import SUBJECT_PATTERN
from tests.components.harness import Recording, run_program

ROOT = Path(__file__).resolve().parents[2]
REVISION = "0123456789abcdef0123456789abcdef01234567"
STS = "kubernetes:apps/v1:StatefulSet"
STREAM = "kubernetes:jetstream.nats.io/v1beta2:Stream"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def stack_settings(stack: str, **parts: Any) -> StackSettings:
    """The stack's own config file, with some `cdb-infra:<key>` values replaced."""
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    config.update({f"cdb-infra:{key}": value for key, value in parts.items()})
    return parse_settings(config, source=f"Pulumi.{stack}.yaml")


def context(settings: StackSettings, stack: str) -> PlanContext:
    provenance = Provenance("cdb", REVISION, f"cdb-infra/{stack}")
    return PlanContext("cdb-infra", stack, settings.environment.value, provenance, settings)


def record(program) -> Recording:
    """run_program with a current event loop (a test that used asyncio.run may have left none)."""
    asyncio.set_event_loop(asyncio.new_event_loop())
    return run_program(program)


def build(stack: str, **parts: Any) -> tuple[Recording, BuildContext, event_bus.Planned]:
    settings = stack_settings(stack, **parts)
    ctx = context(settings, stack)
    planned = event_bus.plan(settings.event_bus, ctx)
    build_ctx = BuildContext(ctx)
    return record(lambda: event_bus.build(planned, build_ctx)), build_ctx, planned


def refusal(stack: str, **parts: Any) -> str:
    settings = stack_settings(stack, **parts)
    with pytest.raises(SettingsError) as caught:
        plan_stack(settings, "cdb-infra", stack, source=f"Pulumi.{stack}.yaml")
    message = str(caught.value)
    assert "\n" not in message
    return message


def nats_conf(recording: Recording) -> str:
    return recording.one("kubernetes:core/v1:ConfigMap", "nats-config").inputs["data"]["nats.conf"]


def container(recording: Recording, type_: str, name: str) -> dict[str, Any]:
    return recording.one(type_, name).inputs["spec"]["template"]["spec"]["containers"][0]


def test_dev_runs_one_server_without_cluster_routes_and_single_replica_streams():
    recording, _, _ = build("dev")
    assert recording.one(STS).inputs["spec"]["replicas"] == 1
    assert "cluster {" not in nats_conf(recording)
    assert {s.inputs["spec"]["replicas"] for s in recording.of_type(STREAM)} == {1}


def test_prod_runs_three_servers_with_routes_to_each_and_three_replica_streams():
    recording, _, _ = build("prod")
    spec = recording.one(STS).inputs["spec"]
    assert spec["replicas"] == 3 and spec["podManagementPolicy"] == "Parallel"
    conf = nats_conf(recording)
    for index in range(3):
        assert f"nats://nats-{index}.nats-headless.event-bus.svc.cluster.local:6222" in conf
    assert {s.inputs["spec"]["replicas"] for s in recording.of_type(STREAM)} == {3}
    spread = spec["template"]["spec"]["topologySpreadConstraints"][0]
    assert spread["topologyKey"] == "kubernetes.io/hostname" and spread["whenUnsatisfiable"] == "DoNotSchedule"


def test_probes_use_the_healthz_variants_on_the_monitor_port():
    recording, _, _ = build("prod")
    nats = container(recording, STS, "nats")
    monitor = {p["name"]: p["containerPort"] for p in nats["ports"]}["monitor"]
    assert monitor == 8222 and 'http: "0.0.0.0:8222"' in nats_conf(recording)
    paths = {kind: nats[kind]["httpGet"]["path"] for kind in ("startupProbe", "readinessProbe", "livenessProbe")}
    assert paths == {
        "startupProbe": "/healthz",
        "readinessProbe": "/healthz?js-server-only=true",
        "livenessProbe": "/healthz?js-enabled-only=true",
    }
    assert {nats[kind]["httpGet"]["port"] for kind in paths} == {"monitor"}


def test_the_server_claims_storage_only_as_declared_event_bus_state():
    recording, _, _ = build("prod")
    sts = recording.one(STS).inputs
    assert sts["metadata"]["labels"][conventions.LABEL_WORKLOAD_CLASS] == "platform-state"
    assert sts["metadata"]["annotations"][conventions.ANNOTATION_PLATFORM_STATE] == "event-bus"
    claim = sts["spec"]["volumeClaimTemplates"][0]
    assert claim["metadata"]["name"] == "data" and claim["spec"]["resources"]["requests"]["storage"] == "50Gi"
    mounts = {m["name"]: m["mountPath"] for m in container(recording, STS, "nats")["volumeMounts"]}
    assert mounts["data"] == "/data" and 'store_dir: "/data"' in nats_conf(recording)
    # Nothing else in the part claims storage, and the zone admits exactly one claim per server.
    others = [r for r in recording.kubernetes_objects() if r.type != STS and "volumeClaimTemplates" in str(r.inputs)]
    assert others == []
    quota = recording.one("kubernetes:core/v1:ResourceQuota").inputs["spec"]["hard"]
    assert quota["persistentvolumeclaims"] == "3"


def test_stream_crs_are_generated_from_streamspec_with_version_tokens():
    recording, _, planned = build("prod")
    crs = {r.inputs["spec"]["name"]: r.inputs for r in recording.of_type(STREAM)}
    assert set(crs) == {spec.name for spec in planned.args.streams} == {"AUDIT", "CDB_EVENTS"}
    for spec in planned.args.streams:
        cr = crs[spec.name]
        assert cr["apiVersion"] == "jetstream.nats.io/v1beta2" and cr["kind"] == "Stream"
        assert cr["metadata"]["namespace"] == "event-bus"
        assert cr["spec"] == {**spec.to_nack_spec(), "preventDelete": spec.deny_delete}
        assert cr["spec"]["storage"] == "file" and cr["spec"]["retention"] == "limits"
        assert cr["spec"]["duplicateWindow"] == "2m"
        assert all(SUBJECT_PATTERN.match(subject) for subject in cr["spec"]["subjects"])


def test_the_audit_stream_denies_delete_and_purge_and_outlives_its_resource():
    recording, build_ctx, _ = build("dev")
    audit = recording.one(STREAM, "nats-stream-audit").inputs["spec"]
    assert audit["subjects"] == ["audit.v1.>"]
    assert audit["denyDelete"] is True and audit["denyPurge"] is True and audit["preventDelete"] is True
    labels = recording.one(STREAM, "nats-stream-audit").inputs["metadata"]["labels"]
    assert labels["cdb-infra.io/stream-class"] == "audit"
    assert "cdb-infra.io/stream-class" not in recording.one(STREAM, "nats-stream-cdb-events").inputs["metadata"]["labels"]
    assert build_ctx.published.event_bus.audit_subject == "audit.v1.flux"
    assert build_ctx.published.event_bus.url == "nats://nats.event-bus.svc.cluster.local:4222"


def test_network_policies_admit_named_zones_routes_between_servers_and_scrapers_on_the_exporter_port():
    recording, _, _ = build("prod")
    server = recording.one(NETPOL, "nats-netpol").inputs["spec"]
    by_port = {rule["ports"][0]["port"]: rule["from"] for rule in server["ingress"]}
    zones = {p["namespaceSelector"]["matchLabels"][conventions.LABEL_NAMESPACE_NAME] for p in by_port[4222] if "namespaceSelector" in p}
    assert zones == {"apps", "flux-system"}
    assert {"podSelector": {"matchLabels": nack_selector()}} in by_port[4222]
    assert by_port[6222] == [{"podSelector": {"matchLabels": server_selector()}}]
    assert by_port[7777] == [{"namespaceSelector": {"matchLabels": {conventions.LABEL_NAMESPACE_NAME: "observability"}}}]
    assert set(by_port) == {4222, 6222, 7777}  # the monitor port 8222 is read only by the sidecar, on localhost
    assert server["egress"][0]["ports"] == [{"protocol": "TCP", "port": 6222}]
    controller = recording.one(NETPOL, "nats-nack-netpol").inputs["spec"]
    assert controller["ingress"] == []
    # The API server by its endpoint address and port (the apiServer setting), never the ClusterIP.
    assert controller["egress"][1] == {"to": [{"ipBlock": {"cidr": "172.18.0.2/32"}}], "ports": [{"protocol": "TCP", "port": 6443}]}


def server_selector() -> dict[str, str]:
    return {conventions.LABEL_NAME: "nats", conventions.LABEL_INSTANCE: "nats"}


def nack_selector() -> dict[str, str]:
    return {conventions.LABEL_NAME: "nats-nack", conventions.LABEL_INSTANCE: "nats-nack"}


def test_the_nack_controller_is_namespaced_probed_and_reads_no_secrets():
    recording, _, _ = build("prod")
    jsc = container(recording, "kubernetes:apps/v1:Deployment", "nats-nack")
    assert jsc["image"] == "natsio/jetstream-controller:0.23.0"
    assert "--namespace=event-bus" in jsc["args"] and "--control-loop" in jsc["args"]
    assert "-s=nats://nats.event-bus.svc.cluster.local:4222" in jsc["args"]
    assert jsc["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health", "scheme": "HTTP"}
    assert jsc["readinessProbe"]["httpGet"]["path"] == "/readyz"
    role = recording.one("kubernetes:rbac.authorization.k8s.io/v1:Role").inputs
    assert role["rules"] == nack.role_rules()
    assert not any("secrets" in rule["resources"] for rule in role["rules"])
    assert recording.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole") == []
    crds = recording.of_type("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition")
    assert {c.inputs["metadata"]["name"] for c in crds} >= {"streams.jetstream.nats.io", "consumers.jetstream.nats.io"}
    assert recording.of_type("kubernetes:yaml/v2:ConfigFile") == []


def test_every_object_carries_provenance_and_its_namespace():
    recording, _, _ = build("prod")
    for obj in recording.kubernetes_objects():
        if obj.type.startswith("kubernetes:yaml/"):
            continue
        meta = obj.inputs["metadata"]
        assert meta["annotations"][conventions.ANNOTATION_GIT_REVISION] == REVISION, obj.name
        assert meta["labels"][conventions.LABEL_MANAGED_BY] == "pulumi", obj.name
        if obj.name.startswith("nats-client-egress-"):  # the client side of a flow lives in the client's zone
            assert meta["namespace"] == obj.name.removeprefix("nats-client-egress-"), obj.name
        elif obj.type not in ("kubernetes:core/v1:Namespace", "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"):
            assert meta["namespace"] == "event-bus", obj.name


@pytest.mark.parametrize(
    ("stack", "event_bus", "expected"),
    [
        ("prod", {"replicas": 1}, "cdb-infra:eventBus.replicas: 1 is too few outside dev"),
        ("dev", {"replicas": 2}, "replicas 2: JetStream's RAFT groups need a majority"),
        ("prod", {"streams": [{"name": "AUDIT", "subjects": ["audit.v1.>"], "replicas": 1}]}, "streams[0].replicas: 1 is too few"),
        ("dev", {"streams": [{"name": "AUDIT", "subjects": ["audit.v1.>"], "denyPurge": False}]},
         "stream 'AUDIT' holds the audit subject 'audit.v1.flux'; set denyDelete and denyPurge"),
        ("dev", {"streams": [{"name": "EVENTS", "subjects": ["orders.v1.>"]}]}, "no stream binds the audit subject 'audit.v1.flux'"),
        ("dev", {"streams": [{"name": "AUDIT", "subjects": ["audit.>"]}]}, "carries no version token"),
        ("dev", {"streams": [{"name": "AUDIT", "subjects": ["audit.v1.>"]}, {"name": "FLUX", "subjects": ["audit.v1.flux"]}]},
         "both bind 'audit.v1.flux'"),
        ("dev", {"streams": [{"name": "AUDIT", "subjects": ["audit.v1.>"], "duplicateWindow": "two minutes"}]},
         "streams[0].duplicateWindow: 'two minutes' is not a duration"),
        ("dev", {"namespace": "apps"}, "'apps' is also declared under zones"),
        ("dev", {"image": "nats:latest"}, "mutable tag 'latest'"),
    ],
)
def test_unsafe_event_bus_settings_are_refused_with_one_line_naming_the_key(stack, event_bus, expected):
    message = refusal(stack, eventBus=event_bus)
    assert message.startswith(f"Pulumi.{stack}.yaml: cdb-infra:eventBus")
    assert expected in message
