"""A compiled validity check for the JSON Schema subset the event schemas use.

jsonschema walks the schema for every instance (about 50-100 us per event here), which alone would
cap the dual-write below its 5,000 events/s target. `compile_check` turns a schema into nested
closures once, so a valid event costs a few microseconds. It is only a fast path:
- it answers for the keywords listed in SUPPORTED and returns None for a schema using any other
  keyword, so the caller keeps validating that schema with jsonschema;
- when it says "invalid", the caller asks jsonschema for the error message;
- a differential test (tests/events/test_fastcheck.py) pins that both agree on many instances.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from cdb_stack.events.compat import ANNOTATIONS, is_number, json_equal
from cdb_stack.events.envelope import EventError, parse_time

Check = Callable[[Any], bool]
SUPPORTED = frozenset(
    {
        "type", "properties", "required", "additionalProperties", "enum", "const", "items",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
        "minItems", "maxItems", "pattern", "format", "uniqueItems", "multipleOf",
    }
)  # fmt: skip


_TYPES: dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "number": is_number,
    "integer": lambda x: is_number(x) and (isinstance(x, int) or float(x).is_integer()),
}


def _date_time(value: str) -> bool:
    try:
        parse_time(value)
    except EventError:
        return False
    return True


def compile_check(schema: Any) -> Check | None:
    """A function instance -> valid?, or None when the schema uses a keyword outside SUPPORTED."""
    if schema is True or schema == {}:
        return lambda x: True
    if schema is False:
        return lambda x: False
    if not isinstance(schema, dict) or set(schema) - SUPPORTED - ANNOTATIONS:
        return None
    if schema.get("format", "date-time") != "date-time":
        return None
    checks: list[Check] = []
    if "type" in schema:
        names = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
        tests = [_TYPES[n] for n in names]
        checks.append(tests[0] if len(tests) == 1 else lambda x: any(t(x) for t in tests))
    for keyword in ("enum", "const"):
        if keyword in schema:
            allowed = schema["enum"] if keyword == "enum" else [schema["const"]]
            checks.append(lambda x, allowed=allowed: any(json_equal(x, a) for a in allowed))
    checks += _numbers(schema) + _strings(schema)
    for part in (_objects(schema), _arrays(schema)):
        if part is None:
            return None
        checks += part
    return _all(checks)


def _all(checks: list[Check]) -> Check:
    # Specialised by length: a generator inside all() per keyword would dominate the cost.
    if not checks:
        return lambda x: True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda x: first(x) and second(x)

    def run(x: Any) -> bool:
        for check in checks:
            if not check(x):
                return False
        return True

    return run


def _numbers(s: dict[str, Any]) -> list[Check]:
    bounds = [
        ("minimum", lambda x, b: x >= b), ("maximum", lambda x, b: x <= b),
        ("exclusiveMinimum", lambda x, b: x > b), ("exclusiveMaximum", lambda x, b: x < b),
    ]  # fmt: skip
    out: list[Check] = [
        lambda x, b=s[k], ok=ok: not is_number(x) or ok(x, b) for k, ok in bounds if k in s
    ]
    if "multipleOf" in s:
        step = s["multipleOf"]

        def multiple(x: Any) -> bool:
            if not is_number(x):
                return True
            if isinstance(step, float) or isinstance(x, float):
                quotient = x / step
                try:
                    return int(quotient) == quotient
                except OverflowError:
                    return False
            return x % step == 0

        out.append(multiple)
    return out


def _strings(s: dict[str, Any]) -> list[Check]:
    out: list[Check] = []
    if "minLength" in s:
        out.append(lambda x, n=s["minLength"]: not isinstance(x, str) or len(x) >= n)
    if "maxLength" in s:
        out.append(lambda x, n=s["maxLength"]: not isinstance(x, str) or len(x) <= n)
    if "pattern" in s:
        search = re.compile(s["pattern"]).search
        out.append(lambda x: not isinstance(x, str) or search(x) is not None)
    if s.get("format") == "date-time":
        out.append(lambda x: not isinstance(x, str) or _date_time(x))
    return out


def _objects(s: dict[str, Any]) -> list[Check] | None:
    required = list(s.get("required", []))
    props = {name: compile_check(sub) for name, sub in s.get("properties", {}).items()}
    extra = compile_check(s.get("additionalProperties", True))
    if extra is None or any(c is None for c in props.values()):
        return None
    checks: dict[str, Check] = props  # type: ignore[assignment]
    open_extra = s.get("additionalProperties", True) in (True, {})

    def check(x: Any) -> bool:
        if not isinstance(x, dict):
            return True
        for name in required:
            if name not in x:
                return False
        for name, value in x.items():
            sub = checks.get(name)
            if sub is not None:
                if not sub(value):
                    return False
            elif not open_extra and not extra(value):
                return False
        return True

    return [check]


def _arrays(s: dict[str, Any]) -> list[Check] | None:
    out: list[Check] = []
    if "items" in s:
        item = compile_check(s["items"])
        if item is None:
            return None

        def each(x: Any) -> bool:
            if isinstance(x, list):
                for value in x:
                    if not item(value):
                        return False
            return True

        out.append(each)
    if "minItems" in s:
        out.append(lambda x, n=s["minItems"]: not isinstance(x, list) or len(x) >= n)
    if "maxItems" in s:
        out.append(lambda x, n=s["maxItems"]: not isinstance(x, list) or len(x) <= n)
    if s.get("uniqueItems"):
        out.append(
            lambda x: not isinstance(x, list)
            or all(not json_equal(a, b) for i, a in enumerate(x) for b in x[i + 1 :])
        )
    return out
