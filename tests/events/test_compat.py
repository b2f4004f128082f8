"""Reader compatibility of two schema versions, both ways: what readers accept, and what breaks them."""

from __future__ import annotations

import pytest

from cdb_core.schema_compat import breaking_changes

BASE = {
    "type": "object",
    "required": ["id", "amount"],
    "properties": {
        "id": {"type": "string", "pattern": "^o-"},
        "amount": {"type": "number", "minimum": 0, "maximum": 1000},
        "currency": {"type": "string", "enum": ["EUR", "USD"]},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
    },
}


def changed(**edits):
    schema = {**BASE, "properties": dict(BASE["properties"])}
    for path, value in edits.items():
        target = schema
        *parents, last = path.split("__")
        for part in parents:
            target[part] = dict(target[part])
            target = target[part]
        if value is None:
            target.pop(last)
        else:
            target[last] = value
    return schema


COMPATIBLE = {
    "unchanged": BASE,
    "description only": {**BASE, "description": "reworded", "title": "t"},
    "enum reordered": changed(properties__currency={"type": "string", "enum": ["USD", "EUR"]}),
    "type as a one-item list": changed(properties__id={"type": ["string"], "pattern": "^o-"}),
    "required listed in another order": changed(required=["amount", "id"]),
    "annotation inside a property": changed(properties__amount={"type": "number", "minimum": 0, "maximum": 1000, "description": "major units"}),
}  # fmt: skip

