"""The Redis part: a transitional transport without any volume or persistence, present only while needed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from cdb_core.errors import SettingsError
from cdb_stack.parts import BuildContext, redis
from components.errors import ComponentArgsError
from components.network import Peer
from components.provenance import Provenance
from components.redis import ANNOTATION_PHASE, ANNOTATION_SUNSET, LABEL_TRANSIENT, RedisTransportArgs
from tests.components.harness import Recording
from tests.stack.test_event_bus import record, REVISION, context, stack_settings

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
DOC = "https://wiki.example.org/cdb/redis-to-jetstream"


def build(stack: str, **parts: Any) -> tuple[Recording, BuildContext]:
    settings = stack_settings(stack, **parts)
    ctx = context(settings, stack)
    planned = redis.plan(settings.redis, ctx)
    build_ctx = BuildContext(ctx)
    return record(lambda: redis.build(planned, build_ctx)), build_ctx


def pod(recording: Recording) -> dict[str, Any]:
    return recording.one(DEPLOYMENT, "redis").inputs["spec"]["template"]["spec"]


def test_dual_write_runs_redis_without_any_volume_and_with_persistence_off():
    recording, build_ctx = build("dev")
    spec = pod(recording)
    container = spec["containers"][0]
    assert "volumes" not in spec and "volumeMounts" not in container
    assert not any("volumeClaimTemplates" in str(r.inputs) for r in recording.kubernetes_objects())
    args = container["args"]
    assert args[args.index("--save") + 1] == "" and args[args.index("--appendonly") + 1] == "no"
    assert container["image"] == "docker.io/library/redis:7.4.2-alpine"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert build_ctx.published.redis.url == "redis://redis.event-bus.svc.cluster.local:6379/0"


def test_redis_is_probed_bounded_and_reachable_only_from_named_zones():
    recording, _ = build("dev")
    container = pod(recording)["containers"][0]
    assert container["livenessProbe"]["tcpSocket"] == {"port": "redis"}
    assert container["readinessProbe"]["exec"]["command"] == ["redis-cli", "-p", "6379", "ping"]
    assert container["resources"]["limits"] == {"cpu": "500m", "memory": "256Mi"}
    assert container["args"][container["args"].index("--maxmemory-policy") + 1] == "noeviction"
    policy = recording.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "redis-netpol").inputs["spec"]
    assert policy["ingress"] == [{
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "apps"}}}],
        "ports": [{"protocol": "TCP", "port": 6379}],
    }]  # fmt: skip
    meta = recording.one(DEPLOYMENT, "redis").inputs["metadata"]
    assert meta["labels"][LABEL_TRANSIENT] == "true" and meta["annotations"][ANNOTATION_PHASE] == "dual-write"


def test_phase_jetstream_has_no_redis_at_all_and_declares_the_phase():
    recording, build_ctx = build("prod")
    assert [r.name for r in recording.kubernetes_objects()] == ["stack-declaration"]
    assert build_ctx.published.redis is None
    declaration = recording.one("kubernetes:core/v1:ConfigMap").inputs
    assert declaration["metadata"]["labels"]["cdb-infra.io/stack-declaration"] == "true"
    assert declaration["data"] == {"environment": "prod", "migration-phase": "jetstream",
                                   "api-server-endpoints": "172.18.0.2/32", "api-server-port": "6443"}


def test_the_stack_declaration_carries_the_redis_only_sunset_and_link():
    sunset = (date.today() + timedelta(days=30)).isoformat()
    recording, _ = build("dev", redis={"migrationPhase": "redis-only", "sunset": sunset, "documentation": DOC,
                                       "clientZones": ["apps"]})  # fmt: skip
    data = recording.one("kubernetes:core/v1:ConfigMap", "stack-declaration").inputs["data"]
    assert data == {"environment": "dev", "migration-phase": "redis-only", "redis-sunset": sunset, "redis-sunset-docs": DOC,
                    "api-server-endpoints": "172.18.0.2/32", "api-server-port": "6443"}


def test_redis_only_with_a_future_sunset_and_a_link_is_accepted_and_marked():
    sunset = date.today() + timedelta(days=30)
    recording, _ = build("dev", redis={"migrationPhase": "redis-only", "sunset": sunset.isoformat(),
                                       "documentation": DOC, "clientZones": ["apps"]})  # fmt: skip
    annotations = recording.one(DEPLOYMENT, "redis").inputs["metadata"]["annotations"]
    assert annotations[ANNOTATION_SUNSET] == sunset.isoformat() and annotations[ANNOTATION_PHASE] == "redis-only"


@pytest.mark.parametrize(
    ("redis_settings", "expected"),
    [
        ({"migrationPhase": "redis-only", "documentation": DOC}, "sunset: redis-only needs a sunset date"),
        ({"migrationPhase": "redis-only", "sunset": "2020-01-01", "documentation": DOC}, "sunset: 2020-01-01 is not in the future"),
        ({"migrationPhase": "redis-only", "sunset": (date.today() + timedelta(days=9)).isoformat()}, "documentation: redis-only needs an https link"),
        ({"migrationPhase": "dual-write"}, "clientZones: phase dual-write runs Redis"),
        ({"migrationPhase": "dual-write", "clientZones": ["apps"], "persistence": True}, "unknown setting"),
        ({"migrationPhase": "sometime"}, "cdb-infra:redis.migrationPhase"),
    ],
)
def test_unsafe_redis_settings_are_refused_with_one_line(redis_settings, expected):
    with pytest.raises(SettingsError) as caught:
        stack_settings("dev", redis=redis_settings)
    assert expected in str(caught.value) and "\n" not in str(caught.value)
    assert str(caught.value).startswith("Pulumi.dev.yaml: cdb-infra:redis")


def test_the_component_itself_refuses_phase_jetstream_and_a_past_sunset():
    base = {"provenance": Provenance("cdb", REVISION, "cdb-infra/dev"), "namespace": "event-bus",
            "image": "docker.io/library/redis:7.4.2-alpine", "client_from": (Peer(namespace="apps"),)}  # fmt: skip
    with pytest.raises(ComponentArgsError, match="phase 'jetstream' has no Redis"):
        RedisTransportArgs(**base, phase="jetstream")
    with pytest.raises(ComponentArgsError, match="not in the future"):
        RedisTransportArgs(**base, phase="redis-only", sunset=date(2030, 1, 1), documentation=DOC, today=date(2030, 1, 1))
    with pytest.raises(ComponentArgsError, match="not a known argument"):
        RedisTransportArgs(**base, phase="dual-write", volumes=[{"name": "data"}])


def test_a_password_comes_from_a_secret_and_keeps_protected_mode():
    recording, _ = build("dev", redis={"migrationPhase": "dual-write", "clientZones": ["apps"],
                                       "password": {"secret": "redis-auth", "key": "password"}})  # fmt: skip
    container = pod(recording)["containers"][0]
    assert container["env"] == [{"name": "REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "redis-auth", "key": "password"}}}]
    assert "--requirepass" in container["args"] and "--protected-mode" not in container["args"]
