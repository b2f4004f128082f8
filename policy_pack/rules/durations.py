"""Durations as Flux reads them: Kubernetes metav1.Duration, i.e. Go's time.ParseDuration.

"1m30s", "300s", "0.5h", "1h", "1.5m", "90s" parse; "5 m", "5min", "1d", "" and numbers do not
(Go has no day unit, and a metav1.Duration is always a string). Nothing here raises: an unparseable
value is reported by the caller as a violation.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

_UNITS = {"ns": Decimal("1e-9"), "us": Decimal("1e-6"), "µs": Decimal("1e-6"), "μs": Decimal("1e-6"),
          "ms": Decimal("1e-3"), "s": Decimal(1), "m": Decimal(60), "h": Decimal(3600)}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_WHOLE = re.compile(r"^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$")


def parse_duration(value: Any) -> Decimal | None:
    """Seconds of a Go duration string, or None when Go would refuse it."""
    if not isinstance(value, str):
        return None
    if value in ("0", "+0", "-0"):
        return Decimal(0)
    if not _WHOLE.match(value):
        return None
    try:
        total = sum((Decimal(number) * _UNITS[unit] for number, unit in _PART.findall(value)), Decimal(0))
    except InvalidOperation:  # pragma: no cover - the pattern admits decimal literals only
        return None
    return -total if value.startswith("-") else total


def shown_seconds(seconds: Decimal) -> str:
    """A duration for messages: 90 -> "1m30s", 0.5 -> "0.5s"."""
    whole = int(seconds)
    if seconds != whole:
        return f"{seconds.normalize()}s"
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    return "".join(f"{n}{u}" for n, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if n) or "0s"
