"""Settings errors in the user's words: the YAML keys of Pulumi.<stack>.yaml, not our Python names.

A user writes `workloadClass`, `memoryLimit` and `secretEnv` in the stack file; the components they are
turned into speak snake_case and Python (`workload_class`, `EnvVar.from_secret(...)`). Every message
that reaches the user goes through `yaml_words`, which spells each settings field the way the YAML does.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.alias_generators import to_camel

_IDENTIFIER = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def _models_under(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    for field in model.model_fields.values():
        for inner in _types_in(field.annotation):
            _models_under(inner, seen)


def _types_in(annotation: Any) -> list[type[BaseModel]]:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found.extend(_types_in(arg))
    return found


@lru_cache(maxsize=1)
def _field_names() -> frozenset[str]:
    from cdb_stack.settings import StackSettings

    models: set[type[BaseModel]] = set()
    _models_under(StackSettings, models)
    return frozenset(name for model in models for name in model.model_fields if "_" in name)


def yaml_words(text: str) -> str:
    """`memory_limit` -> `memoryLimit` for every settings field named in `text`; other words stay."""
    names = _field_names()
    return _IDENTIFIER.sub(lambda m: to_camel(m.group(0)) if m.group(0) in names else m.group(0), text)


_LEADING_PATH = re.compile(r"^([A-Za-z_][\w]*(?:\.[\w-]+|\[\d+\])*): (.*)$", re.DOTALL)


def join_path(where: str, message: str, renames: dict[str, str] | None = None) -> tuple[str, str]:
    """(`services[0]`, `image: image ... uses latest`) -> (`services[0].image`, `image ... uses latest`).

    A message that starts with a field path names a place below `where`; `renames` maps a component's
    field path to the settings key it came from (a service's `namespace` is its `zone`)."""
    match = _LEADING_PATH.match(message)
    if match is None:
        return where, message
    path, rest = match.groups()
    path = yaml_words((renames or {}).get(path, path))
    return (f"{where}.{path}" if where else path), rest
