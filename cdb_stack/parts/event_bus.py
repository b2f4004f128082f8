"""The event bus part: NATS JetStream with the stack's streams (CDB_INFRA_POLICY clauses 3 and 4).

Settings key `cdb-infra:eventBus`. Replicas follow the environment unless set: one server and
single-replica streams in dev, three elsewhere (where fewer are refused). The streams are declared
here, one entry per `components.streams.StreamSpec`, and the audit subject Flux publishes on must be
bound by a stream that denies delete and purge. Publishes `event_bus.url`, `event_bus.audit_subject`,
`event_bus.namespace` and `event_bus.client_labels` (pod labels of the servers) for later parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import Field

from components import goduration
from components.errors import ComponentArgsError
from components.nats import NACK_IMAGE, NATS_IMAGE, NatsJetStream, NatsJetStreamArgs
from components.nats.args import EXPORTER_IMAGE
from components.nats.config import CLIENT_PORT, EXPORTER_PORT
from components.network import Peer
from components.streams import StreamSpec, stream_spec
from components.observability.common import ScrapeTarget
from components.zone import Zone, ZoneArgs
from cdb_stack.parts import BuildContext, Clients, EventBusOffer, PlanContext
from cdb_stack.settings_base import Compute, Name, Strict, compute

KEY = "eventBus"
PRODUCTION_REPLICAS = 3


class StreamSettings(Strict):
    """One JetStream stream (the fields of StreamSpec; durations as Go durations, e.g. 2m, 168h)."""

    name: str = Field(description="stream name: letters, digits, '-' and '_'")
    subjects: list[str] = Field(min_length=1, description="versioned subjects, '<domain>.v<N>.>' or '<domain>.v<N>.<type>'")
    description: str = Field("", description="what the stream carries")
    replicas: int | None = Field(None, ge=1, le=5, description="copies of each message; default 1 in dev, 3 elsewhere")
    duplicate_window: str = Field("2m", description="how long a Nats-Msg-Id is remembered (dual-write idempotency)")
    max_age: str | None = Field(None, description="oldest event kept, e.g. 8760h; unset keeps events forever")
    max_bytes: int = Field(-1, ge=-1, description="size limit in bytes, -1 for none")
    max_msgs: int = Field(-1, ge=-1, description="message limit, -1 for none")
    deny_delete: bool = Field(True, description="refuse deleting single events")
    deny_purge: bool = Field(True, description="refuse purging the stream")


def _default_streams() -> list[StreamSettings]:
    return [
        StreamSettings(name="AUDIT", subjects=["audit.v1.>"],
                       description="Audit trail (Flux reconcile and drift events, merges, break-glass); never deleted or purged"),
        StreamSettings(name="CDB_EVENTS", subjects=["orders.v1.>", "orders.v2.>", "payments.v1.>"],
                       description="CDB domain events, versioned subjects, replayable", max_age="8760h"),
    ]  # fmt: skip


class NackSettings(Strict):
    image: str = Field(NACK_IMAGE, description="pinned natsio/jetstream-controller image")
    resources: Compute = Field(default_factory=compute('50m', '64Mi', '200m', '128Mi'))
    install_crds: bool = Field(True, description="install the vendored NACK CRDs (components/vendor/nack); false when installed elsewhere")


class ExporterSettings(Strict):
    image: str = Field(EXPORTER_IMAGE, description="pinned natsio/prometheus-nats-exporter image (a sidecar of every server)")
    resources: Compute = Field(default_factory=compute('10m', '32Mi', '100m', '64Mi'))


class Settings(Strict):
    name: Name = Field("nats", description="name of the NATS StatefulSet and its client Service")
    namespace: Name = Field("event-bus", description="the event bus's own zone (it claims volumes)")
    image: str = Field(NATS_IMAGE, description="pinned nats-server image")
    replicas: int | None = Field(None, ge=1, le=9, description="servers; default 1 in dev, 3 elsewhere")
    storage_size: str = Field("10Gi", description="JetStream file store per server (PersistentVolumeClaim size)")
    storage_class: Name | None = Field(None, description="StorageClass of the claims; default: the cluster's default")
    resources: Compute = Field(default_factory=compute('500m', '1Gi', '1', '1Gi'))
    client_zones: list[Name] = Field(default_factory=list, description="zones whose pods may connect on 4222")
    monitor_zones: list[Name] = Field(default_factory=list, description="zones that may scrape every server's exporter on 7777")
    exporter: ExporterSettings = Field(default_factory=ExporterSettings, description="the Prometheus exporter beside every server")
    streams: list[StreamSettings] = Field(default_factory=_default_streams, description="the stack's JetStream streams")
    audit_subject: str = Field("audit.v1.flux", description="subject Flux events go to; a stream denying delete and purge must bind it")
    nack: NackSettings = Field(default_factory=NackSettings, description="the NACK stream controller")


@dataclass(frozen=True)
class Planned:
    zone: ZoneArgs
    args: NatsJetStreamArgs
    name: str
    audit_subject: str


def parse_duration(text: str, where: str) -> timedelta:
    """A Go duration as NACK reads it ('2m', '1h30m', '168h'); JetStream keeps whole seconds here."""
    try:
        nanoseconds = goduration.nanoseconds(text)
    except goduration.DurationError as exc:
        raise ValueError(f"{where}: {exc}") from None
    if nanoseconds % 10**9:
        raise ValueError(f"{where}: {text!r} is not a whole number of seconds; write e.g. '2m' or '90s'")
    return timedelta(seconds=nanoseconds // 10**9)


def _replicas(value: int | None, where: str, is_dev: bool) -> int:
    replicas = value if value is not None else (1 if is_dev else PRODUCTION_REPLICAS)
    if not is_dev and replicas < PRODUCTION_REPLICAS:
        raise ValueError(f"{where}: {replicas} is too few outside dev; set at least {PRODUCTION_REPLICAS} (or remove it)")
    return replicas


def stream_specs(settings: Settings, is_dev: bool) -> tuple[StreamSpec, ...]:
    """The StreamSpec objects the stack declares (the server proof tests use these very objects)."""
    specs = []
    for i, s in enumerate(settings.streams):
        where = f"streams[{i}]"
        try:
            specs.append(stream_spec(
                name=s.name, subjects=tuple(s.subjects), description=s.description,
                replicas=_replicas(s.replicas, f"{where}.replicas", is_dev),
                duplicate_window=parse_duration(s.duplicate_window, f"{where}.duplicateWindow"),
                max_age=parse_duration(s.max_age, f"{where}.maxAge") if s.max_age else None,
                max_bytes=s.max_bytes, max_msgs=s.max_msgs, deny_delete=s.deny_delete, deny_purge=s.deny_purge,
            ))  # fmt: skip
        except ComponentArgsError as exc:
            raise ValueError(f"{where}: {exc}") from None
    return tuple(specs)


def plan(settings: Settings, ctx: PlanContext) -> Planned:
    if settings.namespace in {z.name for z in ctx.settings.zones}:
        raise ValueError(f"namespace: {settings.namespace!r} is also declared under zones; the event bus needs its own zone")
    replicas = _replicas(settings.replicas, "replicas", ctx.is_dev)
    specs = stream_specs(settings, ctx.is_dev)
    nack = settings.nack
    args = NatsJetStreamArgs.parse(
        {
            "provenance": ctx.provenance,
            "namespace": settings.namespace,
            "image": settings.image,
            "replicas": replicas,
            "storage_size": settings.storage_size,
            "storage_class": settings.storage_class,
            "resources": settings.resources.to_resources(),
            "client_from": tuple(Peer(namespace=z) for z in settings.client_zones),
            "monitor_from": tuple(Peer(namespace=z) for z in settings.monitor_zones),
            "streams": specs,
            "audit_subject": settings.audit_subject,
            "exporter": {"image": settings.exporter.image, "resources": settings.exporter.resources.to_resources()},
            "nack": {
                "image": nack.image,
                "resources": nack.resources.to_resources(),
                "install_crds": nack.install_crds,
                "api_server": ctx.api_server_egress("eventBus.nack"),
            },
        },
        owner=f"eventBus {settings.name!r}",
    )
    zone = ZoneArgs.parse(
        {"provenance": ctx.provenance, "namespace": settings.namespace, "quota": {"persistentvolumeclaims": str(replicas)}},
        owner=f"eventBus zone {settings.namespace!r}",
    )
    return Planned(zone=zone, args=args, name=settings.name, audit_subject=settings.audit_subject)


def build(planned: Planned, ctx: BuildContext) -> dict[str, Any]:
    import pulumi

    zone = Zone(planned.zone.namespace, planned.zone)
    ctx.zones[planned.zone.namespace] = zone
    bus = NatsJetStream(planned.name, planned.args, ctx.flux_owned(pulumi.ResourceOptions(depends_on=[zone])))
    client_labels = {"app.kubernetes.io/name": planned.name, "app.kubernetes.io/instance": planned.name}
    # What a client zone's pods reach: the client Service on 4222 (the URL every producer is given).
    clients = Clients.of(planned.args.client_from, [{"service": f"{planned.args.namespace}/{planned.name}",
                                                     "port": CLIENT_PORT, "purpose": "publish and consume events"}])
    ctx.published.event_bus = EventBusOffer(url=bus.client_url, audit_subject=planned.audit_subject,
                                            namespace=planned.args.namespace, client_labels=client_labels,
                                            clients=clients)
    # Every server's exporter sidecar, discovered pod by pod (a Service would hand Prometheus one server).
    ctx.published.metrics_targets.append(ScrapeTarget(
        job="nats", namespace=planned.args.namespace, port=EXPORTER_PORT, pod_labels=dict(client_labels),
    ))
    return {"eventBusUrl": bus.client_url, "eventBusStreams": bus.stream_names, "eventBusAuditSubject": planned.audit_subject}
