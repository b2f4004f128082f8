"""Flux intervals as Flux reads them (CDB_INFRA_POLICY clause 2.3: reconcile at least every 5 minutes).

Flux's CRDs admit a duration only if it matches `^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$` (the `interval`
pattern of GitRepository, Kustomization, HelmRelease and FluxInstance `sync.interval`), and the
controllers then read it with Go's `time.ParseDuration` (components/goduration.py, shared with
cdb_stack): the parts are summed, so `1m30s` is 90 seconds and `0.5h` is 30 minutes. Parsing it the
same way here means the bound we check is the one Flux runs.
"""

from __future__ import annotations

import re
from fractions import Fraction

from components import goduration

# The pattern every Flux CRD puts on its interval fields (e.g. source-controller
# config/crd/bases/source.toolkit.fluxcd.io_gitrepositories.yaml, spec.interval).
FLUX_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")

# Flux's documented floor for a reconcile interval, and the policy's ceiling.
MIN_INTERVAL_SECONDS = 60
MAX_INTERVAL_SECONDS = 300


def parse_duration(text: str) -> Fraction:
    """Seconds of a Flux duration such as '5m', '1m30s' or '90s'; ValueError for anything Flux refuses."""
    if not isinstance(text, str) or not FLUX_DURATION.fullmatch(text):
        raise ValueError(
            f"{text!r} is not a Flux duration; write a number with a unit ms, s, m or h, e.g. '1m' or '1m30s'"
        )
    try:
        return goduration.seconds(text)
    except goduration.DurationError as exc:  # within the CRD pattern only beyond Go's ~292 years
        raise ValueError(f"{text!r} is not a Flux duration: {exc}") from None


def _seconds_text(value: Fraction) -> str:
    return f"{float(value):g}s"


def check_interval(text: str, low: int = MIN_INTERVAL_SECONDS, high: int = MAX_INTERVAL_SECONDS) -> str:
    """A reconcile interval within [low, high] seconds (default 1m..5m); returns it unchanged."""
    seconds = parse_duration(text)
    if seconds > high:
        raise ValueError(
            f"interval {text!r} ({_seconds_text(seconds)}) exceeds {high // 60}m; CDB_INFRA_POLICY 2.3 requires "
            f"reconciling at least every 5 minutes, use e.g. '{high // 60}m' or less"
        )
    if seconds < low:
        raise ValueError(
            f"interval {text!r} ({_seconds_text(seconds)}) is below Flux's floor of {low}s; use at least '1m'"
        )
    return text


def check_timeout(text: str) -> str:
    """A Flux timeout: any positive duration."""
    if parse_duration(text) <= 0:
        raise ValueError(f"timeout {text!r} must be longer than zero, e.g. '3m'")
    return text
