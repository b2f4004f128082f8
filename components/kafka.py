"""KafkaCluster: Kafka as the secondary event bus, declared through Strimzi custom resources.

Strimzi 1.2.0 (strimzi/strimzi-kafka-operator tag 1.2.0, commit 6c7b43c4) serves only
`kafka.strimzi.io/v1` and runs Kafka in KRaft mode with node pools; field names below are those of its
CRDs (`packaging/install/cluster-operator/040-Crd-kafka.yaml`, `043-Crd-kafkatopic.yaml`,
`045-Crd-kafkanodepool.yaml`) and of `packaging/examples/kafka/kafka-persistent.yaml`. The operator
comes from its pinned install files (`packaging/install/cluster-operator/`, vendored in
components/vendor/strimzi/<version>), registered as typed resources in the cluster's namespace (its RoleBindings'
subjects follow it, which upstream leaves at `myproject`) and stamped with our provenance; the broker
pods are made by the operator, so the node pool's pod template carries the platform-state declaration
and the restricted security contexts that the policy pack demands of every workload.

Bootstrap order: the zone's default-deny exists before the operator starts, and the NetworkPolicy Strimzi
writes for the brokers (KafkaCluster.generateNetworkPolicy) exists only once the operator runs; the
operator, the entity operator and the nodes need traffic before that. So the component writes their
policies itself, before the operator (as the Flux component does): the operator to the API server's
endpoints and to the nodes' control-plane (9090), replication (9091) and agent (8443) ports; the nodes
among themselves on 9090/9091; the entity operator to the API server and to 9091; the client zones to
the listeners. Each pod declares these flows (cdb-infra.io/flows) so the pack's connectivity rule
checks them against the policies at both ends.
"""

from __future__ import annotations

import re

from typing import Annotated, Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import AfterValidator, Field, model_validator

from components import conventions, defaults, names, quantity, upstream, vendored
from components.errors import ComponentArgsError
from components.intent import Intent
from components.kube import check_name, child_opts, metadata
from components.network import Destination, Peer, client_egress_policies
from components.provenance import Provenance
from components.types import Resources
from components.base import Component, require_args

KAFKA_CLUSTER_TYPE = "cdb:index:KafkaCluster"
STRIMZI_API_VERSION = "kafka.strimzi.io/v1"
STRIMZI_VERSION = "1.2.0"
KAFKA_VERSION = "4.3.1"  # the version of Strimzi 1.2.0's example
METADATA_VERSION = "4.3-IV0"
CLUSTER_LABEL = "strimzi.io/cluster"
KIND_LABEL, NAME_LABEL = "strimzi.io/kind", "strimzi.io/name"
PLAIN_PORT, TLS_PORT = 9092, 9093
# strimzi KafkaCluster: the KRaft control plane, replication (also the operators' admin clients), and
# the Kafka agent the cluster operator polls during rolls.
CONTROLPLANE_PORT, REPLICATION_PORT, AGENT_PORT = 9090, 9091, 8443
OPERATOR_POD_LABELS = {KIND_LABEL: "cluster-operator"}  # 060-Deployment's template label
OPERATOR_NAME = "strimzi-cluster-operator"

DnsLabel = Annotated[str, AfterValidator(names.dns_label)]


class KafkaTopicSpec(Intent):
    """A replicated, persistent topic."""

    name: DnsLabel = Field(description="KafkaTopic resource name, e.g. 'orders-v1'")
    topic_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,249}$", description="Kafka topic name if it differs, e.g. 'orders.v1'")
    partitions: int = Field(default=6, ge=1, description="Partitions")
    replicas: int = Field(default=3, ge=1, description="Replication factor")
    min_insync_replicas: int = Field(default=2, ge=1, description="min.insync.replicas: acks=all writes need this many copies")
    retention_ms: int = Field(default=-1, ge=-1, description="retention.ms; -1 keeps records forever (replayable)")
    dev_single_copy: bool = Field(default=False, description="dev stacks only: let an audit topic run below 3 copies / 2 in sync")

    @model_validator(mode="after")
    def _insync(self) -> KafkaTopicSpec:
        if self.min_insync_replicas > self.replicas:
            raise ValueError(f"topic {self.name!r}: min_insync_replicas {self.min_insync_replicas} exceeds replicas {self.replicas}")
        # Clause 4: audit records survive a broker failure; the policy pack refuses fewer copies outside dev.
        if self.is_audit and not self.dev_single_copy and (self.replicas < 3 or self.min_insync_replicas < 2):
            raise ValueError(
                f"audit topic {self.name!r}: replicas {self.replicas} and min_insync_replicas {self.min_insync_replicas} "
                "lose audit records when a broker fails; set replicas >= 3 and min_insync_replicas >= 2 "
                "(dev_single_copy=True only in dev stacks)"
            )
        return self

    @property
    def is_audit(self) -> bool:
        names = (self.name, self.topic_name or "")
        return any("audit" in re.split(r"[-_.]", name.lower()) for name in names)

    def to_cr_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "partitions": self.partitions,
            "replicas": self.replicas,
            "config": {"min.insync.replicas": self.min_insync_replicas, "retention.ms": self.retention_ms},
        }
        if self.topic_name:
            spec["topicName"] = self.topic_name
        return spec


