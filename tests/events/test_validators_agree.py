"""jsonschema-rs (the validity check of every event) must agree with jsonschema (which names the field of
a refused event): on mutated events, on generated JSON, and on date-times (our RFC 3339 check in both)."""

from __future__ import annotations

import copy
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from cdb_ops.events.schemas import _FORMATS, _Checker

from .conftest import order_created, payment_captured

ODD_VALUES = [None, True, False, 0, 1, -1, 1.0, 2.5, -0.5, 10**6, "", "x", "EUR", "o-1", [], ["a"], [1, 1], {}, {"a": 1},
              "2026-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "not-a-time", 1000, 1000.0001]  # fmt: skip


def mutations(instance, rng: random.Random, count: int):
    """Random one- and two-step edits of a valid instance: replace, drop or add a value somewhere."""
    for _ in range(count):
        doc = copy.deepcopy(instance)
        for _ in range(rng.choice((1, 2))):
            target = doc
            while isinstance(target, dict) and target and rng.random() < 0.6:
                key = rng.choice(list(target))
                if not isinstance(target[key], (dict, list)):
                    break
                target = target[key] if isinstance(target[key], dict) else target
            if isinstance(target, dict):
                action = rng.random()
                if target and action < 0.45:
                    target[rng.choice(list(target))] = rng.choice(ODD_VALUES)
                elif target and action < 0.7:
                    target.pop(rng.choice(list(target)))
                else:
                    target[rng.choice(["extra", "note", "provider", "amount", "items"])] = rng.choice(ODD_VALUES)
        yield doc


@pytest.mark.parametrize("key", ["envelope", "orders.created v1", "orders.created v2", "orders.cancelled v1", "payments.captured v1"])
def test_jsonschema_rs_agrees_with_jsonschema_on_mutated_events(registry, key):
    rng = random.Random(key)
    if key == "envelope":
        schema, seeds = registry.envelope, [order_created(1).to_dict(), payment_captured(2).to_dict()]
    else:
        [(found, schema)] = [(k, s) for k, s in registry.schemas.items() if str(k) == key]
        seeds = {
            "orders.created v1": [order_created(1, note="n").data],
            "orders.created v2": [{"order_id": "o", "customer_id": "c", "total": {"minor_units": 5, "currency": "EUR"},
                                   "items": [{"sku": "s", "quantity": 2}]}],  # fmt: skip
            "orders.cancelled v1": [{"order_id": "o", "reason": "customer"}],
            "payments.captured v1": [payment_captured(3).data],
        }[key]
    fast = fast_check(schema)
    judge = Draft202012Validator(schema, format_checker=_FORMATS)
    verdicts = set()
    for seed in seeds:
        for doc in [seed, *mutations(seed, rng, 1500)]:
            assert fast(doc) == judge.is_valid(doc), doc
            verdicts.add(fast(doc))
    assert verdicts == {True, False}, "the mutations must produce both valid and invalid documents"


def fast_check(schema):
    return _Checker(schema).fast


def test_an_event_refused_is_one_line_naming_the_field():
    checker = _Checker({"type": "object", "properties": {"total": {"type": "object", "properties": {
        "currency": {"enum": ["EUR"]}}}}})
    assert checker.problem({"total": {"currency": "GBP"}}, "$.data") == (
        "$.data.total.currency: 'GBP' is not one of ['EUR']; refused (fix the event or publish it under a "
        "schema it fits)")
    assert checker.problem({"total": {"currency": "EUR"}}, "$.data") is None


def test_booleans_and_numbers_are_judged_as_json_does():
    check = fast_check({"type": "object", "properties": {"n": {"type": "integer", "enum": [1, 2]}}})
    assert check({"n": 1}) and check({"n": 1.0}) and not check({"n": True})


# Accepted by datetime.fromisoformat (ISO 8601), refused by RFC 3339 and thus by other readers.
NOT_RFC3339 = ["2026-W05-6T12:00:00Z", "2026-031T12:00:00Z", "20260131T120000Z", "2026-01-31T120000Z",
               "2026-01-31 12:00:00Z", "2026-01-31T12:00Z", "2026-01-31T12Z", "2026-01-31T12:00:00+0100",
               "2026-01-31T12:00:00+01", "2026-01-31T12:00:00", "2026-01-31"]  # fmt: skip
RFC3339 = ["2026-01-31T12:00:00Z", "2026-01-31t12:00:00z", "2026-01-31T12:00:00.1234567+01:00",
           "2024-02-29T23:59:59-05:30"]  # fmt: skip


@pytest.mark.parametrize("text", NOT_RFC3339)
def test_iso_8601_forms_outside_rfc_3339_are_refused_by_both_validators(text):
    schema = {"type": "object", "properties": {"at": {"type": "string", "format": "date-time"}}}
    judge = Draft202012Validator(schema, format_checker=_FORMATS)
    assert fast_check(schema)({"at": text}) is False
    assert not judge.is_valid({"at": text})


@pytest.mark.parametrize("text", RFC3339)
def test_rfc_3339_date_times_pass_both_validators(text):
    schema = {"type": "object", "properties": {"at": {"type": "string", "format": "date-time"}}}
    judge = Draft202012Validator(schema, format_checker=_FORMATS)
    assert fast_check(schema)({"at": text}) is True and judge.is_valid({"at": text})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8) | st.sampled_from(["EUR", "USD", "2026-01-31T12:00:00Z", "orders.created", "o-1", "shop"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["order_id", "customer_id", "amount", "currency", "note", "items", "sku", "quantity",
                         "total", "minor_units", "reason", "id", "type", "time", "x"]), inner, max_size=5),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=json_values)
def test_both_validators_agree_on_generated_json_for_every_repository_schema(registry, document):
    for fast, judge in _pairs(registry):
        assert fast(document) == judge(document), document


_PAIRS: dict[str, list] = {}


def _pairs(registry):
    """Each repository schema's two validators, built once for all generated documents."""
    key = str(registry.root)
    if key not in _PAIRS:
        _PAIRS[key] = [(_Checker(schema).fast, Draft202012Validator(schema, format_checker=_FORMATS).is_valid)
                       for schema in [registry.envelope, *registry.schemas.values()]]
    return _PAIRS[key]
