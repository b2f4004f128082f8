"""Clause 2.4: a manual change is an exception, and it is documented on the object it changed.

An object carrying any ``cdb-infra.io/break-glass-*`` annotation is marked as changed by hand. The
marker must be complete (ticket, reason incident|security, responsible person, ISO 8601 time, expiry)
and still valid: the expiry lies after the time and in the future, and no later than the maximum
lifetime after the time (pack config, hours, 72 by default and never above a week), so a marker cannot
outlive the emergency and has to be replaced by code.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pulumi_policy import Severity

from .helpers.access import get, shown
from .helpers.conventions import (
    ANNOTATION_BREAK_GLASS_EXPIRY, ANNOTATION_BREAK_GLASS_REASON, ANNOTATION_BREAK_GLASS_TIME,
    BREAK_GLASS_ANNOTATIONS, BREAK_GLASS_PREFIX, BREAK_GLASS_REASONS, annotations_of,
)
from .helpers.metadata import kinds_rule

DEFAULT_MAX_LIFETIME_HOURS = 72
# Pack config of every rule that honours a marker: the CLI validates the bounds, so it cannot be widened.
LIFETIME_CONFIG = {"maxLifetimeHours": {
    "type": "integer", "minimum": 1, "maximum": 168, "default": DEFAULT_MAX_LIFETIME_HOURS,
    "description": "Longest a break-glass marker may stay valid, from its time to its expiry (hours, at most 168)"}}
ISO_HINT = 'an ISO 8601 date-time with offset, e.g. "2026-11-25T14:30:00Z"'


def parse_instant(value: Any, date_only_ok: bool = False) -> datetime | None:
    """An aware datetime from ISO 8601 text, or None. A bare date (expiry only) means 00:00 UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if len(text) == 10:  # a bare date: fromisoformat gives midnight, naive
        return parsed.replace(tzinfo=UTC) if date_only_ok else None
    if parsed.tzinfo is None:
        return None  # local time of an unknown zone: not auditable
    return parsed


def has_marker(annotations: Mapping[str, Any]) -> bool:
    return any(isinstance(key, str) and key.startswith(BREAK_GLASS_PREFIX) for key in annotations)


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def lifetime_hours(config: Mapping[str, Any] | None) -> int:
    value = (config or {}).get("maxLifetimeHours", DEFAULT_MAX_LIFETIME_HOURS)
    return int(value) if isinstance(value, (int, float)) and 1 <= value <= 168 else DEFAULT_MAX_LIFETIME_HOURS


def marker_problems(annotations: Mapping[str, Any], now: datetime | None = None,
                    max_lifetime_hours: int = DEFAULT_MAX_LIFETIME_HOURS) -> list[str]:
    """What is wrong with a break-glass marker; empty when it is complete, short-lived and unexpired."""
    now = now or datetime.now(UTC)
    problems = []
    missing = [key for key in BREAK_GLASS_ANNOTATIONS if _blank(get(annotations, key))]
    if missing:
        problems.append("missing " + ", ".join(missing))
    reason = get(annotations, ANNOTATION_BREAK_GLASS_REASON)
    if not _blank(reason) and reason not in BREAK_GLASS_REASONS:
        problems.append(f"{ANNOTATION_BREAK_GLASS_REASON} is {shown(reason)}, not one of "
                        + "|".join(BREAK_GLASS_REASONS))
    raw_time = get(annotations, ANNOTATION_BREAK_GLASS_TIME)
    raw_expiry = get(annotations, ANNOTATION_BREAK_GLASS_EXPIRY)
    when = parse_instant(raw_time)
    expiry = parse_instant(raw_expiry, date_only_ok=True)
    if not _blank(raw_time) and when is None:
        problems.append(f"{ANNOTATION_BREAK_GLASS_TIME} {shown(raw_time)} is not {ISO_HINT}")
    if not _blank(raw_expiry) and expiry is None:
        problems.append(f"{ANNOTATION_BREAK_GLASS_EXPIRY} {shown(raw_expiry)} is not {ISO_HINT}")
    if when is not None and expiry is not None and expiry <= when:
        problems.append(f"{ANNOTATION_BREAK_GLASS_EXPIRY} {shown(raw_expiry)} is not after "
                        f"{ANNOTATION_BREAK_GLASS_TIME} {shown(raw_time)}")
    if when is not None and expiry is not None and expiry - when > timedelta(hours=max_lifetime_hours):
        problems.append(f"{ANNOTATION_BREAK_GLASS_EXPIRY} {shown(raw_expiry)} is more than {max_lifetime_hours}h after "
                        f"{ANNOTATION_BREAK_GLASS_TIME} {shown(raw_time)}; an emergency marker lives at most "
                        f"{max_lifetime_hours}h, codify the change in IaC before then")
    if expiry is not None and expiry <= now:
        problems.append(f"{ANNOTATION_BREAK_GLASS_EXPIRY} {shown(raw_expiry)} has passed; codify the change "
                        "in IaC and remove the marker")
    if when is not None and when > now:
        problems.append(f"{ANNOTATION_BREAK_GLASS_TIME} {shown(raw_time)} lies in the future")
    return problems


def valid_marker(annotations: Mapping[str, Any], max_lifetime_hours: int = DEFAULT_MAX_LIFETIME_HOURS) -> bool:
    """A complete, short-lived, unexpired marker (what lets a documented emergency change pass other rules)."""
    return has_marker(annotations) and not marker_problems(annotations, max_lifetime_hours=max_lifetime_hours)


def check_break_glass(resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any]) -> Iterator[str]:
    annotations = annotations_of(props)
    if not has_marker(annotations):
        return
    for problem in marker_problems(annotations, max_lifetime_hours=lifetime_hours(config)):
        yield f"metadata.annotations: break-glass marker {problem}"


BREAK_GLASS = kinds_rule(
    name="break-glass-marker-complete",
    description="A manual change carries a complete, unexpired break-glass marker.",
    clause="2.4",
    specification="Zeit, Grund, Verantwortlicher sind verpflichtend zu dokumentieren.",
    severity=Severity.HIGH,
    remediation=(
        "An object changed by hand carries all of " + ", ".join(BREAK_GLASS_ANNOTATIONS) + ": the ticket id, "
        "the reason (incident or security), the responsible person, the time of the change and an expiry "
        "after it, both ISO 8601 with offset (e.g. 2026-11-25T14:30:00Z), at most maxLifetimeHours (pack "
        f"config, default {DEFAULT_MAX_LIFETIME_HOURS}h) apart. Before the expiry, codify the change in IaC and "
        "remove the marker."
    ),
    tags=("break-glass", "audit"),
    check=check_break_glass,
    config=LIFETIME_CONFIG,
)

RULES = [BREAK_GLASS]