def _resources() -> Resources:
    return Resources(cpu_request="500m", memory_request="2Gi", cpu_limit="2", memory_limit="2Gi")


class KafkaClusterArgs(Intent):
    provenance: Provenance = Field(description="Ownership and origin labels/annotations of every object")
    namespace: DnsLabel = Field(description="Namespace of the cluster and the operator (a Zone allowing claims)")
    version: str = Field(default=KAFKA_VERSION, description="Kafka version Strimzi runs")
    metadata_version: str = Field(default=METADATA_VERSION, description="KRaft metadata version")
    replicas: int = Field(default=3, ge=1, description="Nodes of the pool (each controller and broker)")
    storage_size: Annotated[str, AfterValidator(quantity.memory)] = Field(default="100Gi", description="persistent-claim size per node")
    storage_class: DnsLabel | None = Field(default=None, description="StorageClass; None uses the default")
    resources: Resources = Field(default_factory=_resources, description="Requests and limits of each Kafka container")
    client_from: tuple[Peer, ...] = Field(default=(), description="Who may reach the listeners (Strimzi writes the NetworkPolicy)")
    topics: tuple[KafkaTopicSpec, ...] = Field(default=(), description="Topics declared as KafkaTopic resources")
    operator_version: str = Field(default=STRIMZI_VERSION, pattern=r"^\d+\.\d+\.\d+$", description="Pinned Strimzi version (vendored)")
    install_operator: bool = Field(default=True, description="Install the vendored Strimzi operator in the namespace")
    kubernetes_api: tuple[Destination, ...] = Field(
        default=(), description="The API server's endpoint addresses and port (operator and entity operator egress)")

    @model_validator(mode="after")
    def _fits(self) -> KafkaClusterArgs:
        if not self.kubernetes_api:
            raise ValueError("kubernetes_api is empty: the Strimzi operators watch the API server; give its endpoint "
                             "addresses and port (never the kubernetes Service ClusterIP)")
        for topic in self.topics:
            if topic.replicas > self.replicas:
                raise ValueError(f"topic {topic.name!r} wants {topic.replicas} replicas but the pool has {self.replicas} nodes")
        return self

    @property
    def min_insync(self) -> int:
        return min(2, self.replicas)


def node_labels(cluster: str) -> dict[str, str]:
    """The labels Strimzi selects a cluster's nodes by (Labels.strimziSelectorLabels)."""
    return {CLUSTER_LABEL: cluster, KIND_LABEL: "Kafka", NAME_LABEL: f"{cluster}-kafka"}


def entity_operator_labels(cluster: str) -> dict[str, str]:
    return {NAME_LABEL: f"{cluster}-entity-operator"}


def _to_nodes(cluster: str, ports: tuple[int, ...], purpose: str) -> list[dict[str, Any]]:
    return [{"pods": {"matchLabels": node_labels(cluster)}, "port": port, "purpose": purpose} for port in ports]


def operator_flows(cluster: str) -> list[dict[str, Any]]:
    return [{"apiServer": True, "purpose": "reconcile Kafka resources"},
            *_to_nodes(cluster, (CONTROLPLANE_PORT, REPLICATION_PORT, AGENT_PORT), "manage and roll the nodes")]


def node_flows(cluster: str) -> list[dict[str, Any]]:
    return _to_nodes(cluster, (CONTROLPLANE_PORT, REPLICATION_PORT), "KRaft quorum and replication")


def entity_operator_flows(cluster: str) -> list[dict[str, Any]]:
    return [{"apiServer": True, "purpose": "watch KafkaTopics and KafkaUsers"},
            *_to_nodes(cluster, (REPLICATION_PORT,), "manage topics and users")]


def _entity_operator_resources() -> dict[str, Any]:
    return Resources(cpu_request="100m", memory_request="256Mi", cpu_limit="500m", memory_limit="512Mi").to_k8s()


def entity_operator_spec(cluster: str) -> dict[str, Any]:
    """The topic and user operators: bounded resources, Pod Security `restricted` (Strimzi's default
    security provider sets none), and the flows they need."""
    container = {"securityContext": defaults.container_security_context()}
    return {
        "topicOperator": {"resources": _entity_operator_resources()},
        "userOperator": {"resources": _entity_operator_resources()},
        "template": {
            "pod": {"metadata": {"annotations": conventions.flows_annotation(entity_operator_flows(cluster))},
                    "securityContext": defaults.pod_security_context()},
            "topicOperatorContainer": dict(container),
            "userOperatorContainer": dict(container),
        },
    }


