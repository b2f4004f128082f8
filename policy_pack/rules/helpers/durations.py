"""Durations as Flux reads them: Kubernetes metav1.Duration, i.e. Go's time.ParseDuration.

"1m30s", "300s", "0.5h", "1h", "1.5m", "90s" parse; "5 m", "5min", "1d", "" and numbers do not
(Go has no day unit, and a metav1.Duration is always a string). Like Go, each part's fraction is worked out
in float64 and cut below a nanosecond, and a total beyond an int64 of nanoseconds (about 292 years)
is refused. Nothing here
raises: an unparseable value is reported by the caller as a violation.

The pack runs alone, so this is its own copy of components/goduration.py; a test holds the two equal
on a table and on generated strings (tests/components/test_goduration.py).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

_NANOSECONDS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
                "h": 3600 * 10**9}
_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_WHOLE = re.compile(r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+")
_LIMIT = 2**63  # time.Duration is an int64 of nanoseconds: at most 2**63 - 1, or -2**63


def parse_duration(value: Any) -> Decimal | None:
    """Seconds of a Go duration string, or None when Go would refuse it."""
    if not isinstance(value, str):
        return None
    if value in ("0", "+0", "-0"):
        return Decimal(0)
    if not _WHOLE.fullmatch(value):
        return None
    total = 0
    for number, unit in _PART.findall(value):
        # Go's arithmetic: whole nanoseconds per part, the fraction in float64 (cut, not rounded).
        whole, _, fraction = number.partition(".")
        scale = _NANOSECONDS[unit]
        if int(whole or 0) > _LIMIT // scale:
            return None
        part = int(whole or 0) * scale
        digits = places = 0
        for digit in fraction:  # Go's leadingFraction drops the digits that no longer fit an int64
            if digits > (_LIMIT - 1) // 10 or digits * 10 + int(digit) > _LIMIT:
                break
            digits, places = digits * 10 + int(digit), places + 1
        if digits:
            part += int(float(digits) * (float(scale) / 10.0**places))
        total += part
        if part > _LIMIT or total > _LIMIT:
            return None  # Go: "invalid duration" beyond an int64 of nanoseconds
    if value.startswith("-"):
        return Decimal(-total).scaleb(-9)
    return None if total > _LIMIT - 1 else Decimal(total).scaleb(-9)


def shown_seconds(seconds: Decimal) -> str:
    """A duration for messages: 90 -> "1m30s", 0.5 -> "0.5s"."""
    whole = int(seconds)
    if seconds != whole:
        return f"{seconds.normalize()}s"
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    return "".join(f"{n}{u}" for n, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if n) or "0s"
