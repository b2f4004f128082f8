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
    """`class Zone(_Declaration, stands_for=components.Zone, args=inputs.ZoneArgs)` takes the Python
    component's description and gives `__init__` the `args` annotation the inference reads."""

    def __init_subclass__(cls, *, stands_for: type[pulumi.ComponentResource], args: type, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.__doc__ = stands_for.__doc__

        def __init__(self, name: str, args: object, opts: Optional[pulumi.ResourceOptions] = None) -> None:  # noqa: N807
            raise TypeError(f"{type(self).__name__} of the provider only declares the schema; use components.*")

        __init__.__annotations__ = {**__init__.__annotations__, "args": args}
        cls.__init__ = __init__  # type: ignore[method-assign]


class Zone(_Declaration, stands_for=_Zone, args=inputs.ZoneArgs):
    namespace_name: pulumi.Output[str]
    """Name of the zone's Namespace."""


class StatelessService(_Declaration, stands_for=_StatelessService, args=inputs.StatelessServiceArgs):
    service_name: pulumi.Output[str]
    """Name of the Deployment, its Service and its ServiceAccount (the component name)."""

    namespace: pulumi.Output[str]
    """Namespace the service runs in."""

    host: pulumi.Output[str]
    """Cluster DNS name of the Service, e.g. 'api.apps.svc.cluster.local'."""

    port: pulumi.Output[int]
    """Port of the ClusterIP Service."""


class NatsJetStream(_Declaration, stands_for=_NatsJetStream, args=inputs.NatsJetStreamArgs):
    client_url: pulumi.Output[str]
    """Client URL of the NATS cluster, e.g. 'nats://nats.event-bus.svc.cluster.local:4222'."""

    namespace: pulumi.Output[str]
    """Namespace the servers run in."""

    streams: pulumi.Output[list[str]]
    """Names of the declared JetStream streams."""


class VaultServer(_Declaration, stands_for=_VaultServer, args=inputs.VaultServerArgs):
    address: pulumi.Output[str]
    """In-cluster address of the secret store's API."""

    namespace: pulumi.Output[str]
    """Namespace (the vault zone) the secret store runs in."""


class ObjectStore(_Declaration, stands_for=_ObjectStore, args=inputs.ObjectStoreArgs):
    endpoint: pulumi.Output[str]
    """In-cluster S3 endpoint."""

    audit_bucket: pulumi.Output[str]
    """Name of the WORM audit bucket."""


class Observability(_Declaration, stands_for=_Observability, args=inputs.ObservabilityArgs):
    otlp_grpc: pulumi.Output[str]
    """OTLP gRPC endpoint of the OpenTelemetry Collector."""

    loki_url: pulumi.Output[str]
    """URL of Loki."""

    prometheus_url: pulumi.Output[str]
    """URL of Prometheus."""


class Flux(_Declaration, stands_for=_Flux, args=inputs.FluxArgs):
    namespace: pulumi.Output[str]
    """Namespace Flux runs in."""

    path: pulumi.Output[str]
    """Path of the repository that Flux syncs."""

    audit_subject: pulumi.Output[str]
    """NATS subject Flux's audit alert publishes to."""


class RedisTransport(_Declaration, stands_for=_RedisTransport, args=inputs.RedisTransportArgs):
    host: pulumi.Output[str]
    """Cluster DNS name of the Redis Service."""

    port: pulumi.Output[int]
    """Redis port."""

    phase: pulumi.Output[str]
    """The migration phase the transport was built for."""


class KafkaCluster(_Declaration, stands_for=_KafkaCluster, args=inputs.KafkaClusterArgs):
    bootstrap: pulumi.Output[str]
    """Bootstrap address of the Kafka cluster."""

    topics: pulumi.Output[list[str]]
    """Names of the declared topics."""


DECLARATIONS: tuple[type[pulumi.ComponentResource], ...] = (
    Zone, StatelessService, NatsJetStream, VaultServer, ObjectStore, Observability, Flux, RedisTransport, KafkaCluster,
)
