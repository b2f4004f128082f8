"""How each field of a pydantic Args model looks to the other languages: one classification that both
the generator of `inputs.py` (the schema side) and the adapter (the Construct side) use.

The schema inference of `pulumi.provider.experimental` takes scalars, enums, lists, string-keyed maps
and object types, never a union. So:
  str, int, float, bool         as they are
  Literal[...]                  an enum of the literal values
  a model                       an object type of its fields
  a union of models told apart  an object with one optional property per variant, named by the
  by a `kind` literal           discriminator value, as Kubernetes spells a probe handler
                                (`{"httpGet": {...}}` becomes `{"kind": "httpGet", ...}` for Python)
  tuple[X, ...] / list[X]       a list; tuple[X, Y] too (the model checks the length)
  dict[str, X]                  a map
  a union of scalars            a string; when it holds int as well (a port number or name), a
                                string of digits is handed to Python as the number
  date, timedelta               a string in ISO 8601 (pydantic parses it)
`X | None` and `Annotated[...]` are looked through; whether a field is required comes from the model.
Anything else is refused, so a new kind of field cannot slip into the schema unnoticed.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel

SCALARS = (str, int, float, bool)


@dataclass(frozen=True)
class Scalar:
    type: type
    digits_to_int: bool = False  # a string of digits becomes an int for Python
    hint: str = ""  # the wire format, added to the description


@dataclass(frozen=True)
class EnumOf:
    values: tuple[str, ...]


@dataclass(frozen=True)
class Model:
    model: type[BaseModel]


@dataclass(frozen=True)
class Variants:
    by_kind: tuple[tuple[str, type[BaseModel]], ...]  # (discriminator value, variant model)


@dataclass(frozen=True)
class ListOf:
    item: Any


@dataclass(frozen=True)
class MapOf:
    value: Any


Shape = Scalar | EnumOf | Model | Variants | ListOf | MapOf
DISCRIMINATOR = "kind"


class UnsupportedField(TypeError):
    pass


def _strip(annotation: Any) -> Any:
    """Look through Annotated[...] and `| None`."""
    while True:
        if typing.get_origin(annotation) is Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if _is_union(annotation):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (Union, types.UnionType)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _kind_of(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get(DISCRIMINATOR)
    if field is None or typing.get_origin(_strip(field.annotation)) is not Literal:
        return None
    values = typing.get_args(_strip(field.annotation))
    return values[0] if len(values) == 1 else None


def shape_of(annotation: Any, where: str) -> Shape:
    """The cross-language shape of one annotation; `where` names the field in errors."""
    annotation = _strip(annotation)
    origin = typing.get_origin(annotation)
    if annotation in SCALARS:
        return Scalar(annotation)
    if annotation is date:
        return Scalar(str, hint="ISO 8601 date, e.g. '2027-06-30'")
    if annotation is timedelta:
        return Scalar(str, hint="ISO 8601 duration, e.g. 'PT2M'")
    if origin is Literal:
        values = typing.get_args(annotation)
        if not all(isinstance(v, str) for v in values):
            raise UnsupportedField(f"{where}: only string literals are supported, got {values}")
        return EnumOf(tuple(values))
    if _is_model(annotation):
        return Model(annotation)
    if _is_union(annotation):
        members = [_strip(a) for a in typing.get_args(annotation)]
        if all(_is_model(m) for m in members):
            kinds = {_kind_of(m): m for m in members}
            if None in kinds or len(kinds) != len(members):
                raise UnsupportedField(f"{where}: a union of models needs a distinct '{DISCRIMINATOR}' literal in each")
            return Variants(tuple(kinds.items()))
        if all(m in SCALARS for m in members):
            return Scalar(str, digits_to_int=int in members and str in members)
        raise UnsupportedField(f"{where}: unsupported union {annotation!r}")
    if origin in (tuple, list):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        items = {shape_of(a, f"{where}[]") for a in args}
        if len(items) != 1:
            raise UnsupportedField(f"{where}: a tuple of mixed types is not supported")
        return ListOf(items.pop())
    if origin is dict:
        key, value = typing.get_args(annotation)
        if key is not str:
            raise UnsupportedField(f"{where}: map keys must be strings")
        return MapOf(shape_of(value, f"{where}{{}}"))
    raise UnsupportedField(f"{where}: unsupported type {annotation!r}")


def visible_fields(model: type[BaseModel], hidden: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The model's fields the other languages see (the discriminator of a variant is implied)."""
    return {
        name: field for name, field in model.model_fields.items()
        if name not in hidden and not (name == DISCRIMINATOR and _kind_of(model) is not None)
    }  # fmt: skip
