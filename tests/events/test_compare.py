"""The comparison itself, on records (no servers): every kind of difference is found and named."""

from __future__ import annotations

import json

from cdb_ops.events.compare import compare, records, summary
from cdb_ops.events.envelope import parse_time

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


def test_a_number_another_producer_wrote_as_1_0_is_not_altered():
    # RFC 8785: 12 and 12.0 are the same JSON number; only the spelling differs between producers.
    js = [json.dumps({**e.to_dict(), "data": {**e.data, "amount": 12}}).encode() for e in EVENTS[:3]]
    rd = [json.dumps({**e.to_dict(), "data": {**e.data, "amount": 12.0}}).encode() for e in EVENTS[:3]]
    assert compare(side(js), side(rd, "entry")) == []


def test_other_escapes_of_the_same_text_are_not_altered():
    raw = EVENTS[0].to_dict()
    raw["data"] = {**raw["data"], "note": "Grüße €"}
    escaped = json.dumps(raw, ensure_ascii=True).encode()  # \u00fc instead of the UTF-8 bytes
    assert compare(side([json.dumps(raw, ensure_ascii=False).encode()]), side([escaped], "entry")) == []


def test_true_for_1_is_still_an_alteration_naming_the_field():
    raw = EVENTS[0].to_dict()
    flipped = {**raw, "data": {**raw["data"], "amount": True}}
    original = {**raw, "data": {**raw["data"], "amount": 1}}
    [difference] = compare(side([json.dumps(original).encode()]), side([json.dumps(flipped).encode()], "entry"))
    assert difference["kind"] == "altered" and "data.amount" in difference["detail"]


def test_a_payload_with_nan_is_unreadable_instead_of_hashed():
    raw = EVENTS[0].to_dict()
    nan = json.dumps({**raw, "data": {**raw["data"], "amount": float("nan")}}).encode()
    assert b"NaN" in nan
    rows, bad = records([("entry 1", nan)])
    assert rows == [] and bad[0]["ref"] == "entry 1" and "NaN is not a JSON value" in bad[0]["detail"]
