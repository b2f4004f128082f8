"""Arguments of the NATS JetStream component, with every cross-field rule checked before anything is built."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator

from components import names, quantity
from components.intent import Intent
from components.network import Destination, Peer
from components.provenance import Provenance
from components.streams import StreamSpec, parse_subject, subject_matches
from components.types import Image, Resources

DnsLabel = Annotated[str, AfterValidator(names.dns_label)]
Memory = Annotated[str, AfterValidator(quantity.memory)]

NATS_IMAGE = "nats:2.14.2-alpine"  # nats-io/k8s chart nats 2.14.2 (stack.md §2.1)
EXPORTER_IMAGE = "natsio/prometheus-nats-exporter:0.17.3"  # nats-io/k8s chart nats 2.14.2 promExporter
NACK_IMAGE = "natsio/jetstream-controller:0.23.0"  # nats-io/k8s chart nack 0.34.0
# The CRDs of that NACK release are vendored: components/vendor/nack/0.34.0/crds.yml (nats-io/k8s tag nack-0.34.0).
NACK_CRDS_VERSION = "0.34.0"


def _nats_resources() -> Resources:
    # Requests equal limits for memory, as the upstream chart recommends for a JetStream server.
    return Resources(cpu_request="500m", memory_request="1Gi", cpu_limit="1", memory_limit="1Gi")


def _nack_resources() -> Resources:
    return Resources(cpu_request="50m", memory_request="64Mi", cpu_limit="200m", memory_limit="128Mi")


def _exporter_resources() -> Resources:
    return Resources(cpu_request="10m", memory_request="32Mi", cpu_limit="100m", memory_limit="64Mi")


class ExporterArgs(Intent):
    """prometheus-nats-exporter, a sidecar of every server: it sees exactly its own server's monitor port."""

    image: Image = Field(default=Image.parse(EXPORTER_IMAGE), description="Pinned prometheus-nats-exporter image")
    resources: Resources = Field(default_factory=_exporter_resources, description="Exporter requests and limits")


class NackArgs(Intent):
    """The NACK JetStream controller: turns the Stream custom resources into streams on the cluster."""

    image: Image = Field(default=Image.parse(NACK_IMAGE), description="Pinned jetstream-controller image")
    resources: Resources = Field(default_factory=_nack_resources, description="Controller requests and limits")
    api_server: tuple[Destination, ...] = Field(
        min_length=1,
        description="Egress to the Kubernetes API server (cidr and ports as the CNI sees them): the controller watches its CRs",
    )
    install_crds: bool = Field(
        default=True,
        description="Install the vendored jetstream.nats.io CRDs (components/vendor/nack); False when the cluster installs them elsewhere",
    )


class NatsJetStreamArgs(Intent):
    """A clustered NATS server with JetStream on persistent file storage, and its declared streams."""

    provenance: Provenance = Field(description="Ownership and origin labels/annotations of every object")
    namespace: DnsLabel = Field(description="Namespace (a Zone that allows PersistentVolumeClaims)")
    image: Image = Field(default=Image.parse(NATS_IMAGE), description="Pinned nats-server image")
    replicas: int = Field(default=3, ge=1, le=9, description="Servers: 1 (dev) or an odd number >= 3 (RAFT quorum)")
    storage_size: Memory = Field(default="10Gi", description="PersistentVolumeClaim size per server (JetStream file store)")
    storage_class: DnsLabel | None = Field(default=None, description="StorageClass of the claims; None uses the default")
    resources: Resources = Field(default_factory=_nats_resources, description="Server requests and limits")
    client_from: tuple[Peer, ...] = Field(default=(), description="Who may connect on the client port 4222")
    monitor_from: tuple[Peer, ...] = Field(default=(), description="Who may scrape the exporter port 7777 of every server (Prometheus)")
    exporter: ExporterArgs = Field(default_factory=ExporterArgs, description="The per-server Prometheus exporter sidecar")
    streams: tuple[StreamSpec, ...] = Field(default=(), description="JetStream streams, declared as NACK Stream CRs")
    nack: NackArgs = Field(description="The NACK controller that reconciles the streams")
    audit_subject: str | None = Field(
        default=None, description="Subject of audit records (e.g. Flux events); its stream must deny delete and purge"
    )

    @field_validator("replicas")
    @classmethod
    def _quorum(cls, value: int) -> int:
        if value != 1 and value % 2 == 0:
            raise ValueError(
                f"replicas {value}: JetStream's RAFT groups need a majority, an even count adds no fault "
                "tolerance; use 1 (dev) or 3, 5, ..."
            )
        return value

    @model_validator(mode="after")
    def _streams_fit(self) -> NatsJetStreamArgs:
        seen: dict[str, str] = {}
        for spec in self.streams:
            resource = stream_resource_name(spec.name)
            if resource in seen:
                raise ValueError(f"streams {seen[resource]!r} and {spec.name!r} map to the same resource name; rename one")
            seen[resource] = spec.name
            if spec.replicas > self.replicas:
                raise ValueError(
                    f"stream {spec.name!r} wants {spec.replicas} replicas but the cluster has {self.replicas} servers; "
                    "lower the stream's replicas or add servers"
                )
        for index, first in enumerate(self.streams):
            for second in self.streams[index + 1 :]:
                clash = _overlap(first, second)
                if clash:
                    raise ValueError(
                        f"streams {first.name!r} and {second.name!r} both bind {clash!r}; JetStream refuses "
                        "overlapping subjects, give each subject one stream"
                    )
        if self.audit_subject is not None:
            audit_stream(self.streams, self.audit_subject)
        return self

    @property
    def audit_stream_name(self) -> str | None:
        return audit_stream(self.streams, self.audit_subject).name if self.audit_subject else None

    @property
    def max_file_store_bytes(self) -> int:
        return int(quantity.parse_quantity(self.storage_size))


def _overlap(first: StreamSpec, second: StreamSpec) -> str | None:
    for a in first.subjects:
        for b in second.subjects:
            if a == b or subject_matches(a, b) or subject_matches(b, a):
                return b if subject_matches(a, b) or a == b else a
    return None


def stream_resource_name(stream: str) -> str:
    """Kubernetes name of a stream's CR: stream names allow upper case and '_', object names do not."""
    return names.dns_subdomain(stream.lower().replace("_", "-"))


def audit_stream(streams: tuple[StreamSpec, ...], subject: str) -> StreamSpec:
    """The stream that stores the audit subject; it must refuse delete and purge."""
    _, _, event_type = parse_subject(subject)
    if event_type == ">":
        raise ValueError(f"audit subject {subject!r} is a wildcard; name one subject, e.g. 'audit.v1.flux'")
    bound = [s for s in streams if s.covers(subject)]
    if not bound:
        raise ValueError(f"no stream binds the audit subject {subject!r}; add a stream with subject '{subject.rsplit('.', 1)[0]}.>'")
    stream = bound[0]
    if not (stream.deny_delete and stream.deny_purge):
        raise ValueError(f"stream {stream.name!r} holds the audit subject {subject!r}; set deny_delete and deny_purge")
    return stream
