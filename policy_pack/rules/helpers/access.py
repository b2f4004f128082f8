"""Tolerant readers over resource properties.

Properties reach a policy as the SDK's read-only proxies (``Mapping``/``Sequence`` but not ``dict``/``list``),
from ``cdb check`` as plain YAML data, and in either case with keys missing or set to null. These readers
turn "absent or of the wrong shape" into an empty value so rules only state what they require.
Reading an unknown value still raises inside the SDK proxy; that is deliberate (the SDK turns it into an
advisory "can't run policy" diagnostic instead of a false pass or a false violation).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeGuard

EMPTY: Mapping[str, Any] = {}


class SecretText(str):
    """A string the engine marked secret (Pulumi config secret, Output.secret): it came from the secret
    manager, so it is not a literal in code. The server keeps the mark when it decodes a request."""

    __slots__ = ()


def is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    # Exact-type checks first: ABC isinstance checks dominate rule time on plain decoded data.
    return type(value) is dict or isinstance(value, Mapping)


def is_list(value: Any) -> TypeGuard[Sequence[Any]]:
    # Strings are Sequences too; a list field holding a string is malformed, not a list.
    return type(value) is list or (isinstance(value, Sequence) and not isinstance(value, (str, bytes)))


def get(obj: Any, key: str) -> Any:
    """obj[key] when obj is a mapping holding key, else None."""
    if isinstance(obj, dict):  # plain data, and the server's RequestProps (a dict subclass)
        return obj.get(key)
    if isinstance(obj, Mapping) and key in obj:
        return obj[key]
    return None


def _at(obj: Any, keys: tuple[str, ...]) -> Any:
    """get() down a path, stopping at the first missing step (the readers below are the rules' hot path)."""
    current = obj
    for key in keys:
        if isinstance(current, dict):
            current = current.get(key)
        elif isinstance(current, Mapping) and key in current:
            current = current[key]
        else:
            return None
        if current is None:
            return None
    return current


def mapping(obj: Any, *keys: str) -> Mapping[str, Any]:
    """The mapping at obj.keys[0].keys[1]..., or an empty mapping."""
    current = _at(obj, keys)
    return current if current is not None and is_mapping(current) else EMPTY


def items(obj: Any, *keys: str) -> list[Any]:
    """The list at obj.keys..., or an empty list (null and wrong shapes read as empty)."""
    current = _at(obj, keys)
    return list(current) if current is not None and is_list(current) else []


def text(obj: Any, key: str) -> str | None:
    """A string field, or None when absent or not a string."""
    value = get(obj, key)
    return value if isinstance(value, str) else None


def is_true(obj: Any, key: str) -> bool:
    return get(obj, key) is True


def is_set(value: Any) -> bool:
    """True for any value a user wrote on purpose (the empty string and null count as unset)."""
    return value is not None and value != ""


def indexed(obj: Any, key: str, prefix: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(field path, element) for every mapping element of the list at obj.key."""
    for index, element in enumerate(items(obj, key)):
        if is_mapping(element):
            yield f"{prefix}.{key}[{index}]", element


def number(value: Any) -> float | None:
    """A JSON number (ints arrive as floats through protobuf Struct); bools are not numbers."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def shown(value: Any) -> str:
    """A value as a message quotes it: strings in double quotes, 8080.0 as 8080, None as unset."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)