def kafka_spec(args: KafkaClusterArgs, cluster: str) -> dict[str, Any]:
    peers = [p.to_k8s() for p in args.client_from]
    listeners = [{"name": "plain", "port": PLAIN_PORT, "type": "internal", "tls": False},
                 {"name": "tls", "port": TLS_PORT, "type": "internal", "tls": True}]  # fmt: skip
    for listener in listeners:
        listener["networkPolicyPeers"] = peers
    rf = min(3, args.replicas)
    return {
        "kafka": {
            "version": args.version,
            "metadataVersion": args.metadata_version,
            "listeners": listeners,
            "config": {
                "offsets.topic.replication.factor": rf,
                "transaction.state.log.replication.factor": rf,
                "transaction.state.log.min.isr": args.min_insync,
                "default.replication.factor": rf,
                "min.insync.replicas": args.min_insync,
                "auto.create.topics.enable": False,  # topics exist only as declared KafkaTopics
            },
        },
        "entityOperator": entity_operator_spec(cluster),
    }


def node_pool_spec(args: KafkaClusterArgs, pod_labels: dict[str, str], pod_annotations: dict[str, str]) -> dict[str, Any]:
    volume: dict[str, Any] = {"id": 0, "type": "persistent-claim", "size": args.storage_size,
                              "deleteClaim": False, "kraftMetadata": "shared"}  # fmt: skip
    if args.storage_class:
        volume["class"] = args.storage_class
    return {
        "replicas": args.replicas,
        "roles": ["controller", "broker"],
        "storage": {"type": "jbod", "volumes": [volume]},
        "resources": args.resources.to_k8s(),
        "template": {
            "pod": {
                "metadata": {"labels": dict(pod_labels), "annotations": dict(pod_annotations)},
                "securityContext": defaults.pod_security_context(),
            },
            "kafkaContainer": {"securityContext": defaults.container_security_context()},
        },
    }


def operator_documents(name: str, args: KafkaClusterArgs) -> list[dict[str, Any]]:
    """Strimzi's install files, patched: our namespace (and the bindings' subjects), our provenance,
    Pod Security `restricted` on the operator pod."""
    pinned = vendored.project("strimzi")["version"]
    if args.operator_version != pinned:
        raise ComponentArgsError(f"KafkaCluster {name!r}: operator_version {args.operator_version!r} is not vendored "
                                 f"(components/vendor/strimzi holds {pinned}); run scripts/vendor-upstream.py refresh strimzi "
                                 f"--ref {args.operator_version} --version {args.operator_version}")
    prov = args.provenance
    docs = [doc for f in vendored.files("strimzi") for doc in f.documents()]
    return upstream.patched(
        docs,
        upstream.in_namespace(args.namespace),
        upstream.stamp(prov.labels(name="strimzi-cluster-operator", instance=f"{name}-strimzi", component="event-bus-operator"),
                       prov.annotations(), {conventions.LABEL_WORKLOAD_CLASS: conventions.WORKLOAD_CLASS_SERVICE}),
        upstream.restricted_pods(),
        _operator_flows(name),
    )


def _operator_flows(cluster: str) -> upstream.Patch:
    def patch(doc: dict[str, Any]) -> dict[str, Any]:
        template = upstream.pod_template(doc)
        if template is not None and doc["metadata"]["name"] == OPERATOR_NAME:
            metadata_ = template.setdefault("metadata", {})
            metadata_["annotations"] = {**(metadata_.get("annotations") or {}),
                                        **conventions.flows_annotation(operator_flows(cluster))}
        return doc
    return patch


def _pods(labels: dict[str, str]) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": dict(labels)}}


