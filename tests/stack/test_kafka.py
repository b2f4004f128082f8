"""The Kafka part: off by default; when on, pinned Strimzi KRaft CRs with replicated, persistent topics."""

from __future__ import annotations

from typing import Any

import pytest

from cdb_core.errors import SettingsError
from cdb_stack.parts import BuildContext, kafka
from cdb_stack.stack import plan_stack
from components import conventions
from tests.components.harness import Recording
from tests.stack.test_event_bus import record, context, stack_settings

API = "kafka.strimzi.io/v1"


def build(stack: str, **parts: Any) -> tuple[Recording, BuildContext]:
    settings = stack_settings(stack, **parts)
    ctx = context(settings, stack)
    planned = kafka.plan(settings.kafka, ctx)
    build_ctx = BuildContext(ctx)
    return record(lambda: kafka.build(planned, build_ctx)), build_ctx


def test_kafka_is_off_by_default():
    assert kafka.Settings().enabled is False
    for stack in ("dev", "prod"):
        recording, build_ctx = build(stack)
        assert recording.kubernetes_objects() == [] and build_ctx.published.kafka is None


def test_enabled_kafka_is_a_pinned_strimzi_kraft_cluster_with_replicated_persistent_topics():
    recording, build_ctx = build("prod", kafka={"enabled": True, "clientZones": ["apps"]})
    operator = [o for o in recording.of_type("kubernetes:apps/v1:Deployment") if o.name == "events-strimzi-deployment-strimzi-cluster-operator"]
    assert operator[0].inputs["spec"]["template"]["spec"]["containers"][0]["image"] == "quay.io/strimzi/operator:1.2.0"
    assert recording.of_type("kubernetes:helm.sh/v3:Release") == []
    cluster = recording.one(f"kubernetes:{API}:Kafka").inputs["spec"]
    assert cluster["kafka"]["metadataVersion"] == "4.3-IV0" and "zookeeper" not in cluster
    assert cluster["kafka"]["config"]["min.insync.replicas"] == 2
    assert cluster["kafka"]["listeners"][0]["networkPolicyPeers"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "apps"}}}
    ]
    pool = recording.one(f"kubernetes:{API}:KafkaNodePool").inputs
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == "events"
    assert pool["spec"]["replicas"] == 3 and pool["spec"]["roles"] == ["controller", "broker"]
    volume = pool["spec"]["storage"]["volumes"][0]
    assert volume["type"] == "persistent-claim" and volume["deleteClaim"] is False and volume["kraftMetadata"] == "shared"
    template = pool["spec"]["template"]["pod"]["metadata"]
    assert template["labels"][conventions.LABEL_WORKLOAD_CLASS] == "platform-state"
    assert template["annotations"][conventions.ANNOTATION_PLATFORM_STATE] == "event-bus"
    topics = {t.inputs["spec"]["topicName"]: t.inputs["spec"] for t in recording.of_type(f"kubernetes:{API}:KafkaTopic")}
    assert set(topics) == {"orders.v1", "payments.v1"}
    assert all(t["replicas"] == 3 and t["config"]["min.insync.replicas"] == 2 for t in topics.values())
    assert build_ctx.published.kafka.bootstrap == "events-kafka-bootstrap.kafka.svc.cluster.local:9092"


def test_dev_kafka_runs_one_node_with_single_copy_topics():
    recording, _ = build("dev", kafka={"enabled": True})
    assert recording.one(f"kubernetes:{API}:KafkaNodePool").inputs["spec"]["replicas"] == 1
    assert {t.inputs["spec"]["replicas"] for t in recording.of_type(f"kubernetes:{API}:KafkaTopic")} == {1}


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"enabled": True, "replicas": 1}, "kafka.replicas: 1 is too few outside dev"),
        ({"enabled": True, "topics": [{"name": "orders-v1", "replicas": 1}]}, "kafka.topics[0].replicas: 1 is too few"),
        ({"enabled": True, "topics": [{"name": "orders-v1", "minInsyncReplicas": 1}]}, "kafka.topics[0].minInsyncReplicas: 1 is too few"),
        ({"enabled": True, "topics": [{"name": "orders-v1", "replicas": 3, "minInsyncReplicas": 4}]}, "exceeds replicas 3"),
        ({"enabled": True, "topics": [{"name": "orders-v1", "replicas": 5}]}, "wants 5 replicas but the pool has 3 nodes"),
    ],
)
def test_unsafe_kafka_settings_are_refused_with_one_line(settings, expected):
    with pytest.raises(SettingsError) as caught:
        plan_stack(stack_settings("prod", kafka=settings), "cdb-infra", "prod", source="Pulumi.prod.yaml")
    assert str(caught.value).startswith("Pulumi.prod.yaml: cdb-infra:kafka") and expected in str(caught.value)
