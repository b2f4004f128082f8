"""The Kafka part: the secondary event bus, off unless `cdb-infra:kafka.enabled` is true.

When on, a Strimzi KRaft cluster (pinned, vendored operator, `kafka.strimzi.io/v1` CRs) in its own zone.
Replicas follow the environment unless set: one node and single-copy topics in dev, three nodes,
three copies and min.insync.replicas 2 elsewhere (fewer are refused there). Publishes `kafka.bootstrap`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field

from components.kafka import (
    KAFKA_VERSION, METADATA_VERSION, PLAIN_PORT, STRIMZI_VERSION, KafkaCluster, KafkaClusterArgs, node_labels,
)
from components.network import Peer
from components.zone import Zone, ZoneArgs
from cdb_stack.parts import BuildContext, Clients, KafkaOffer, PlanContext
from cdb_stack.parts.event_bus import PRODUCTION_REPLICAS
from cdb_stack.settings_base import Compute, Name, Strict, compute

KEY = "kafka"


class TopicSettings(Strict):
    name: Name = Field(description="KafkaTopic resource name, e.g. orders-v1")
    topic_name: str | None = Field(None, description="Kafka topic name if it differs, e.g. orders.v1")
    partitions: int = Field(6, ge=1, description="partitions")
    replicas: int | None = Field(None, ge=1, description="copies; default 1 in dev, 3 elsewhere")
    min_insync_replicas: int | None = Field(None, ge=1, description="default 1 in dev, 2 elsewhere")
    retention_ms: int = Field(-1, ge=-1, description="retention.ms; -1 keeps records (replayable)")


def _default_topics() -> list[TopicSettings]:
    return [TopicSettings(name="orders-v1", topic_name="orders.v1"), TopicSettings(name="payments-v1", topic_name="payments.v1")]


class Settings(Strict):
    enabled: bool = Field(False, description="run Kafka as the secondary bus (JetStream is the primary)")
    name: Name = Field("events", description="name of the Kafka cluster")
    namespace: Name = Field("kafka", description="the cluster's own zone")
    version: str = Field(KAFKA_VERSION, description="Kafka version")
    metadata_version: str = Field(METADATA_VERSION, description="KRaft metadata version")
    operator_version: str = Field(STRIMZI_VERSION, description="pinned Strimzi version (vendored in components/vendor/strimzi)")
    install_operator: bool = Field(True, description="install the vendored Strimzi operator")
    replicas: int | None = Field(None, ge=1, description="nodes; default 1 in dev, 3 elsewhere")
    storage_size: str = Field("100Gi", description="persistent-claim size per node")
    storage_class: Name | None = Field(None, description="StorageClass; default: the cluster's")
    resources: Compute = Field(default_factory=compute('500m', '2Gi', '2', '2Gi'))
    client_zones: list[Name] = Field(default_factory=list, description="zones whose pods may reach the listeners")
    topics: list[TopicSettings] = Field(default_factory=_default_topics)


@dataclass(frozen=True)
class Planned:
    name: str
    args: KafkaClusterArgs | None
    zone: ZoneArgs | None


def _at_least(value: int, floor: int, where: str, is_dev: bool) -> int:
    if not is_dev and value < floor:
        raise ValueError(f"{where}: {value} is too few outside dev; set at least {floor} (or remove it)")
    return value


def plan(settings: Settings, ctx: PlanContext) -> Planned:
    if not settings.enabled:
        return Planned(settings.name, None, None)
    if settings.namespace in {z.name for z in ctx.settings.zones}:
        raise ValueError(f"namespace: {settings.namespace!r} is also declared under zones; Kafka needs its own zone")
    dev = ctx.is_dev
    replicas = _at_least(settings.replicas or (1 if dev else PRODUCTION_REPLICAS), PRODUCTION_REPLICAS, "replicas", dev)
    topics = []
    for i, t in enumerate(settings.topics):
        copies = _at_least(t.replicas or (1 if dev else PRODUCTION_REPLICAS), PRODUCTION_REPLICAS, f"topics[{i}].replicas", dev)
        insync = _at_least(t.min_insync_replicas or (1 if dev else 2), 2, f"topics[{i}].minInsyncReplicas", dev)
        topics.append({"name": t.name, "topic_name": t.topic_name, "partitions": t.partitions, "replicas": copies,
                       "min_insync_replicas": insync, "retention_ms": t.retention_ms, "dev_single_copy": dev})  # fmt: skip
    args = KafkaClusterArgs.parse(
        {
            "provenance": ctx.provenance, "namespace": settings.namespace, "version": settings.version,
            "metadata_version": settings.metadata_version, "replicas": replicas, "storage_size": settings.storage_size,
            "storage_class": settings.storage_class, "resources": settings.resources.to_resources(),
            "client_from": tuple(Peer(namespace=z) for z in settings.client_zones), "topics": tuple(topics),
            "operator_version": settings.operator_version, "install_operator": settings.install_operator,
            "kubernetes_api": ctx.api_server_egress("kafka (the Strimzi operators)"),
        },
        owner=f"kafka {settings.name!r}",
    )  # fmt: skip
    zone = ZoneArgs.parse(
        {"provenance": ctx.provenance, "namespace": settings.namespace, "quota": {"persistentvolumeclaims": str(replicas)}},
        owner=f"kafka zone {settings.namespace!r}",
    )
    return Planned(settings.name, args, zone)


def build(planned: Planned, ctx: BuildContext) -> dict[str, Any]:
    import pulumi

    if planned.args is None or planned.zone is None:
        return {"kafkaEnabled": False}
    zone = Zone(planned.zone.namespace, planned.zone)
    ctx.zones[planned.zone.namespace] = zone
    cluster = KafkaCluster(planned.name, planned.args, ctx.flux_owned(pulumi.ResourceOptions(depends_on=[zone])))
    # The bootstrap Service is Strimzi's (not in the program): the flow names the broker pods behind it,
    # which the pack models from the KafkaNodePool, on the plain listener the bootstrap address uses.
    clients = Clients.of(planned.args.client_from, [{"pods": {"namespace": planned.args.namespace,
                                                              "matchLabels": node_labels(planned.name)},
                                                     "port": PLAIN_PORT, "purpose": "produce and consume on Kafka"}])
    ctx.published.kafka = KafkaOffer(bootstrap=cluster.bootstrap, clients=clients)
    return {"kafkaEnabled": True, "kafkaBootstrap": cluster.bootstrap}
