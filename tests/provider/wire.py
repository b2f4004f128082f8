"""Validated Args as a TypeScript or YAML user writes them against the schema: camelCase names, a probe
handler keyed by its kind, port numbers as the strings the schema asks for."""

from __future__ import annotations

from typing import Any

from pulumi.provider.experimental.util import camel_case
from pydantic import BaseModel

from provider import package, shapes


def to_wire(args: BaseModel) -> dict[str, Any]:
    return _model(type(args), args.model_dump(mode="json", exclude_none=True))


def _model(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    fields = shapes.visible_fields(model, package.HIDDEN_FIELDS.get(model, frozenset()))
    return {camel_case(name): _value(shapes.shape_of(fields[name].annotation, name), value)
            for name, value in data.items() if name in fields}  # fmt: skip


def _value(shape: shapes.Shape, value: Any) -> Any:
    if isinstance(shape, shapes.Model):
        return _model(shape.model, value)
    if isinstance(shape, shapes.Variants):
        kind = value[shapes.DISCRIMINATOR]
        return {kind: _model(dict(shape.by_kind)[kind], value)}
    if isinstance(shape, shapes.ListOf):
        return [_value(shape.item, v) for v in value]
    if isinstance(shape, shapes.MapOf):
        return {k: _value(shape.value, v) for k, v in value.items()}
    if isinstance(shape, shapes.Scalar) and shape.type is str and not isinstance(value, str):
        return str(value)
    return value
