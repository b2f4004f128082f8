"""The components as the schema shows them: their inputs (generated, `inputs.py`) and typed outputs.

Each class carries the name, docstring and outputs of the Python component it stands for; the schema
inference reads them, and Construct builds the Python component itself (`host.py`), never this class.
The outputs are exactly what the Python component passes to `register_outputs` (a test holds them
equal). No `from __future__ import annotations` here: the inference reads the annotations as types.
"""

from typing import Optional

import pulumi

from components.flux.component import Flux as _Flux
from components.kafka import KafkaCluster as _KafkaCluster
from components.minio import ObjectStore as _ObjectStore
from components.nats.component import NatsJetStream as _NatsJetStream
from components.observability.component import Observability as _Observability
from components.redis import RedisTransport as _RedisTransport
from components.service import StatelessService as _StatelessService
from components.vault import VaultServer as _VaultServer
from components.zone import Zone as _Zone
from provider import inputs


class _Declaration(pulumi.ComponentResource):
    def __init__(self, name: str, args: object, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        raise TypeError(f"{type(self).__name__} of the provider only declares the schema; use components.*")


class Zone(_Declaration):
    namespace_name: pulumi.Output[str]
    """Name of the zone's Namespace."""

    def __init__(self, name: str, args: inputs.ZoneArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(name, args, opts)


class StatelessService(_Declaration):
    service_name: pulumi.Output[str]
    """Name of the Deployment, its Service and its ServiceAccount (the component name)."""

    namespace: pulumi.Output[str]
    """Namespace the service runs in."""

    host: pulumi.Output[str]
    """Cluster DNS name of the Service, e.g. 'api.apps.svc.cluster.local'."""

    port: pulumi.Output[int]
    """Port of the ClusterIP Service."""

    def __init__(self, name: str, args: inputs.StatelessServiceArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(name, args, opts)


class NatsJetStream(_Declaration):
    client_url: pulumi.Output[str]
    """Client URL of the NATS cluster, e.g. 'nats://nats.event-bus.svc.cluster.local:4222'."""

    namespace: pulumi.Output[str]
    """Namespace the servers run in."""

    streams: pulumi.Output[list[str]]
    """Names of the declared JetStream streams."""

    def __init__(self, name: str, args: inputs.NatsJetStreamArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(name, args, opts)


class VaultServer(_Declaration):
    address: pulumi.Output[str]
    """In-cluster address of the secret store's API."""

    namespace: pulumi.Output[str]
    """Namespace (the vault zone) the secret store runs in."""

    def __init__(self, name: str, args: inputs.VaultServerArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(name, args, opts)


class ObjectStore(_Declaration):
    endpoint: pulumi.Output[str]
    """In-cluster S3 endpoint."""

    audit_bucket: pulumi.Output[str]
    """Name of the WORM audit bucket."""

    def __init__(self, name: str, args: inputs.ObjectStoreArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(name, args, opts)


class Observability(_Declaration):
    otlp_grpc: pulumi.Output[str]
    """OTLP gRPC endpoint of the OpenTelemetry Collector."""

    loki_url: pulumi.Output[str]
    """URL of Loki."""

    prometheus_url: pulumi.Output[str]
    """URL of Prometheus."""

    def __init__(self, name: str, args: inputs.ObservabilityArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(name, args, opts)


class Flux(_Declaration):
    namespace: pulumi.Output[str]
    """Namespace Flux runs in."""

    path: pulumi.Output[str]
    """Path of the repository that Flux syncs."""

    audit_subject: pulumi.Output[str]
    """NATS subject Flux's audit alert publishes to."""

    def __init__(self, name: str, args: inputs.FluxArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(name, args, opts)


class RedisTransport(_Declaration):
    host: pulumi.Output[str]
    """Cluster DNS name of the Redis Service."""

    port: pulumi.Output[int]
    """Redis port."""

    phase: pulumi.Output[str]
    """The migration phase the transport was built for."""

    def __init__(self, name: str, args: inputs.RedisTransportArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(name, args, opts)


class KafkaCluster(_Declaration):
    bootstrap: pulumi.Output[str]
    """Bootstrap address of the Kafka cluster."""

    topics: pulumi.Output[list[str]]
    """Names of the declared topics."""

    def __init__(self, name: str, args: inputs.KafkaClusterArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(name, args, opts)


# The Python component's description is the one the schema shows.
for _declared, _python in (
    (Zone, _Zone), (StatelessService, _StatelessService), (NatsJetStream, _NatsJetStream),
    (VaultServer, _VaultServer), (ObjectStore, _ObjectStore), (Observability, _Observability),
    (Flux, _Flux), (RedisTransport, _RedisTransport), (KafkaCluster, _KafkaCluster),
):  # fmt: skip
    _declared.__doc__ = _python.__doc__

DECLARATIONS: tuple[type[pulumi.ComponentResource], ...] = (
    Zone, StatelessService, NatsJetStream, VaultServer, ObjectStore, Observability, Flux, RedisTransport, KafkaCluster,
)
