"""Replay comparison, the acceptance test of the migration (CDB_INFRA_POLICY clause 4).

Both sides are reduced to records (event id, ordering key, content hash, position) and compared:
  missing     in JetStream, not carried by Redis (the bus is authoritative, so JetStream is the reference)
  extra       carried by Redis, absent from JetStream
  altered     same id, different content hash (the differing fields are named)
  duplicated  an id carried more than once on one side
  reordered   same key, but Redis carried the events of that key in another order than JetStream
              (the events named are the fewest whose moving explains the difference)
  unreadable  a payload that is not an event envelope
The two agree only when there is no difference at all.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from components.streams import subject_matches
from cdb_ops.events.envelope import EventError, canonical_json, loads, parse_time
from cdb_core.schema_compat import json_equal

KINDS = ("missing", "extra", "altered", "duplicated", "reordered", "unreadable")


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    key: str
    type: str
    hash: str  # of the bytes as carried; equal bytes need no canonical form (the common case)
    ref: str  # where it was read: "seq 17" or "entry 3"
    payload: bytes
    doc: Any  # the parsed payload

    def content_hash(self) -> str:
        """Hash of the RFC 8785 canonical JSON: the same event re-serialised by another producer (other
        key order, spacing, escapes, `1.0` for `1`) hashes the same, so only a real change counts."""
        try:
            return hashlib.sha256(canonical_json(self.doc)).hexdigest()
        except EventError:  # an integer beyond 2**53 has no canonical form: only equal bytes are equal
            return self.hash


def same_content(left: Record, right: Record) -> bool:
    """Equal bytes, or equal RFC 8785 forms. Parsed documents that are equal as JSON values (true is
    not 1, 1 is 1.0) have equal RFC 8785 forms, so that check spares serialising the common case;
    rfc8785 alone judges a difference."""
    if left.hash == right.hash or json_equal(left.doc, right.doc):
        return True
    return left.content_hash() == right.content_hash()


def records(
    payloads: Iterable[tuple[str, bytes]],
    since: datetime | None = None,
    until: datetime | None = None,
    subject: str | None = None,
) -> tuple[list[Record], list[dict[str, Any]]]:
    """Records of the events in the window (envelope time in [since, until), subject filter),
    plus the unreadable payloads. The window uses the event's own time, identical on both sides,
    never the transports' receive times, which differ (and differ a lot after a spool drain)."""
    out: list[Record] = []
    bad: list[dict[str, Any]] = []
    for ref, payload in payloads:
        try:
            raw = loads(payload)
            event_id, when = raw["id"], raw["time"]
            key = raw.get("key") or raw["source"]
            if subject is not None:
                domain, _, name = raw["type"].partition(".")
                if not subject_matches(subject, f"{domain}.v{raw['schema_version']}.{name}"):
                    continue
            if since is not None or until is not None:
                moment = parse_time(when)
                if (since is not None and moment < since) or (until is not None and moment >= until):
                    continue
            digest = hashlib.sha256(payload).hexdigest()
            out.append(Record(str(event_id), str(key), str(raw.get("type")), digest, ref, payload, raw))
        except (ValueError, KeyError, TypeError, EventError) as exc:
            bad.append({"kind": "unreadable", "ref": ref, "detail": f"not an event envelope ({exc!r})"})
    return out, bad


def _field_diff(left: Any, right: Any, path: str = "") -> list[str]:
    if isinstance(left, dict) and isinstance(right, dict):
        keys = sorted(set(left) | set(right))
        return [p for k in keys for p in _field_diff(left.get(k), right.get(k), f"{path}.{k}" if path else k)]
    return [] if json_equal(left, right) else [path or "(whole event)"]


def _kept_in_order(positions: list[int]) -> set[int]:
    """Indexes of a longest increasing subsequence of `positions` (the events that kept their order)."""
    tails: list[int] = []
    tail_index: list[int] = []
    parent = [-1] * len(positions)
    for i, value in enumerate(positions):
        at = bisect.bisect_left(tails, value)
        if at == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[at], tail_index[at] = value, i
        parent[i] = tail_index[at - 1] if at else -1
    kept, i = set(), tail_index[-1] if tail_index else -1
    while i != -1:
        kept.add(i)
        i = parent[i]
    return kept


def compare(jetstream: list[Record], redis: list[Record]) -> list[dict[str, Any]]:
    differences: list[dict[str, Any]] = []
    first: dict[str, dict[str, Record]] = {}
    for side, rows in (("jetstream", jetstream), ("redis", redis)):
        counts = Counter(r.id for r in rows)
        seen: dict[str, Record] = {}
        for row in rows:
            if row.id not in seen:
                seen[row.id] = row
                if counts[row.id] > 1:
                    differences.append(_diff("duplicated", row, f"carried {counts[row.id]} times on {side}", side))
        first[side] = seen
    js, rd = first["jetstream"], first["redis"]
    differences += [_diff("missing", r, f"in JetStream ({r.ref}) but not carried by Redis") for i, r in js.items() if i not in rd]
    differences += [_diff("extra", r, f"carried by Redis ({r.ref}) but not in JetStream") for i, r in rd.items() if i not in js]
    for event_id, left in js.items():
        right = rd.get(event_id)
        if right is not None and not same_content(left, right):
            fields = _field_diff(left.doc, right.doc)
            detail = f"Redis ({right.ref}) differs in {', '.join(fields[:10])}"
            differences.append(_diff("altered", left, detail, hashes=(left.content_hash(), right.content_hash())))
    differences += _reordered(js, rd)
    return differences


def _reordered(js: dict[str, Record], rd: dict[str, Record]) -> list[dict[str, Any]]:
    redis_position = {event_id: n for n, event_id in enumerate(rd)}
    by_key: dict[str, list[Record]] = {}
    for event_id, row in js.items():  # dicts keep insertion order: JetStream order
        if event_id in redis_position:
            by_key.setdefault(row.key, []).append(row)
    out = []
    for key, rows in by_key.items():
        positions = [redis_position[r.id] for r in rows]
        if all(a < b for a, b in zip(positions, positions[1:])):
            continue
        kept = _kept_in_order(positions)
        for index, row in enumerate(rows):
            if index not in kept:
                out.append(_diff("reordered", row, f"Redis carried it out of JetStream order for key {key!r} ({rd[row.id].ref})"))
    return out


def _diff(kind: str, row: Record, detail: str, side: str | None = None, hashes: tuple[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": kind, "id": row.id, "type": row.type, "key": row.key, "ref": row.ref, "detail": detail}
    if side:
        out["side"] = side
    if hashes:
        out["sha256"] = {"jetstream": hashes[0], "redis": hashes[1]}
    return out


def summary(differences: list[dict[str, Any]]) -> dict[str, int]:
    counts = Counter(d["kind"] for d in differences)
    return {kind: counts.get(kind, 0) for kind in KINDS}


def render_text(report: dict[str, Any]) -> str:
    lines = [
        f"compare {report['jetstream']['stream']}: JetStream {report['jetstream']['events']} events, "
        f"Redis ({report['redis']['source']}) {report['redis']['events']} events"
    ]
    for d in report["differences"]:
        name = f"event {d['id']} ({d['type']}, key {d['key']})" if "id" in d else d["ref"]
        lines.append(f"{d['kind']}: {name}: {d['detail']}")
    verdict = "EQUAL" if report["equal"] else f"DIFFERENT ({', '.join(f'{k} {v}' for k, v in report['summary'].items() if v)})"
    lines.append(f"verdict: {verdict}")
    return "\n".join(lines)