OLD, STORED = "old readers: ", "stored events: "
# name: (new schema, or None when the test builds both sides; whom it breaks; the finding)
BREAKING = {
    # new accepts what old rejected: readers written against old may choke on new events
    "field no longer required": (changed(required=["id"]), OLD, "$.amount: no longer required"),
    "type widened": (changed(properties__amount={"type": ["number", "string"], "minimum": 0, "maximum": 1000}), OLD, "now also accepts type 'string'"),
    "enum value added": (changed(properties__currency={"type": "string", "enum": ["EUR", "USD", "GBP"]}), OLD, "value 'GBP' is new"),
    "enum dropped": (changed(properties__currency={"type": "string"}), OLD, "the value list"),
    "minimum relaxed": (changed(properties__amount={"type": "number", "minimum": -5, "maximum": 1000}), OLD, "lower bound 0 relaxed to -5"),
    "maximum dropped": (changed(properties__amount={"type": "number", "minimum": 0}), OLD, "upper bound 1000 relaxed to none"),
    "pattern changed": (changed(properties__id={"type": "string", "pattern": "^x-"}), OLD, "pattern '^o-' changed"),
    "field removed from a closed schema": (None, OLD, "$.note: was never allowed and is now accepted"),
    "item type widened": (changed(properties__tags={"type": "array", "items": {"type": ["string", "integer"]}, "maxItems": 5}), OLD, "$.tags[*]: now also accepts type 'integer'"),
    "more items": (changed(properties__tags={"type": "array", "items": {"type": "string"}}), OLD, "maxItems raised from 5"),
    "field now unconstrained": (changed(properties__currency=None), OLD, "$.currency: the value list"),
    "unknown keyword removed": (None, OLD, "keyword 'not' cannot be checked"),
    # old accepted what new rejects: events already stored fail the new schema on replay
    "new required field": (changed(required=["id", "amount", "currency"]), STORED, "$.currency: newly required"),
    "type narrowed": (changed(properties__amount={"type": "integer", "minimum": 0, "maximum": 1000}), STORED, "$.amount: type 'number' is no longer accepted"),
    "enum narrowed": (changed(properties__currency={"type": "string", "enum": ["EUR"]}), STORED, "$.currency: value 'USD' is no longer accepted"),
    "enum added": (changed(properties__id={"type": "string", "pattern": "^o-", "enum": ["o-1"]}), STORED, "$.id: values are now limited to ['o-1']"),
    "minimum raised": (changed(properties__amount={"type": "number", "minimum": 1, "maximum": 1000}), STORED, "$.amount: lower bound 0 tightened to 1"),
    "maximum lowered": (changed(properties__amount={"type": "number", "minimum": 0, "maximum": 500}), STORED, "$.amount: upper bound 1000 tightened to 500"),
    "exclusive minimum at the same value": (changed(properties__amount={"type": "number", "exclusiveMinimum": 0, "maximum": 1000}), STORED, "lower bound 0 tightened to exclusive 0"),
    "exclusive maximum added below": (changed(properties__amount={"type": "number", "minimum": 0, "maximum": 1000, "exclusiveMaximum": 999}), STORED, "upper bound 1000 tightened to exclusive 999"),
    "minLength added": (changed(properties__id={"type": "string", "pattern": "^o-", "minLength": 4}), STORED, "$.id: minLength raised from 0 to 4"),
    "maxLength added": (changed(properties__id={"type": "string", "pattern": "^o-", "maxLength": 9}), STORED, "$.id: maxLength lowered from unlimited to 9"),
    "maxItems lowered": (changed(properties__tags={"type": "array", "items": {"type": "string"}, "maxItems": 3}), STORED, "$.tags: maxItems lowered from 5 to 3"),
    "minItems added": (changed(properties__tags={"type": "array", "items": {"type": "string"}, "maxItems": 5, "minItems": 1}), STORED, "$.tags: minItems raised from 0 to 1"),
    "item type narrowed": (changed(properties__tags={"type": "array", "items": {"type": "string", "maxLength": 8}, "maxItems": 5}), STORED, "$.tags[*]: maxLength lowered from unlimited to 8"),
    "uniqueItems added": (changed(properties__tags={"type": "array", "items": {"type": "string"}, "maxItems": 5, "uniqueItems": True}), STORED, "$.tags: items must now be unique"),
    "pattern added": (changed(properties__currency={"type": "string", "enum": ["EUR", "USD"], "pattern": "^E"}), STORED, "$.currency: pattern None changed to '^E'"),
    "format added": (changed(properties__note={"type": "string", "format": "date-time"}), STORED, "$.note: format None changed to 'date-time'"),
    "multipleOf added": (changed(properties__amount={"type": "number", "minimum": 0, "maximum": 1000, "multipleOf": 0.01}), STORED, "$.amount: multipleOf 0.01 is new or stricter"),
    "additionalProperties false": (changed(additionalProperties=False), STORED, "$.<other properties>: was allowed and is now refused"),
    "optional field added to an open schema": (changed(properties__note={"type": "string"}), STORED, "$.note: type 'number' is no longer accepted"),
    "unknown keyword added": (changed(properties__id={"type": "string", "pattern": "^o-", "not": {"const": "o-0"}}), STORED, "$.id: keyword 'not' cannot be checked"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(COMPATIBLE))
def test_a_change_that_accepts_exactly_the_same_documents_is_compatible(name):
    assert breaking_changes(BASE, COMPATIBLE[name]) == []


@pytest.mark.parametrize("name", sorted(BREAKING))
def test_a_change_that_breaks_old_readers_or_stored_events_is_named(name):
    new, whom, expected = BREAKING[name]
    old = BASE
    if name == "field removed from a closed schema":
        old = changed(additionalProperties=False)
        new = changed(additionalProperties=False, properties__note={"type": "string"})
    if name == "unknown keyword removed":
        old, new = BREAKING["unknown keyword added"][0], BASE
    problems = breaking_changes(old, new)
    assert any(p.startswith(whom) and expected in p for p in problems), problems


def test_the_two_directions_are_mirror_images():
    for name, (new, whom, _) in BREAKING.items():
        if new is None:
            continue
        other = STORED if whom == OLD else OLD
        assert any(p.startswith(other) for p in breaking_changes(new, BASE)), name
