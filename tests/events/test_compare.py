"""The comparison itself, on records (no servers): every kind of difference is found and named."""

from __future__ import annotations

import json

from cdb_stack.events.compare import compare, records, summary
from cdb_stack.events.envelope import parse_time

from .conftest import order_created

EVENTS = [order_created(n) for n in range(20)]


def side(events, prefix="seq"):
    rows, bad = records([(f"{prefix} {n}", e.to_json() if hasattr(e, "to_json") else e) for n, e in enumerate(events, 1)])
    assert not bad
    return rows


def kinds(differences):
    return sorted((d["kind"], d["id"]) for d in differences)


def test_identical_sides_agree():
    assert compare(side(EVENTS), side(EVENTS, "entry")) == []


def test_reserialised_json_with_other_key_order_is_not_an_alteration():
    shuffled = [json.dumps(dict(reversed(list(e.to_dict().items())))).encode() for e in EVENTS]
    assert compare(side(EVENTS), side(shuffled, "entry")) == []


def test_event_dropped_on_redis_is_missing():
    assert kinds(compare(side(EVENTS), side(EVENTS[:4] + EVENTS[5:]))) == [("missing", EVENTS[4].id)]


def test_event_only_on_redis_is_extra():
    stray = order_created(99)
    assert kinds(compare(side(EVENTS), side(EVENTS + [stray]))) == [("extra", stray.id)]


def test_altered_event_names_the_changed_field():
    altered = EVENTS[:]
    raw = EVENTS[7].to_dict()
    raw["data"] = {**raw["data"], "amount": 7777.0}
    altered[7] = json.dumps(raw).encode()
    [difference] = compare(side(EVENTS), side(altered))
    assert difference["kind"] == "altered" and difference["id"] == EVENTS[7].id
    assert "data.amount" in difference["detail"]


def test_duplicated_event_is_reported_once_with_its_count():
    [difference] = compare(side(EVENTS), side(EVENTS[:10] + [EVENTS[3], EVENTS[3]] + EVENTS[10:]))
    assert (difference["kind"], difference["id"], difference["side"]) == ("duplicated", EVENTS[3].id, "redis")
    assert "carried 3 times" in difference["detail"]


def test_reordering_within_a_key_names_only_the_moved_event():
    same_key = [e for e in EVENTS if e.ordering_key == EVENTS[0].ordering_key]  # n = 0, 5, 10, 15
    moved = EVENTS[:]
    moved.remove(same_key[1])
    moved.insert(moved.index(same_key[3]) + 1, same_key[1])  # 5 now after 15
    assert kinds(compare(side(EVENTS), side(moved))) == [("reordered", same_key[1].id)]


def test_interleaving_across_keys_is_not_a_reordering():
    by_key = sorted(EVENTS, key=lambda e: e.ordering_key)  # every key keeps its own order
    assert compare(side(EVENTS), side(by_key)) == []


def test_unreadable_payload_is_reported():
    rows, bad = records([("entry 1", b"not json"), ("entry 2", EVENTS[0].to_json())])
    assert len(rows) == 1 and bad[0]["kind"] == "unreadable" and bad[0]["ref"] == "entry 1"


def test_window_uses_the_event_time_and_excludes_its_end():
    times = ["2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z", "2026-01-01T12:00:00+01:00", "2026-01-01T12:00:00Z"]
    payloads = []
    for n, when in enumerate(times):
        raw = EVENTS[n].to_dict()
        raw["time"] = when
        payloads.append((f"seq {n}", json.dumps(raw).encode()))
    rows, _ = records(payloads, parse_time("2026-01-01T10:30:00Z"), parse_time("2026-01-01T12:00:00Z"))
    assert [r.id for r in rows] == [EVENTS[1].id, EVENTS[2].id]


def test_summary_counts_every_kind():
    found = compare(side(EVENTS), side(EVENTS[1:] + [EVENTS[2]]))
    assert summary(found) == {"missing": 1, "extra": 0, "altered": 0, "duplicated": 1, "reordered": 0, "unreadable": 0}
