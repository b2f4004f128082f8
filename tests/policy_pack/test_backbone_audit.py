"""Clause 4: audit records are never dropped silently or sent to Redis, and the dual-write is safe (duplicate
window against the retry horizon, Redis present when the stack says it dual-writes)."""

from __future__ import annotations

import pytest

from .fixtures import container, pod_spec, workload
from .harness import Node, stack_violations, violations
from .objects import declaration, nodes, obj, redis, stream
from .stack_cases import backbone_stack

DURABLE = "jetstream-stream-durable"
SINK = "redis-not-an-audit-sink"
WINDOW = "jetstream-duplicate-window"
PHASE = "event-backbone-migration-phase"
KAFKA = "kafka-audit-topic-replicated"
KAFKA_TOPIC = "kubernetes:kafka.strimzi.io/v1beta2:KafkaTopic"


@pytest.mark.parametrize("cap", [{"maxBytes": 1073741824}, {"maxMsgs": 1000000}, {"maxMsgsPerSubject": 100}])
@pytest.mark.parametrize("discard", [None, "old"])
def test_an_audit_stream_capped_with_discard_old_drops_records_and_is_refused(cap, discard):
    messages = violations(*stream("audit", discard=discard, **cap), DURABLE)
    assert any("drops the oldest records at the cap; set discard: new" in m for m in messages), messages


@pytest.mark.parametrize("spec", [{"maxBytes": 1073741824, "discard": "new"}, {"maxBytes": -1, "discard": "old"},
                                  {"maxMsgs": -1}, {}])
def test_an_audit_stream_refusing_writes_at_its_cap_or_uncapped_passes(spec):
    assert violations(*stream("audit", **spec), DURABLE) == []


def test_a_capped_non_audit_stream_may_discard_old_events():
    assert violations(*stream("metrics", maxBytes=1000, discard="old"), DURABLE) == []


def kafka_topic(name: str = "audit-events", replicas: float = 3, insync=2, labels: dict | None = None) -> tuple:
    token, props = obj("Stream", name, "kafka", labels=labels, spec={
        "topicName": name.replace("-", "."), "partitions": 6, "replicas": replicas,
        "config": {"min.insync.replicas": insync, "retention.ms": -1}})
    props["apiVersion"], props["kind"] = "kafka.strimzi.io/v1beta2", "KafkaTopic"
    return KAFKA_TOPIC, props


@pytest.mark.parametrize(("topic", "fragment"), [
    (kafka_topic(replicas=1, insync=1), "spec.replicas is 1 (need >= 3)"),
    (kafka_topic(replicas=3, insync=1), 'min.insync.replicas"] is 1 (need >= 2)'),
    (kafka_topic(replicas=3, insync="1"), 'min.insync.replicas"] is "1" (need >= 2)'),
    (kafka_topic("orders", replicas=1, labels={"cdb-infra.io/stream-class": "audit"}), "spec.replicas is 1"),
])
def test_kafka_audit_topics_outside_dev_need_three_copies_and_two_in_sync(topic, fragment):
    messages = stack_violations(nodes(declaration(environment="prod"), topic), KAFKA)
    assert any(fragment in m for m in messages), messages


def test_kafka_audit_topics_pass_with_enough_copies_or_in_dev_and_other_topics_are_not_judged():
    assert stack_violations(nodes(declaration(environment="prod"), kafka_topic(insync="2")), KAFKA) == []
    assert stack_violations(nodes(declaration(environment="dev"), kafka_topic(replicas=1, insync=1)), KAFKA) == []
    assert stack_violations(nodes(declaration(environment="prod"), kafka_topic("orders-v1", 1, 1)), KAFKA) == []


def test_the_duplicate_window_must_cover_the_declared_retry_horizon():
    graph = nodes(declaration(**{"environment": "prod", "migration-phase": "dual-write",
                                 "dual-write-retry-horizon": "15m"}), redis(), stream(duplicateWindow="2m"))
    messages = stack_violations(graph, WINDOW)
    assert messages == ['Stream bus/orders: spec.duplicateWindow "2m" is shorter than the dual-write\'s retry horizon '
                        "15m; a retried event would be stored twice, set duplicateWindow to 15m or more"]
    graph = nodes(declaration(**{"environment": "prod", "migration-phase": "dual-write",
                                 "dual-write-retry-horizon": "15m"}), redis(), stream(duplicateWindow="1h"))
    assert stack_violations(graph, WINDOW) == []