def _ports(*numbers: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": n} for n in numbers]


def operator_egress_spec(cluster: str, args: KafkaClusterArgs) -> dict[str, Any]:
    """The cluster operator, before Strimzi's own policies exist: the API server and the nodes it manages."""
    return {
        "podSelector": {"matchLabels": dict(OPERATOR_POD_LABELS)},
        "policyTypes": ["Egress"],
        "egress": [*(d.to_k8s() for d in args.kubernetes_api),
                   {"to": [_pods(node_labels(cluster))], "ports": _ports(CONTROLPLANE_PORT, REPLICATION_PORT, AGENT_PORT)}],
    }


def nodes_spec(cluster: str, args: KafkaClusterArgs) -> dict[str, Any]:
    """The nodes: the quorum and replication among themselves, the operators on their ports (as Strimzi's
    generated policy allows them), the client zones on the listeners."""
    nodes, operator, entity = (_pods(node_labels(cluster)), _pods(OPERATOR_POD_LABELS),
                               _pods(entity_operator_labels(cluster)))
    ingress = [
        {"from": [nodes, operator], "ports": _ports(CONTROLPLANE_PORT)},
        {"from": [nodes, operator, entity], "ports": _ports(REPLICATION_PORT)},
        {"from": [operator], "ports": _ports(AGENT_PORT)},
    ]
    if args.client_from:
        ingress.append({"from": [p.to_k8s() for p in args.client_from], "ports": _ports(PLAIN_PORT, TLS_PORT)})
    return {
        "podSelector": {"matchLabels": node_labels(cluster)},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": ingress,
        "egress": [{"to": [nodes], "ports": _ports(CONTROLPLANE_PORT, REPLICATION_PORT)}],
    }


def entity_operator_egress_spec(cluster: str, args: KafkaClusterArgs) -> dict[str, Any]:
    return {
        "podSelector": {"matchLabels": entity_operator_labels(cluster)},
        "policyTypes": ["Egress"],
        "egress": [*(d.to_k8s() for d in args.kubernetes_api),
                   {"to": [_pods(node_labels(cluster))], "ports": _ports(REPLICATION_PORT)}],
    }


class KafkaCluster(Component):
    """The Strimzi operator (pinned chart), a KRaft Kafka with one node pool, and its topics."""

    TYPE = KAFKA_CLUSTER_TYPE

    bootstrap: str

    def __init__(self, name: str, args: KafkaClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        owner = f"KafkaCluster {name!r}"
        args = require_args(KafkaClusterArgs, args, owner=owner)
        check_name(owner, "name", name, names.dns_label)
        super().__init__(name, args.to_plain(), opts)
        ns, prov = args.namespace, args.provenance
        annotations = prov.annotations()
        state = conventions.WORKLOAD_CLASS_PLATFORM_STATE
        state_labels = prov.labels(name, name, "event-bus", workload_class=state)
        state_annotations = {**annotations, conventions.ANNOTATION_PLATFORM_STATE: "event-bus",
                             **conventions.flows_annotation(node_flows(name))}
        def policy(suffix: str, object_name: str, spec: dict[str, Any], namespace: str = ns) -> Any:
            return k8s.networking.v1.NetworkPolicy(
                f"{name}-{suffix}", metadata=metadata(object_name, namespace, prov.labels(name, name, "event-bus"),
                                                      annotations),
                spec=spec, opts=child_opts(self))

        # Written before the operator and the cluster: nothing waits on a policy the operator installs.
        self.policies = [
            policy("operator-egress", f"{name}-strimzi-operator-egress", operator_egress_spec(name, args)),
            policy("nodes", f"{name}-kafka-nodes", nodes_spec(name, args)),
            policy("entity-operator-egress", f"{name}-entity-operator-egress", entity_operator_egress_spec(name, args)),
            *(policy(f"client-egress-{zone}", f"{name}-kafka-client-egress", spec, zone)
              for zone, spec in client_egress_policies(args.client_from, ns, node_labels(name), (PLAIN_PORT, TLS_PORT))),
        ]
        depends: list[pulumi.Resource] = list(self.policies)
        if args.install_operator:
            depends.extend(upstream.register(self, f"{name}-strimzi", operator_documents(name, args), *self.policies).values())

        def cr(suffix: str, kind: str, object_name: str, labels: dict[str, str], spec: dict[str, Any], extra: dict[str, str]) -> Any:
            return k8s.apiextensions.CustomResource(
                f"{name}-{suffix}", api_version=STRIMZI_API_VERSION, kind=kind,
                metadata=metadata(object_name, ns, labels, {**annotations, **extra}), spec=spec,
                opts=child_opts(self, *depends),
            )  # fmt: skip

        cluster_labels = {**prov.labels(name, name, "event-bus"), CLUSTER_LABEL: name}
        self.kafka = cr("kafka", "Kafka", name, prov.labels(name, name, "event-bus"), kafka_spec(args, name), {})
        self.node_pool = cr("pool", "KafkaNodePool", f"{name}-pool", {**state_labels, CLUSTER_LABEL: name},
                            node_pool_spec(args, state_labels, state_annotations), {conventions.ANNOTATION_PLATFORM_STATE: "event-bus"})  # fmt: skip
        self.topics = [cr(f"topic-{t.name}", "KafkaTopic", t.name, cluster_labels, t.to_cr_spec(), {}) for t in args.topics]
        self.bootstrap = f"{name}-kafka-bootstrap.{ns}.svc.cluster.local:{PLAIN_PORT}"
        self.register_outputs({"bootstrap": self.bootstrap, "topics": [t.name for t in args.topics]})
