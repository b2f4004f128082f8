"""Go durations (`time.ParseDuration`), the one parser on our side of the repository.

Flux intervals and timeouts (a Kubernetes `metav1.Duration`), NACK's stream `maxAge` and
`duplicateWindow`, and the `--expires-in` of a break-glass record are all read by Go code with
`time.ParseDuration`, so `cdb_stack` and `components` both parse them here (components may not import
cdb_stack; cdb_stack already builds on components). The policy pack keeps its own copy in
`policy_pack/rules/helpers/durations.py` because it must run alone; tests/components/test_goduration.py holds
the two equal on a table and on generated strings.

What Go accepts: an optional sign, then one or more `<number><unit>` parts (`1h30m`, `.5s`, `5.s`),
units ns, us, µs (U+00B5), μs (U+03BC), ms, s, m, h; `0` alone needs no unit. Go adds the parts in
whole nanoseconds, working each part's fraction out in float64 and cutting it below a nanosecond
(so "0.3333333333333333333h" is exactly 20m, as in Go), and refuses a total beyond an int64 of
nanoseconds (about 292 years). The arithmetic below follows Go's step by step for that reason. Not accepted: days (`1d`), spaces, a bare number, the empty string.
"""

from __future__ import annotations

import re
from fractions import Fraction

NANOSECONDS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
               "h": 3600 * 10**9}
_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_WHOLE = re.compile(r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+")
_LIMIT = 2**63  # time.Duration is an int64 of nanoseconds: at most 2**63 - 1, or -2**63
HINT = "write a number and a unit (ns, us, ms, s, m, h), e.g. '90s', '1m30s' or '168h'"


class DurationError(ValueError):
    """Not a Go duration; the message names the text and the fix."""


def nanoseconds(text: object) -> int:
    """Whole nanoseconds of a Go duration, as time.ParseDuration returns them; DurationError otherwise."""
    if not isinstance(text, str):
        raise DurationError(f"{text!r} is not a duration; {HINT}")
    if text in ("0", "+0", "-0"):
        return 0
    if not _WHOLE.fullmatch(text):
        raise DurationError(f"{text!r} is not a duration; {HINT}")
    total = 0
    for number, unit in _PART.findall(text):
        whole, _, fraction = number.partition(".")
        scale = NANOSECONDS[unit]
        if int(whole or 0) > _LIMIT // scale:
            raise DurationError(f"{text!r} is longer than Go's limit of about 292 years; shorten it")
        part = int(whole or 0) * scale
        digits, places = _leading_fraction(fraction)
        if digits:
            part += int(float(digits) * (float(scale) / 10.0**places))  # Go works this out in float64
        total += part
        if part > _LIMIT or total > _LIMIT:
            raise DurationError(f"{text!r} is longer than Go's limit of about 292 years; shorten it")
    if text.startswith("-"):
        return -total
    if total > _LIMIT - 1:
        raise DurationError(f"{text!r} is longer than Go's limit of about 292 years; shorten it")
    return total


def _leading_fraction(fraction: str) -> tuple[int, int]:
    """Go's leadingFraction: the digits (and how many) that fit an int64; later digits are dropped."""
    value = places = 0
    for digit in fraction:
        if value > (_LIMIT - 1) // 10 or value * 10 + int(digit) > _LIMIT:
            break
        value, places = value * 10 + int(digit), places + 1
    return value, places


def seconds(text: object) -> Fraction:
    """Exact seconds of a Go duration ('1m30s' -> 90, '0.5h' -> 1800); DurationError otherwise."""
    return Fraction(nanoseconds(text), 10**9)
