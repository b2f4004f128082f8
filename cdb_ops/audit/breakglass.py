"""Break-glass (CDB_INFRA_POLICY 2.4): a manual change for incident response or a security emergency.

The audit record holds ticket, reason, responsible person, time and expiry. The code change that
codifies the manual change afterwards must carry the same facts as annotations on every object it
touches, so the policy pack can reject incomplete or expired markers:

  cdb-infra.io/break-glass-ticket       ticket id of the mandatory ticket (e.g. INC-4711)
  cdb-infra.io/break-glass-reason       `incident` or `security`
  cdb-infra.io/break-glass-responsible  the responsible person (e-mail or handle)
  cdb-infra.io/break-glass-time         when the manual change was made, ISO 8601 UTC
  cdb-infra.io/break-glass-expiry       when the exception ends, ISO 8601 UTC
  cdb-infra.io/break-glass-audit        `<seq>:<record hash>` of the audit record (once it is stored)
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from cdb_core.errors import CdbError

from components import conventions, goduration

# The keys the policy pack reads (components/conventions.py mirrors policy_pack/rules/helpers/conventions.py).
PREFIX = conventions.BREAK_GLASS_PREFIX
REASONS = ("incident", "security")
# Clause 2.4 asks for the change to be codified "sofort" (at once); a week is the outer bound we accept.
MAX_WINDOW = timedelta(days=7)
_TICKET = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*[-#]?[0-9A-Za-z]+$")
_DAYS = re.compile(r"([0-9]+)d")


def parse_duration(text: str) -> timedelta:
    """`--expires-in`: whole days (`2d`, Go has no day unit) or a Go duration (`90m`, `4h`, `1h30m`)."""
    text = text.strip()
    days = _DAYS.fullmatch(text)
    if days:
        return timedelta(days=int(days[1]))
    try:
        nanoseconds = goduration.nanoseconds(text)
    except goduration.DurationError:
        raise CdbError(f"--expires-in {text!r}: use minutes, hours or days like 90m, 4h, 1h30m, 2d") from None
    return timedelta(microseconds=nanoseconds // 1000)


def validate(ticket: str, reason: str, responsible: str, at: datetime, expires: datetime) -> None:
    if not _TICKET.match(ticket.strip()):
        raise CdbError(f"--ticket {ticket!r}: give the ticket id, e.g. INC-4711")
    if reason not in REASONS:
        raise CdbError(f"--reason {reason!r}: manual changes are allowed only for {' or '.join(REASONS)}")
    if not responsible.strip() or any(c.isspace() for c in responsible.strip()):
        raise CdbError("--responsible: name one responsible person as an e-mail address or handle")
    if expires <= at:
        raise CdbError("--expires must be later than --time")
    if expires - at > MAX_WINDOW:
        raise CdbError(f"--expires is {expires - at} after the change; codify the change as IaC within "
                       f"{MAX_WINDOW.days} days (clause 2.4)")


def record_data(ticket: str, reason: str, responsible: str, at: str, expires: str) -> dict[str, Any]:
    return {"ticket": ticket.strip(), "reason": reason, "responsible": responsible.strip(),
            "time": at, "expires": expires}


def annotations(data: dict[str, Any], audit_ref: str | None) -> dict[str, str]:
    marks = {
        conventions.ANNOTATION_BREAK_GLASS_TICKET: data["ticket"],
        conventions.ANNOTATION_BREAK_GLASS_REASON: data["reason"],
        conventions.ANNOTATION_BREAK_GLASS_RESPONSIBLE: data["responsible"],
        conventions.ANNOTATION_BREAK_GLASS_TIME: data["time"],
        conventions.ANNOTATION_BREAK_GLASS_EXPIRY: data["expires"],
    }
    if audit_ref:
        marks[f"{PREFIX}audit"] = audit_ref
    return marks


def render_annotations(marks: dict[str, str]) -> str:
    lines = ["metadata:", "  annotations:"]
    lines += [f'    {key}: "{value}"' for key, value in marks.items()]
    return "\n".join(lines) + "\n"
