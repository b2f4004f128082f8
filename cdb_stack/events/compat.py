"""Reader compatibility between two JSON Schemas, decided offline from the schemas alone.

`breaking_changes(old, new)` lists the ways in which `new` accepts a document that `old` rejects:
exactly the documents a reader written against `old` may choke on. Empty means every document valid
under `new` is valid under `old`, so the change may keep its version number.

The check is structural and fails closed: a keyword it cannot reason about (patternProperties, $ref,
allOf, ...) is reported as breaking unless the whole subschema is unchanged.
"""

from __future__ import annotations

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


def semantic(schema: Any) -> Any:
    """The schema without annotation keywords (titles and descriptions never break a reader)."""
    if isinstance(schema, dict):
        return {k: semantic(v) for k, v in schema.items() if k not in ANNOTATIONS}
    if isinstance(schema, list):
        return [semantic(v) for v in schema]
    return schema


def breaking_changes(old: Any, new: Any, path: str = "$") -> list[str]:
    old, new = semantic(old), semantic(new)
    if old == new or old is True or old == {} or new is False:
        return []
    if old is False:
        return [f"{path}: was never allowed and is now accepted"]
    old_d: dict[str, Any] = old if isinstance(old, dict) else {}
    new_d: dict[str, Any] = new if isinstance(new, dict) else {}
    problems = [
        f"{path}: keyword {kw!r} cannot be checked for reader compatibility; give the change a new version"
        for kw in sorted((set(old_d) | set(new_d)) - UNDERSTOOD)
        # Keywords are conjunctive: one that only `new` has can only narrow what it accepts.
        if kw in old_d and (kw not in new_d or old_d[kw] != new_d[kw])
    ]
    problems += _types(old_d, new_d, path)
    problems += _values(old_d, new_d, path)
    problems += _bounds(old_d, new_d, path)
    problems += _objects(old_d, new_d, path)
    if "items" in old_d or "items" in new_d:
        problems += breaking_changes(old_d.get("items", True), new_d.get("items", True), f"{path}[*]")
    return problems


def _type_set(schema: dict[str, Any]) -> frozenset[str]:
    declared = schema.get("type")
    if declared is None:
        return ALL_TYPES
    return frozenset([declared] if isinstance(declared, str) else declared)


def _types(old: dict[str, Any], new: dict[str, Any], path: str) -> list[str]:
    allowed = _type_set(old)
    widened = {t for t in _type_set(new) if t not in allowed and not (t == "integer" and "number" in allowed)}
    return [f"{path}: now also accepts type {t!r}" for t in sorted(widened)]


def _values(old: dict[str, Any], new: dict[str, Any], path: str) -> list[str]:
    problems = []
    old_values = _allowed_values(old)
    if old_values is not None:
        new_values = _allowed_values(new)
        if new_values is None:
            problems.append(f"{path}: the value list {old_values} was dropped; any value is now accepted")
        else:
            problems += [f"{path}: value {v!r} is new" for v in new_values if v not in old_values]
    for keyword in ("pattern", "format"):
        if keyword in old and new.get(keyword) != old[keyword]:
            problems.append(f"{path}: {keyword} {old[keyword]!r} changed to {new.get(keyword)!r}")
    if old.get("uniqueItems") and not new.get("uniqueItems"):
        problems.append(f"{path}: items no longer need to be unique")
    if "multipleOf" in old:
        step, new_step = old["multipleOf"], new.get("multipleOf")
        if new_step is None or (new_step / step) != int(new_step / step):
            problems.append(f"{path}: multipleOf {step} is no longer guaranteed")
    return problems


def _allowed_values(schema: dict[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    return list(schema["enum"]) if "enum" in schema else None


def _bounds(old: dict[str, Any], new: dict[str, Any], path: str) -> list[str]:
    problems = []
    for low, high in (("minLength", "maxLength"), ("minItems", "maxItems")):
        if new.get(low, 0) < old.get(low, 0):
            problems.append(f"{path}: {low} lowered from {old[low]} to {new.get(low, 0)}")
        if high in old and new.get(high, float("inf")) > old[high]:
            problems.append(f"{path}: {high} raised from {old[high]} to {new.get(high, 'unlimited')}")
    for side, inclusive, exclusive in (("lower", "minimum", "exclusiveMinimum"), ("upper", "maximum", "exclusiveMaximum")):
        old_bound, new_bound = _bound(old, inclusive, exclusive, side), _bound(new, inclusive, exclusive, side)
        if old_bound is not None and not _at_least_as_strict(new_bound, old_bound, side):
            problems.append(f"{path}: {side} bound {_show(old_bound)} relaxed to {_show(new_bound)}")
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


def _objects(old: dict[str, Any], new: dict[str, Any], path: str) -> list[str]:
    problems = [
        f"{path}.{name}: no longer required" for name in old.get("required", []) if name not in new.get("required", [])
    ]
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    old_extra, new_extra = old.get("additionalProperties", True), new.get("additionalProperties", True)
    for name in sorted(set(old_props) | set(new_props)):
        # A property one side does not list is governed by that side's additionalProperties.
        problems += breaking_changes(old_props.get(name, old_extra), new_props.get(name, new_extra), f"{path}.{name}")
    if old_extra is not True or new_extra is not True:
        problems += breaking_changes(old_extra, new_extra, f"{path}.<other properties>")
    return problems
