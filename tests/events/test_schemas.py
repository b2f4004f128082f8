"""Versioned event schemas: validation before publish, and the offline compatibility check."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cdb_ops.events import EventError, SchemaRegistry, new_event
from cdb_ops.events.schemas import DEFAULT_ROOT, SchemaFileError

from .conftest import cdb, order_created


@pytest.fixture
def schema_root(tmp_path: Path) -> Path:
    root = tmp_path / "schemas"
    shutil.copytree(DEFAULT_ROOT, root)
    return root


def edit(root: Path, relative: str, change) -> None:
    path = root / relative
    schema = json.loads(path.read_text())
    change(schema)
    path.write_text(json.dumps(schema, indent=2))


def test_repository_schemas_pass_the_compatibility_check(capsys):
    code, out, _ = cdb(capsys, "events", "schemas", "--check")
    assert code == 0, out
    assert "orders.created v2: breaking" in out and "hence the new version" in out


def test_repository_has_two_domains_and_a_second_version():
    types = SchemaRegistry().types
    assert {t.split(".")[0] for t in types} >= {"orders", "payments"}
    assert types["orders.created"] == (1, 2)


def test_valid_event_passes(registry):
    assert registry.validate(order_created(1)).subject == "orders.v1.created"


def test_event_with_invalid_data_is_refused_naming_the_field(registry):
    with pytest.raises(EventError, match=r"\(orders\.created v1\): \$\.data\.currency: 'GBP' is not one of"):
        registry.validate(order_created(1, currency="GBP"))
    event = new_event("orders.created", 1, {"order_id": "o", "customer_id": "c", "currency": "EUR"}, source="s")
    with pytest.raises(EventError, match=r"\$\.data: 'amount' is a required property"):
        registry.validate(event)


def test_event_with_a_bad_envelope_is_refused(registry):
    event = new_event("orders.created", 1, order_created(1).data, source="s", time="2026-13-01T00:00:00Z")
    with pytest.raises(EventError, match=r"\$\.time: .* is not a 'date-time'"):
        registry.validate(event)
    with pytest.raises(EventError, match=r"\$\.id: .* does not match"):
        registry.validate(new_event("orders.created", 1, order_created(1).data, source="s", id="has space"))


def test_event_of_an_unknown_version_is_refused_listing_known_versions(registry):
    event = new_event("orders.created", 3, {}, source="s")
    with pytest.raises(EventError, match="no schema for orders.created v3 .*known versions: 1, 2"):
        registry.validate(event)


def test_misplaced_schema_file_is_an_error(schema_root):
    (schema_root / "orders" / "created.schema.json").write_text("{}")
    with pytest.raises(SchemaFileError, match=r"not in the layout <domain>/<name>\.v<N>\.schema\.json"):
        SchemaRegistry(schema_root)


def test_breaking_change_without_a_new_version_fails_the_check(schema_root, capsys):
    edit(schema_root, "orders/created.v1.schema.json", lambda s: s["required"].remove("currency"))
    edit(schema_root, "payments/captured.v1.schema.json",
         lambda s: s["properties"]["currency"]["enum"].append("GBP"))  # fmt: skip
    code, out, _ = cdb(capsys, "events", "schemas", "--check", "--schemas", str(schema_root))
    assert code == 1
    assert ("orders.created v1: incompatible with the published version: old readers: $.currency: no longer "
            "required") in out
    assert "or publish the change as orders/created.v2.schema.json" in out
    assert ("payments.captured v1: incompatible with the published version: old readers: $.currency: value 'GBP' "
            "is new") in out


@pytest.mark.parametrize("change, expected", [
    (lambda s: s["required"].append("note"), "stored events: $.note: newly required"),
    (lambda s: s["properties"]["note"].update(maxLength=200), "stored events: $.note: maxLength lowered from 500 to 200"),
    (lambda s: s["properties"]["currency"]["enum"].remove("USD"), "stored events: $.currency: value 'USD' is no longer accepted"),
    (lambda s: s.update(additionalProperties=False), "stored events: $.<other properties>: was allowed and is now refused"),
])  # fmt: skip
def test_a_change_that_stored_events_would_fail_is_refused_like_one_that_breaks_old_readers(
        schema_root, capsys, change, expected):
    edit(schema_root, "orders/created.v1.schema.json", change)
    code, out, _ = cdb(capsys, "events", "schemas", "--check", "--schemas", str(schema_root))
    assert code == 1 and f"orders.created v1: incompatible with the published version: {expected}" in out, out
    assert cdb(capsys, "events", "schemas", "--lock", "--schemas", str(schema_root))[0] == 1


def test_compatible_change_passes_and_lock_records_it(schema_root, capsys):
    def reword(schema):  # same documents accepted: annotations, reordered enum, type as a one-item list
        schema["properties"]["currency"]["enum"].reverse()
        schema["properties"]["note"]["type"] = [schema["properties"]["note"]["type"]]
        schema["description"] = "reworded"

    edit(schema_root, "orders/created.v1.schema.json", reword)
    code, out, _ = cdb(capsys, "events", "schemas", "--check", "--schemas", str(schema_root))
    assert code == 0, out
    assert "orders.created v1: compatible change; run `cdb events schemas --lock`" in out
    assert cdb(capsys, "events", "schemas", "--lock", "--schemas", str(schema_root))[0] == 0
    code, out, _ = cdb(capsys, "events", "schemas", "--check", "--schemas", str(schema_root))
    assert code == 0 and "compatible change" not in out


def test_breaking_change_under_a_new_version_number_passes(schema_root, capsys):
    v2 = json.loads((schema_root / "payments/captured.v1.schema.json").read_text())
    v2["properties"]["currency"]["enum"].append("GBP")
    v2["$id"] = "urn:cdb:events:payments.captured:v2"
    (schema_root / "payments/captured.v2.schema.json").write_text(json.dumps(v2))
    code, out, _ = cdb(capsys, "events", "schemas", "--check", "--schemas", str(schema_root))
    assert code == 1 and "payments.captured v2: not recorded as published" in out
    assert cdb(capsys, "events", "schemas", "--lock", "--schemas", str(schema_root))[0] == 0
    code, out, _ = cdb(capsys, "events", "schemas", "--check", "--schemas", str(schema_root))
    assert code == 0, out
    assert "payments.captured v2: breaking (1 changes), hence the new version relative to v1" in out


def test_lock_refuses_to_record_a_breaking_change(schema_root, capsys):
    edit(schema_root, "orders/cancelled.v1.schema.json", lambda s: s["properties"]["reason"].pop("enum"))
    code, out, _ = cdb(capsys, "events", "schemas", "--lock", "--schemas", str(schema_root))
    assert code == 1 and "$.reason: the value list" in out
    assert "urn:cdb:events:orders.cancelled:v1" in (schema_root / "published.lock.json").read_text()
    lock = json.loads((schema_root / "published.lock.json").read_text())
    assert "enum" in lock["published"]["orders.cancelled v1"]["schema"]["properties"]["reason"]


def test_removed_published_schema_and_version_gaps_fail_the_check(schema_root, capsys):
    (schema_root / "orders/cancelled.v1.schema.json").rename(schema_root / "orders/cancelled.v2.schema.json")
    code, out, _ = cdb(capsys, "events", "schemas", "--check", "--schemas", str(schema_root))
    assert code == 1
    assert "orders.cancelled v1: published but its file is gone" in out
    assert "orders.cancelled: versions [2] are not 1..1" in out


def test_hand_edited_lock_is_an_input_error(schema_root, capsys):
    lock = json.loads((schema_root / "published.lock.json").read_text())
    lock["published"]["orders.created v1"]["schema"]["required"] = []
    (schema_root / "published.lock.json").write_text(json.dumps(lock))
    code, _, err = cdb(capsys, "events", "schemas", "--check", "--schemas", str(schema_root))
    assert code == 2 and "does not match its sha256; restore the lock from Git" in err


@pytest.mark.parametrize("when", ["2026-W05-6T12:00:00Z", "20260131T120000Z", "2026-01-31 12:00:00Z"])
def test_event_time_in_an_iso_week_or_basic_format_is_refused(registry, when):
    event = new_event("orders.created", 1, order_created(1).data, source="shop", time=when)
    with pytest.raises(EventError, match=r"\$\.time: .*is not a 'date-time'|not an RFC 3339 date-time"):
        registry.validate(event)


def test_event_data_with_nan_is_refused_on_reading_and_on_writing():
    from cdb_ops.events.envelope import Event

    raw = order_created(1).to_dict()
    with pytest.raises(EventError, match="not JSON"):
        Event.from_json(json.dumps({**raw, "data": {**raw["data"], "amount": float("nan")}}))
    event = new_event("orders.created", 1, {**raw["data"], "amount": float("inf")}, source="shop")
    with pytest.raises(EventError, match="NaN or Infinity"):
        event.to_json()
    with pytest.raises(EventError, match="canonical"):
        event.content_hash()
