"""Compatibility between two versions of a published JSON Schema, decided offline, both ways.

`breaking_changes(old, new)` lists every way in which the two schemas accept different documents:
  old readers      `new` accepts a document `old` rejects: a reader written against `old` may choke
                   on new events (widening: a dropped requirement, a new type, value or bound)
  stored events    `old` accepts a document `new` rejects: events already in the streams no longer
                   validate, so a replay with the new schema fails (narrowing: a new required field,
                   a tighter type, range, length, enum, pattern or format, a closed object)
Empty means both accept exactly the same documents, so the change may keep its version number.

One structural walk (`_accepts_more(a, b)`: where does `b` accept what `a` rejects) serves both
directions, with the messages of each. It fails closed: a keyword it cannot reason about
(patternProperties, $ref, allOf, ...) is reported unless the whole subschema is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "examples", "default", "deprecated", "readOnly"}
)
UNDERSTOOD = frozenset(
    {
        "type", "properties", "required", "additionalProperties", "enum", "const", "items",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
        "minItems", "maxItems", "pattern", "format", "uniqueItems", "multipleOf",
    }
)  # fmt: skip
ALL_TYPES = frozenset({"null", "boolean", "object", "array", "number", "integer", "string"})


@dataclass
class CheckResult:
    """The outcome of a compatibility check against what was published (event schemas, the package schema)."""

    errors: list[str] = field(default_factory=list)  # each fails the check
    notes: list[str] = field(default_factory=list)  # information for the reader

    @property
    def ok(self) -> bool:
        return not self.errors


def is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1, 1 is 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    return type(a) is type(b) and a == b or (is_number(a) and is_number(b) and a == b)


def semantic(schema: Any) -> Any:
    """The schema without annotation keywords (titles and descriptions never break a reader)."""
    if isinstance(schema, dict):
        return {k: semantic(v) for k, v in schema.items() if k not in ANNOTATIONS}
    if isinstance(schema, list):
        return [semantic(v) for v in schema]
    return schema


OLD_READERS, STORED_EVENTS = "old readers", "stored events"
# Per direction: how each finding reads. In OLD_READERS `a` is the old schema, in STORED_EVENTS the new one.
_SAY = {
    OLD_READERS: {
        "never": "{path}: was never allowed and is now accepted",
        "keyword": "{path}: keyword {kw!r} cannot be checked for compatibility; give the change a new version",
        "type": "{path}: now also accepts type {t!r}",
        "values dropped": "{path}: the value list {values} was dropped; any value is now accepted",
        "value": "{path}: value {v!r} is new",
        "text": "{path}: {kw} {old!r} changed to {new!r}",
        "unique": "{path}: items no longer need to be unique",
        "multiple": "{path}: multipleOf {old} is no longer guaranteed",
        "low": "{path}: {kw} lowered from {old} to {new}",
        "high": "{path}: {kw} raised from {old} to {new}",
        "bound": "{path}: {side} bound {old} relaxed to {new}",
        "required": "{path}.{name}: no longer required",
    },
    STORED_EVENTS: {
        "never": "{path}: was allowed and is now refused",
        "keyword": "{path}: keyword {kw!r} cannot be checked for compatibility; give the change a new version",
        "type": "{path}: type {t!r} is no longer accepted",
        "values dropped": "{path}: values are now limited to {values}",
        "value": "{path}: value {v!r} is no longer accepted",
        "text": "{path}: {kw} {old!r} changed to {new!r}",
        "unique": "{path}: items must now be unique",
        "multiple": "{path}: multipleOf {new} is new or stricter than {old}",
        "low": "{path}: {kw} raised from {old} to {new}",
        "high": "{path}: {kw} lowered from {old} to {new}",
        "bound": "{path}: {side} bound {old} tightened to {new}",
        "required": "{path}.{name}: newly required",
    },
}


def breaking_changes(old: Any, new: Any, path: str = "$") -> list[str]:
    """Every incompatibility, each prefixed with whom it breaks ('old readers: ...')."""
    return [f"{OLD_READERS}: {p}" for p in _accepts_more(old, new, path, OLD_READERS)] + [
        f"{STORED_EVENTS}: {p}" for p in _accepts_more(new, old, path, STORED_EVENTS)
    ]


def _accepts_more(a: Any, b: Any, path: str, way: str) -> list[str]:
    """Where `b` accepts a document that `a` rejects, phrased for `way`."""
    a, b = semantic(a), semantic(b)
    if a == b or a is True or a == {} or b is False:
        return []
    if a is False:
        return [_say(way, "never", path)]
    a_d: dict[str, Any] = a if isinstance(a, dict) else {}
    b_d: dict[str, Any] = b if isinstance(b, dict) else {}
    problems = [
        _say(way, "keyword", path, kw=kw)
        for kw in sorted((set(a_d) | set(b_d)) - UNDERSTOOD)
        # Keywords are conjunctive: one that only `b` has can only narrow what `b` accepts.
        if kw in a_d and (kw not in b_d or a_d[kw] != b_d[kw])
    ]
    problems += _types(a_d, b_d, path, way)
    problems += _values(a_d, b_d, path, way)
    problems += _bounds(a_d, b_d, path, way)
    problems += _objects(a_d, b_d, path, way)
    if "items" in a_d or "items" in b_d:
        problems += _accepts_more(a_d.get("items", True), b_d.get("items", True), f"{path}[*]", way)
    return problems


def _say(way: str, what: str, path: str, old: Any = None, new: Any = None, **kw: Any) -> str:
    return _SAY[way][what].format(path=path, old=old, new=new, **kw)


def _old_new(way: str, a: Any, b: Any) -> tuple[Any, Any]:
    return (a, b) if way == OLD_READERS else (b, a)


def _type_set(schema: dict[str, Any]) -> frozenset[str]:
    declared = schema.get("type")
    if declared is None:
        return ALL_TYPES
    return frozenset([declared] if isinstance(declared, str) else declared)


def _types(a: dict[str, Any], b: dict[str, Any], path: str, way: str) -> list[str]:
    allowed = _type_set(a)
    wider = {t for t in _type_set(b) if t not in allowed and not (t == "integer" and "number" in allowed)}
    return [_say(way, "type", path, t=t) for t in sorted(wider)]


def _values(a: dict[str, Any], b: dict[str, Any], path: str, way: str) -> list[str]:
    problems = []
    a_values = _allowed_values(a)
    if a_values is not None:
        b_values = _allowed_values(b)
        if b_values is None:
            problems.append(_say(way, "values dropped", path, values=a_values))
        else:
            problems += [_say(way, "value", path, v=v) for v in b_values if not any(json_equal(v, x) for x in a_values)]
    for keyword in ("pattern", "format"):
        if keyword in a and b.get(keyword) != a[keyword]:
            problems.append(_say(way, "text", path, *_old_new(way, a[keyword], b.get(keyword)), kw=keyword))
    if a.get("uniqueItems") and not b.get("uniqueItems"):
        problems.append(_say(way, "unique", path))
    if "multipleOf" in a:
        step, b_step = a["multipleOf"], b.get("multipleOf")
        if b_step is None or (b_step / step) != int(b_step / step):
            problems.append(_say(way, "multiple", path, *_old_new(way, step, b_step)))
    return problems


def _allowed_values(schema: dict[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    return list(schema["enum"]) if "enum" in schema else None


def _bounds(a: dict[str, Any], b: dict[str, Any], path: str, way: str) -> list[str]:
    problems = []
    for low, high in (("minLength", "maxLength"), ("minItems", "maxItems")):
        if b.get(low, 0) < a.get(low, 0):
            problems.append(_say(way, "low", path, *_old_new(way, a[low], b.get(low, 0)), kw=low))
        if high in a and b.get(high, float("inf")) > a[high]:
            problems.append(_say(way, "high", path, *_old_new(way, a[high], b.get(high, "unlimited")), kw=high))
    for side, inclusive, exclusive in (("lower", "minimum", "exclusiveMinimum"), ("upper", "maximum", "exclusiveMaximum")):
        a_bound, b_bound = _bound(a, inclusive, exclusive, side), _bound(b, inclusive, exclusive, side)
        if a_bound is not None and not _at_least_as_strict(b_bound, a_bound, side):
            problems.append(_say(way, "bound", path, *_old_new(way, _show(a_bound), _show(b_bound)), side=side))
    return problems


def _bound(schema: dict[str, Any], inclusive: str, exclusive: str, side: str) -> tuple[float, bool] | None:
    """The tightest (value, is_exclusive) bound on one side, or None."""
    candidates = [(schema[inclusive], False)] if inclusive in schema else []
    if exclusive in schema:
        candidates.append((schema[exclusive], True))
    if not candidates:
        return None
    pick = max if side == "lower" else min
    # At equal values the exclusive bound is the stricter one.
    return pick(candidates, key=lambda c: (c[0], c[1]) if side == "lower" else (c[0], not c[1]))


def _at_least_as_strict(new: tuple[float, bool] | None, old: tuple[float, bool], side: str) -> bool:
    if new is None:
        return False
    if new[0] != old[0]:
        return new[0] > old[0] if side == "lower" else new[0] < old[0]
    return new[1] or not old[1]


def _show(bound: tuple[float, bool] | None) -> str:
    return "none" if bound is None else f"{'exclusive ' if bound[1] else ''}{bound[0]}"


def _objects(a: dict[str, Any], b: dict[str, Any], path: str, way: str) -> list[str]:
    problems = [_say(way, "required", path, name=n) for n in a.get("required", []) if n not in b.get("required", [])]
    a_props, b_props = a.get("properties", {}), b.get("properties", {})
    a_extra, b_extra = a.get("additionalProperties", True), b.get("additionalProperties", True)
    for name in sorted(set(a_props) | set(b_props)):
        # A property one side does not list is governed by that side's additionalProperties.
        problems += _accepts_more(a_props.get(name, a_extra), b_props.get(name, b_extra), f"{path}.{name}", way)
    if a_extra is not True or b_extra is not True:
        problems += _accepts_more(a_extra, b_extra, f"{path}.<other properties>", way)
    return problems


def refused_by_new(old: Any, new: Any, path: str = "$") -> list[str]:
    """Where `old` accepts a document that `new` rejects (a narrowing), phrased as for stored events."""
    return _accepts_more(new, old, path, STORED_EVENTS)


def accepted_by_new(old: Any, new: Any, path: str = "$") -> list[str]:
    """Where `new` accepts a document that `old` rejects (a widening), phrased as for old readers."""
    return _accepts_more(old, new, path, OLD_READERS)