def test_an_unset_duplicate_window_is_jetstreams_two_minutes():
    graph = nodes(declaration(**{"migration-phase": "dual-write", "dual-write-retry-horizon": "5m"}), redis(),
                  stream(duplicateWindow=None))
    assert stack_violations(graph, WINDOW)[0].startswith("Stream bus/orders: spec.duplicateWindow unset (2m)")


def test_without_a_declared_horizon_the_pack_config_default_applies_and_other_phases_are_not_judged():
    assert stack_violations(backbone_stack(), WINDOW) == []
    graph = nodes(declaration(**{"migration-phase": "dual-write"}), redis(), stream(duplicateWindow="30s"))
    assert stack_violations(graph, WINDOW)
    assert stack_violations(nodes(declaration(**{"migration-phase": "jetstream"}), stream(duplicateWindow="30s")),
                            WINDOW) == []


def test_a_declared_horizon_that_is_no_duration_is_reported():
    graph = nodes(declaration(**{"migration-phase": "dual-write", "dual-write-retry-horizon": "15 minutes"}),
                  redis(), stream())
    assert 'data.dual-write-retry-horizon "15 minutes" is not a Go duration' in stack_violations(graph, WINDOW)[0]


def test_a_dual_write_stack_without_redis_is_refused():
    graph = [n for n in backbone_stack() if "redis" not in n.name]
    messages = stack_violations(graph, PHASE)
    assert any("declares dual-write but the stack runs no Redis" in m for m in messages), messages
    assert not any("runs no Redis" in m for m in stack_violations(backbone_stack(), PHASE))


def _writer(env=None, args=None, volumes=None, name="audit-writer"):
    spec = pod_spec(container(name=name, env=env or [], args=args or []), volumes=volumes or [])
    return workload("Deployment", spec, metadata={"name": name, "namespace": "apps"})


def _redis_service() -> tuple:
    return obj("Service", "redis", "bus", spec={"selector": {"app.kubernetes.io/name": "redis"},
                                                "ports": [{"port": 6379}]})


@pytest.mark.parametrize(("writer", "fragment"), [
    (_writer(env=[{"name": "AUDIT_SINK_URL", "value": "redis://redis.bus:6379/0"}]), "env[0] (AUDIT_SINK_URL)"),
    (_writer(env=[{"name": "AUDIT_LOG_ADDR", "value": "redis.bus.svc.cluster.local:6379"}]), "(AUDIT_LOG_ADDR)"),
    (_writer(env=[{"name": "EVENT_SINK", "value": "rediss://:pw@cache.example:6380"}]), "(EVENT_SINK)"),
    (_writer(args=["--audit-sink=redis://redis.bus:6379"]), "args[0]"),
    (_writer(volumes=[{"name": "cfg", "configMap": {"name": "writer"}}]), 'data["app.yaml"] line 2'),
])
def test_workloads_writing_audit_records_to_redis_make_it_an_audit_sink(writer, fragment):
    config = obj("ConfigMap", "writer", "apps", data={"app.yaml": "port: 8080\naudit_sink: redis://redis.bus:6379\n"})
    graph = nodes(redis(), _redis_service(), config, writer)
    messages = stack_violations(graph, SINK)
    assert any(fragment in m and "Redis is transport only" in m for m in messages), messages


def test_workloads_using_redis_as_transport_or_cache_are_not_audit_sinks():
    writer = _writer(env=[{"name": "REDIS_URL", "value": "redis://redis.bus:6379/0"},
                          {"name": "AUDIT_SINK_URL", "value": "nats://nats.bus:4222"},
                          {"name": "CACHE_ADDR", "value": "redis.bus:6379"}])
    assert stack_violations(nodes(redis(), _redis_service(), writer), SINK) == []


def test_nodes_helper_keeps_graph_names_unique():
    assert len({n.name for n in nodes(redis(), _redis_service())}) == 2
    assert isinstance(nodes(redis())[0], Node)
