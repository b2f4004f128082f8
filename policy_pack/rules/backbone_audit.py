"""Clause 4: audit records are never dropped silently and never land in Redis; the dual-write is safe.

- A JetStream audit stream capped in size (maxBytes, maxMsgs, maxMsgsPerSubject) with discard old (NACK's
  default) deletes the oldest records at the cap without a word: audit streams refuse new writes at
  their cap (discard: new) or have none.
- A Kafka audit topic keeps three copies and min.insync.replicas 2 outside dev.
- In the dual-write phase a retried event must be recognised as a duplicate: every stream remembers
  message ids (duplicateWindow, JetStream's default 2m) at least as long as the dual-write retries
  (the declaration's dual-write-retry-horizon, else pack config retryHorizon).
- Workloads whose audit/sink settings (env, args, mounted config files) point at Redis make Redis an
  audit sink.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from pulumi_policy import Severity

from .helpers.access import get, indexed, items, mapping, number, shown, text
from .helpers.conventions import DECLARATION_RETRY_HORIZON, LABEL_STACK_DECLARATION, PHASE_DUAL_WRITE
from .helpers.declaration import read_declaration
from .helpers.durations import parse_duration, shown_seconds
from .helpers.metadata import StackRule
from .helpers.objects import KubeObject, objects, workloads
from .helpers.podspec import containers
from .helpers.secret_values import name_words

STREAM = (("jetstream.nats.io", "Stream"),)
KAFKA_TOPIC = (("kafka.strimzi.io", "KafkaTopic"),)
CONFIG_MAP = (("core", "ConfigMap"),)
SIZE_CAPS = ("maxBytes", "maxMsgs", "maxMsgsPerSubject")
JETSTREAM_DEFAULT_WINDOW = Decimal(120)
# Words of a setting's name that make it a destination for audit records or events that must be kept.
SINK_WORDS = frozenset(("audit", "sink", "archive", "exporter", "drain"))
_NAME_TOKENS = re.compile(r"[-_.]")
_REDIS_URL = re.compile(r"\brediss?(\+\w+)?://", re.IGNORECASE)
_FLAG = re.compile(r"^--?([A-Za-z][A-Za-z0-9_.-]*)=(.+)$")
_CONFIG_LINE = re.compile(r"^\s*[\"']?([A-Za-z][A-Za-z0-9_.-]*)[\"']?\s*[:=]\s*[\"']?([^\"'\s]+)")


def is_audit(obj: KubeObject, name_field: str) -> bool:
    if get(obj.labels, "cdb-infra.io/stream-class") == "audit":
        return True
    names = (text(obj.spec, name_field) or "", obj.name or "")
    return any("audit" in _NAME_TOKENS.split(name.lower()) for name in names)


def audit_discard_problems(stream: KubeObject) -> Iterator[str]:
    """Size caps that drop the oldest audit records (a resource-level check, also used by the stream rule)."""
    if not is_audit(stream, "name"):
        return
    caps = [f"{cap} {shown(get(stream.spec, cap))}" for cap in SIZE_CAPS
            if (value := number(get(stream.spec, cap))) is not None and value > 0]
    discard = get(stream.spec, "discard")
    if caps and discard != "new":
        yield (f"audit stream capped ({', '.join(caps)}) with discard {shown(discard or 'old')} drops the oldest "
               "records at the cap; set discard: new (refuse writes at the cap) or remove the cap")


def check_kafka_audit(resources: Sequence[Any]) -> Iterator[tuple[str, str | None]]:
    topics = [t for t in objects(resources, KAFKA_TOPIC) if is_audit(t, "topicName")]
    if not topics:
        return
    declaration = read_declaration(resources)
    if declaration.is_dev:
        return
    for topic in topics:
        replicas = number(get(topic.spec, "replicas"))
        insync = number(get(mapping(topic.spec, "config"), "min.insync.replicas"))
        if insync is None and isinstance(get(mapping(topic.spec, "config"), "min.insync.replicas"), str):
            try:
                insync = float(get(mapping(topic.spec, "config"), "min.insync.replicas"))
            except ValueError:
                insync = None
        problems = []
        if replicas is None or replicas < 3:
            problems.append(f"spec.replicas is {shown(get(topic.spec, 'replicas'))} (need >= 3)")
        if insync is None or insync < 2:
            problems.append(f"spec.config[\"min.insync.replicas\"] is "
                            f"{shown(get(mapping(topic.spec, 'config'), 'min.insync.replicas'))} (need >= 2)")
        if problems:
            yield (f"{topic.label}: audit topic in a stack not declared dev ({declaration.where}): "
                   + "; ".join(problems), topic.urn)


def check_duplicate_window(resources: Sequence[Any], config: Mapping[str, Any]) -> Iterator[tuple[str, str | None]]:
    streams = list(objects(resources, STREAM))
    declaration = read_declaration(resources)
    if not streams or declaration.get("migration-phase") != PHASE_DUAL_WRITE:
        return
    declared = declaration.get(DECLARATION_RETRY_HORIZON)
    raw = declared if declared is not None else config.get("retryHorizon", "2m")
    horizon = parse_duration(raw)
    if horizon is None:
        yield (f"{declaration.where}: data.{DECLARATION_RETRY_HORIZON} {shown(raw)} is not a Go duration "
               "(e.g. 10m)", None)
        return
    for stream in streams:
        if get(stream.spec, "mirror") is not None:
            continue  # a mirror takes ids from its origin, it publishes nothing itself
        window_raw = get(stream.spec, "duplicateWindow")
        window = JETSTREAM_DEFAULT_WINDOW if window_raw is None else parse_duration(window_raw)
        if window is None or window < horizon:
            shown_window = shown(window_raw) if window_raw is not None else "unset (2m)"
            yield (f"{stream.label}: spec.duplicateWindow {shown_window} is shorter than the dual-write's retry "
                   f"horizon {shown_seconds(horizon)}; a retried event would be stored twice, set duplicateWindow "
                   f"to {shown_seconds(horizon)} or more", stream.urn)


def _points_at_redis(value: Any, hosts: set[str]) -> bool:
    if not isinstance(value, str) or not value:
        return False
    if _REDIS_URL.search(value):
        return True
    host = value.split("://", 1)[-1].split("@", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0].lower()
    return host in hosts


def _is_sink(name: str) -> bool:
    return bool(SINK_WORDS & set(name_words(name)))


def workload_sinks(resources: Sequence[Any], hosts: set[str]) -> Iterator[tuple[KubeObject, str, Any]]:
    """(workload, where, value) of audit/sink settings in env, args and mounted config files aimed at Redis."""
    config_maps = {(cm.namespace, cm.name): cm for cm in objects(resources, CONFIG_MAP)}
    for workload, template in workloads(resources):
        for container in containers(template):
            for path, env in indexed(container.spec, "env", container.path):
                name, value = text(env, "name") or "", get(env, "value")
                if _is_sink(name) and _points_at_redis(value, hosts):
                    yield workload, f"{path} ({name})", value
            for field in ("command", "args"):
                for index, word in enumerate(items(container.spec, field)):
                    match = _FLAG.match(word) if isinstance(word, str) else None
                    if match and _is_sink(match[1]) and _points_at_redis(match[2], hosts):
                        yield workload, f"{container.path}.{field}[{index}]", word
        for _, volume in indexed(template.spec, "volumes", template.path):
            source = text(mapping(volume, "configMap"), "name")
            config_map = config_maps.get((workload.namespace, source)) if source else None
            if config_map is None:
                continue
            for key, content in mapping(config_map.props, "data").items():
                for number_, line in enumerate(str(content).splitlines(), start=1):
                    match = _CONFIG_LINE.match(line)
                    if match and _is_sink(match[1]) and _points_at_redis(match[2], hosts):
                        yield workload, f"mounted {config_map.label} data[\"{key}\"] line {number_}", match[2]


def dual_write_without_redis(resources: Sequence[Any], has_redis: bool) -> Iterator[tuple[str, str | None]]:
    declaration = read_declaration(resources)
    if declaration.get("migration-phase") == PHASE_DUAL_WRITE and not has_redis:
        yield (f"{declaration.where} declares dual-write but the stack runs no Redis to dual-write from; run the "
               "Redis transport, or declare migration-phase jetstream once Redis is gone", None)


KAFKA_AUDIT = StackRule(
    name="kafka-audit-topic-replicated",
    description="Kafka audit topics keep three copies and min.insync.replicas 2 unless the stack is dev.",
    clause="4",
    specification="Keine Redis-Abhängigkeit für Persistenz oder Audit.",
    severity=Severity.HIGH,
    remediation=(
        "On kafka.strimzi.io KafkaTopics carrying audit records (\"audit\" in the name or label "
        "cdb-infra.io/stream-class=audit) set spec.replicas: 3 or more and spec.config min.insync.replicas: 2 "
        f"or more; only a stack declared dev (ConfigMap labelled {LABEL_STACK_DECLARATION}) may run fewer."
    ),
    tags=("event-backbone", "kafka", "audit"),
    check=check_kafka_audit,
)

DUPLICATE_WINDOW = StackRule(
    name="jetstream-duplicate-window",
    description="During the dual-write, streams de-duplicate for at least the dual-write's retry horizon.",
    clause="4.3",
    specification="Dual-Write-Phase: Redis + Persistenter Bus.",
    severity=Severity.HIGH,
    remediation=(
        f"Set spec.duplicateWindow on every Stream to at least the retry horizon the stack declares in data."
        f"{DECLARATION_RETRY_HORIZON} (or the pack config retryHorizon, default 2m), so an event the "
        "dual-write publishes again after a timeout is stored once."
    ),
    tags=("event-backbone", "jetstream", "migration"),
    check=check_duplicate_window,
    config={"retryHorizon": {"type": "string", "default": "2m",
                             "description": "The dual-write's retry horizon when the stack declares none (Go duration)"}},
)

RULES = [KAFKA_AUDIT, DUPLICATE_WINDOW]
