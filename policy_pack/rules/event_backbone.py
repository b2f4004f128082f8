"""Clause 4: the event backbone. Redis only as transport, JetStream as the durable, replayable bus,
and the migration between them time-limited and documented.

Stack rules, because the verdict depends on more than one object: a Redis config lives in a
ConfigMap, a sink points at a Redis Service, replicas depend on the stack being dev, and the
migration phase is declared once for the whole stack (see declaration.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from pulumi_policy import Severity

from .helpers.access import get, items, mapping, number, shown, text
from .helpers.conventions import (
    DECLARATION_MIGRATION_PHASE, DECLARATION_REDIS_DOCS, DECLARATION_REDIS_SUNSET, LABEL_STACK_DECLARATION,
    LABEL_STREAM_CLASS, MIGRATION_PHASES, PHASE_DUAL_WRITE, PHASE_JETSTREAM, PHASE_REDIS_ONLY, STREAM_CLASS_AUDIT,
)
from .backbone_audit import audit_discard_problems, dual_write_without_redis, workload_sinks
from .helpers.declaration import read_declaration
from .helpers.metadata import StackRule, kinds_rule
from .helpers.objects import KubeObject, kube_object, objects, selector_matches
from .helpers.redis import redis_persistence, redis_pods, redis_workloads

NOTIFICATION_PROVIDER = (("notification.toolkit.fluxcd.io", "Provider"),)
OTEL_COLLECTOR = (("opentelemetry.io", "OpenTelemetryCollector"),)
STREAM = ("jetstream.nats.io", "Stream")
PERSISTENT_BUS = (STREAM, ("kafka.strimzi.io", "KafkaTopic"))
_REDIS_URL = re.compile(r"^rediss?(\+\w+)?://", re.IGNORECASE)
_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/]*@)?(?P<host>[^:/?#]+)", re.IGNORECASE)


def _redis_hosts(resources: Sequence[Any]) -> set[str]:
    """Service names (short, ns-qualified and FQDN) whose selector picks Redis pods."""
    redis_labels = [(workload.namespace, mapping(template.metadata, "labels"))
                    for workload, template, _ in redis_pods(resources)]
    if not redis_labels:
        return set()
    hosts: set[str] = set()
    for service in objects(resources, (("core", "Service"),)):
        selector = mapping(service.spec, "selector")
        if not selector or not service.name:
            continue
        if any(ns == service.namespace and selector_matches({"matchLabels": selector}, labels)
               for ns, labels in redis_labels):
            hosts.update({service.name, f"{service.name}.{service.namespace}",
                          f"{service.name}.{service.namespace}.svc",
                          f"{service.name}.{service.namespace}.svc.cluster.local"})
    return hosts


def _points_at_redis(address: Any, hosts: set[str]) -> bool:
    if not isinstance(address, str) or not address:
        return False
    if _REDIS_URL.match(address):
        return True
    match = _HOST.match(address.strip())
    return match is not None and match["host"].lower() in hosts


def _sinks(resources: Sequence[Any]) -> Iterator[tuple[KubeObject, str, Any]]:
    """(object, field path, address) of everything that ships events, logs or audit records."""
    for provider in objects(resources, NOTIFICATION_PROVIDER):
        yield provider, "spec.address", get(provider.spec, "address")
    for collector in objects(resources, OTEL_COLLECTOR):
        for name, exporter in mapping(collector.spec, "config", "exporters").items():
            for field in ("endpoint", "url"):
                yield collector, f"spec.config.exporters.{name}.{field}", get(mapping(exporter), field)


def check_redis_persistence(resources: Sequence[Any]) -> Iterator[tuple[str, str | None]]:
    for finding in redis_persistence(resources):
        yield f"{finding.workload.label}: {finding.message}", finding.workload.urn


def check_redis_sink(resources: Sequence[Any]) -> Iterator[tuple[str, str | None]]:
    hosts = _redis_hosts(resources)
    for obj, path, address in _sinks(resources):
        if _points_at_redis(address, hosts):
            yield (f"{obj.label}: {path} {shown(address)} points at Redis; send events and audit records to the "
                   "JetStream audit stream (nats) or the collector/Loki instead", obj.urn)
    for obj, path, address in workload_sinks(resources, hosts):
        yield (f"{obj.label}: {path} sends audit records or events to Redis ({shown(address)}); write them to the "
               "JetStream audit stream instead, Redis is transport only", obj.urn)


_VERSION_TOKEN = re.compile(r"^v[1-9][0-9]*$")
_NAME_TOKENS = re.compile(r"[-_.]")


def is_audit_stream(stream: KubeObject) -> bool:
    if get(stream.labels, LABEL_STREAM_CLASS) == STREAM_CLASS_AUDIT:
        return True
    names = (text(stream.spec, "name") or "", stream.name or "")
    return any("audit" in _NAME_TOKENS.split(name.lower()) for name in names)


def stream_problems(stream: KubeObject) -> Iterator[str]:
    spec = stream.spec
    storage = get(spec, "storage")
    if storage != "file":
        yield f"spec.storage is {shown(storage)} (NACK defaults to memory); set storage: file"
    retention = get(spec, "retention")
    if retention not in (None, "limits"):
        yield f"spec.retention is {shown(retention)}, which deletes consumed events; set retention: limits"
    subjects = items(spec, "subjects")
    sourced = get(spec, "mirror") is not None or bool(items(spec, "sources"))
    if not subjects and not sourced:
        yield "spec.subjects is empty; list versioned subjects such as orders.v1.>"
    for index, subject in enumerate(subjects):
        tokens = subject.split(".") if isinstance(subject, str) else []
        if not any(_VERSION_TOKEN.match(token) for token in tokens):
            yield (f"spec.subjects[{index}] {shown(subject)} has no version token; write <domain>.v<N>.<type>, "
                   "e.g. orders.v1.created")
    if is_audit_stream(stream):
        for field in ("denyDelete", "denyPurge"):
            if get(spec, field) is not True:
                yield f"spec.{field} is {shown(get(spec, field))} on an audit stream; set {field}: true"
        yield from audit_discard_problems(stream)


def check_stream(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    stream = kube_object(resource_type, props)
    if stream is not None:
        yield from stream_problems(stream)


def check_stream_replicas(resources: Sequence[Any]) -> Iterator[tuple[str, str | None]]:
    streams = list(objects(resources, (STREAM,)))
    if not streams:
        return
    declaration = read_declaration(resources)
    if declaration.is_dev:
        return
    for stream in streams:
        raw = get(stream.spec, "replicas")
        replicas = number(raw) if raw is not None else 1.0
        if replicas is None or replicas < 3:
            yield (f"{stream.label}: spec.replicas is {shown(raw)} (NACK default 1) in a stack not declared dev "
                   f"({declaration.where}); set replicas: 3 or more", stream.urn)


def _sunset_problem(value: Any, now: datetime) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return f"{DECLARATION_REDIS_SUNSET} is missing"
    try:
        day = date.fromisoformat(value.strip()[:10])
    except ValueError:
        return f"{DECLARATION_REDIS_SUNSET} {shown(value)} is not an ISO 8601 date (YYYY-MM-DD)"
    if day <= now.date():
        return f"{DECLARATION_REDIS_SUNSET} {shown(value)} has passed; finish the migration to JetStream"
    return None


def phase_problems(resources: Sequence[Any], now: datetime | None = None) -> Iterator[tuple[str, str | None]]:
    now = now or datetime.now(UTC)
    declaration = read_declaration(resources)
    where = declaration.where
    redis = redis_workloads(resources)
    for key in declaration.conflicts:
        yield f"stack declarations disagree on {key}; keep one ConfigMap labelled {LABEL_STACK_DECLARATION}", None
    phase = declaration.get(DECLARATION_MIGRATION_PHASE)
    if phase is not None and phase not in MIGRATION_PHASES:
        yield f"{where}: data.{DECLARATION_MIGRATION_PHASE} {shown(phase)} is not one of {', '.join(MIGRATION_PHASES)}", None
        return
    if phase is None:
        for workload in redis:
            yield (f"{workload.label} runs Redis but the stack declares no {DECLARATION_MIGRATION_PHASE}; add a "
                   f"ConfigMap labelled {LABEL_STACK_DECLARATION}=\"true\" with data.{DECLARATION_MIGRATION_PHASE}",
                   workload.urn)
        return
    if phase == PHASE_JETSTREAM:
        for workload in redis:
            yield (f"{workload.label} runs Redis but {where} declares {DECLARATION_MIGRATION_PHASE} jetstream; "
                   "remove Redis", workload.urn)
    if phase == PHASE_DUAL_WRITE:
        yield from dual_write_without_redis(resources, bool(redis))
    if phase == PHASE_DUAL_WRITE and not any(True for _ in objects(resources, PERSISTENT_BUS)):
        yield (f"{where} declares dual-write but the stack has no JetStream Stream (or Kafka topic); add the "
               "persistent bus that Redis writes are doubled to", None)
    if phase == PHASE_REDIS_ONLY:
        problem = _sunset_problem(declaration.get(DECLARATION_REDIS_SUNSET), now)
        if problem:
            yield f"{where}: redis-only operation is time-limited: {problem}", None
        docs = declaration.get(DECLARATION_REDIS_DOCS)
        if not isinstance(docs, str) or not docs.startswith("https://"):
            yield (f"{where}: redis-only operation is documented: data.{DECLARATION_REDIS_DOCS} is {shown(docs)}; "
                   "link the migration plan (https://...)", None)


def check_phase(resources: Sequence[Any]) -> Iterator[tuple[str, str | None]]:
    return phase_problems(resources)


REDIS_TRANSPORT_ONLY = StackRule(
    name="redis-transport-only",
    description="Redis runs without any persistence: no volumes, no RDB snapshots, no AOF.",
    clause="4",
    specification="Keine Redis-Abhängigkeit für Persistenz oder Audit.",
    severity=Severity.HIGH,
    remediation=(
        "Run redis/valkey containers with args --save \"\" --appendonly no (or mount a redis.conf ConfigMap "
        "from the stack with save \"\" and appendonly no), with no persistentVolumeClaim, hostPath or "
        "volumeClaimTemplates and no platform-state declaration; Bitnami images also need "
        "REDIS_AOF_ENABLED=no and REDIS_RDB_POLICY_DISABLED=yes (VALKEY_* for valkey)."
    ),
    tags=("event-backbone", "redis"),
    check=check_redis_persistence,
)

REDIS_NOT_A_SINK = StackRule(
    name="redis-not-an-audit-sink",
    description="No event, log or audit sink points at Redis.",
    clause="4",
    specification="Keine Redis-Abhängigkeit für Persistenz oder Audit.",
    severity=Severity.HIGH,
    remediation=(
        "Point Flux notification Providers, OpenTelemetry Collector exporters and the audit/sink settings of "
        "workloads (env vars, --flags, mounted config files whose names say audit, sink, archive, exporter or "
        "drain) at the JetStream audit stream (Provider type nats) or at the collector/Loki, never at a "
        "redis:// address or a Service that selects Redis pods."
    ),
    tags=("event-backbone", "redis", "audit"),
    check=check_redis_sink,
)

STREAM_DURABLE = kinds_rule(
    name="jetstream-stream-durable",
    description="JetStream streams keep replayable, versioned events: file storage, limits retention, versioned subjects.",
    clause="4.2",
    specification="Replay-fähig, versionierte Schemas.",
    severity=Severity.HIGH,
    remediation=(
        "On every jetstream.nats.io Stream set storage: file, retention: limits (or leave it out), subjects "
        "with a version token (<domain>.v<N>.<type>), and on audit streams (label "
        "cdb-infra.io/stream-class=audit or \"audit\" in the name) denyDelete: true, denyPurge: true and, "
        "when capped by maxBytes/maxMsgs/maxMsgsPerSubject, discard: new."
    ),
    tags=("event-backbone", "jetstream"),
    kinds=(STREAM,),
    check=check_stream,
)

STREAM_REPLICAS = StackRule(
    name="jetstream-stream-replicas",
    description="JetStream streams keep three replicas unless the stack is declared dev.",
    clause="4.2",
    specification="Persistenter Event-Bus (NATS JetStream oder Kafka).",
    severity=Severity.MEDIUM,
    remediation=(
        "Set spec.replicas: 3 (or 5) on every Stream. Only a stack declared dev (ConfigMap labelled "
        f"{LABEL_STACK_DECLARATION}=\"true\" with data.environment: dev) may run fewer."
    ),
    tags=("event-backbone", "jetstream", "availability"),
    check=check_stream_replicas,
)

MIGRATION_PHASE = StackRule(
    name="event-backbone-migration-phase",
    description="Redis runs only in a declared migration phase; redis-only is time-limited and documented.",
    clause="4.3",
    specification="Redis-Only-Betrieb ist zeitlich begrenzt und dokumentiert.",
    severity=Severity.HIGH,
    remediation=(
        f"Declare the phase in a ConfigMap labelled {LABEL_STACK_DECLARATION}=\"true\": data."
        f"{DECLARATION_MIGRATION_PHASE} redis-only (with data.{DECLARATION_REDIS_SUNSET} a future ISO date and "
        f"data.{DECLARATION_REDIS_DOCS} an https link), dual-write (with a JetStream Stream and the Redis "
        "transport in the stack) or jetstream (no Redis at all)."
    ),
    tags=("event-backbone", "migration", "redis"),
    check=check_phase,
)

RULES = [REDIS_TRANSPORT_ONLY, REDIS_NOT_A_SINK, STREAM_DURABLE, STREAM_REPLICAS, MIGRATION_PHASE]
