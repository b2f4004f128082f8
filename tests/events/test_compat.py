"""Reader compatibility of two schema versions, both ways: what readers accept, and what breaks them."""

from __future__ import annotations

import pytest

from cdb_stack.events.compat import breaking_changes

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
    "new optional field in an open schema": changed(properties__note={"type": "string"}),
    "new required field": changed(required=["id", "amount", "currency"]),
    "narrower enum": changed(properties__currency={"type": "string", "enum": ["EUR"]}),
    "tighter maximum": changed(properties__amount={"type": "number", "minimum": 0, "maximum": 500}),
    "exclusive instead of inclusive minimum": changed(properties__amount={"type": "number", "exclusiveMinimum": 0, "maximum": 1000}),
    "integer instead of number": changed(properties__amount={"type": "integer", "minimum": 0, "maximum": 1000}),
    "closed schema": changed(additionalProperties=False),
    "fewer items": changed(properties__tags={"type": "array", "items": {"type": "string"}, "maxItems": 3}),
    "added constraint keyword unknown to the checker": changed(properties__id={"type": "string", "pattern": "^o-", "not": {"const": "o-0"}}),
}  # fmt: skip

BREAKING = {
    "field no longer required": (changed(required=["id"]), "$.amount: no longer required"),
    "type widened": (changed(properties__amount={"type": ["number", "string"], "minimum": 0, "maximum": 1000}), "now also accepts type 'string'"),
    "enum value added": (changed(properties__currency={"type": "string", "enum": ["EUR", "USD", "GBP"]}), "value 'GBP' is new"),
    "enum dropped": (changed(properties__currency={"type": "string"}), "the value list"),
    "minimum relaxed": (changed(properties__amount={"type": "number", "minimum": -5, "maximum": 1000}), "lower bound 0 relaxed to -5"),
    "maximum dropped": (changed(properties__amount={"type": "number", "minimum": 0}), "upper bound 1000 relaxed to none"),
    "pattern changed": (changed(properties__id={"type": "string", "pattern": "^x-"}), "pattern '^o-' changed"),
    "field removed from a closed schema": (None, "$.note: was never allowed and is now accepted"),
    "item type widened": (changed(properties__tags={"type": "array", "items": {"type": ["string", "integer"]}, "maxItems": 5}), "$.tags[*]: now also accepts type 'integer'"),
    "more items": (changed(properties__tags={"type": "array", "items": {"type": "string"}}), "maxItems raised from 5"),
    "field now unconstrained": (changed(properties__currency=None), "$.currency: the value list"),
    "unknown keyword removed": (None, "keyword 'not' cannot be checked"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(COMPATIBLE))
def test_compatible_change_keeps_readers_working(name):
    assert breaking_changes(BASE, COMPATIBLE[name]) == []


@pytest.mark.parametrize("name", sorted(BREAKING))
def test_breaking_change_is_named(name):
    new, expected = BREAKING[name]
    old = BASE
    if name == "field removed from a closed schema":
        old = changed(additionalProperties=False)
        new = changed(additionalProperties=False, properties__note={"type": "string"})
    if name == "unknown keyword removed":
        old, new = COMPATIBLE["added constraint keyword unknown to the checker"], BASE
    problems = breaking_changes(old, new)
    assert any(expected in p for p in problems), problems
