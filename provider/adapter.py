"""Construct's inputs (schema names, wire values) as the Python component takes them.

Derived from the same Args models and `shapes` as the schema, so both sides read a field alike:
camelCase names back to the model's field names, a probe handler keyed by its kind back to the
discriminated model, a string of digits for a port back to a number. Everything else is handed over
unchanged and the component's own pydantic validation judges it, so errors read as in Python.
An unknown name is kept as given: the model refuses it ("is not a known argument") where the SDK's
generic mapping would drop it silently.
"""

from __future__ import annotations

from typing import Any

from pulumi import Output
from pulumi.output import Unknown
from pulumi.provider.experimental.util import camel_case
from pulumi.runtime import rpc
from pydantic import BaseModel

from components.errors import ComponentArgsError
from provider import package, shapes


class NotPlain(ValueError):
    """An input that is not a plain value when the component is built."""


def to_python(model: type[BaseModel], inputs: dict[str, Any], owner: str) -> dict[str, Any]:
    """The Args mapping for `model` from Construct's `inputs`; one-line ComponentArgsError if unusable."""
    try:
        return _model(model, inputs, "")
    except NotPlain as exc:
        path, _, problem = str(exc).partition(": ")
        raise ComponentArgsError(f"{owner}: {path}: {problem}", [(path, problem)]) from None


def _model(model: type[BaseModel], data: Any, path: str) -> Any:
    data = _plain(data, path)
    if not isinstance(data, dict):
        return data  # the model says what it expected
    fields = {camel_case(n): (n, f) for n, f in shapes.visible_fields(model, package.HIDDEN_FIELDS.get(model, frozenset())).items()}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue  # absent: the model's default applies
        name, field = fields.get(key, (key, None))
        where = f"{path}.{name}" if path else name
        out[name] = value if field is None else _value(shapes.shape_of(field.annotation, where), value, where)
    return out


def _value(shape: shapes.Shape, value: Any, path: str) -> Any:
    value = _plain(value, path)
    if isinstance(shape, shapes.Model):
        return _model(shape.model, value, path)
    if isinstance(shape, shapes.Variants) and isinstance(value, dict):
        chosen = [(kind, model) for kind, model in shape.by_kind if value.get(kind) is not None]
        if len(chosen) != 1 or len(value) != 1:
            kinds = ", ".join(kind for kind, _ in shape.by_kind)
            raise NotPlain(f"{path}: set exactly one of {kinds}")
        kind, model = chosen[0]
        inner = _model(model, value[kind], f"{path}.{kind}")
        return {shapes.DISCRIMINATOR: kind, **inner} if isinstance(inner, dict) else inner
    if isinstance(shape, shapes.ListOf) and isinstance(value, list):
        return [_value(shape.item, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(shape, shapes.MapOf) and isinstance(value, dict):
        return {k: _value(shape.value, v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(shape, shapes.Scalar) and shape.digits_to_int and isinstance(value, str) and value.isdecimal():
        return int(value)
    if isinstance(shape, shapes.Scalar) and shape.type is int and isinstance(value, float) and value.is_integer():
        return int(value)  # the wire has numbers only: 3.0 is the 3 the user wrote
    return value


def _plain(value: Any, path: str) -> Any:
    """The components validate their arguments when they are built: every input must be known then."""
    if isinstance(value, (Output, Unknown)) or (isinstance(value, str) and value == rpc.UNKNOWN):
        raise NotPlain(
            f"{path or '(arguments)'}: must be a plain value known when the component is built, not another "
            "resource's output; pass a literal or a configuration value"
        )
    return value


def wire_path(path: str) -> str:
    """A Python field path (`liveness.action.httpGet.port`) in the schema's names (camelCase)."""
    return ".".join(camel_case(part) for part in path.split("."))  # `env_from_secrets[0]` -> `envFromSecrets[0]`
