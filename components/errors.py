"""One-line, actionable errors for component arguments.

pydantic reports a ValidationError over several lines with links; a platform engineer reading a
`pulumi preview` log needs one line: which argument, what is wrong, how to fix it.
"""

import typing
from typing import Any

from pydantic import BaseModel, ValidationError


# Path of an error about the arguments as a whole (a cross-field check), printed without a prefix.
_WHOLE = "(arguments)"


class ComponentArgsError(ValueError):
    """Arguments a component cannot be built from. The message is one line: place, problem, fix.

    `problems` keeps (field path, message) pairs so an error raised while validating a nested
    argument is reported under the outer path instead of being nested as text.
    """

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


def _loc_text(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or _WHOLE


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The first pydantic model inside an annotation such as `tuple[EnvVar, ...] | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def _field_description(model: type[BaseModel], loc: tuple[Any, ...]) -> str | None:
    """Walk `loc` through nested models to the described field, if the path leads to one."""
    current: type[BaseModel] | None = model
    description = None
    for part in loc:
        if isinstance(part, int):
            continue
        if current is None or part not in current.model_fields:
            return None
        field = current.model_fields[part]
        description = field.description
        current = _nested_model(field.annotation)
    return description


def _message(model: type[BaseModel], error: Any) -> str:
    kind = error["type"]
    loc = error["loc"]
    if kind == "value_error":
        # Our own validators already say what is wrong and how to fix it.
        return str(error["ctx"]["error"])
    if kind == "missing":
        hint = _field_description(model, loc)
        return "is required; set it" + (f" ({hint})" if hint else "")
    if kind == "extra_forbidden":
        return "is not a known argument; remove it or fix its spelling"
    hint = _field_description(model, loc)
    got = repr(error.get("input"))
    if len(got) > 60:
        got = got[:57] + "..."
    return f"{error['msg'].rstrip('.')} (got {got})" + (f"; expected: {hint}" if hint else "")


def _join(outer: str, inner: str) -> str:
    if outer == _WHOLE:
        return inner
    if inner == _WHOLE:
        return outer
    return outer + ("" if inner.startswith("[") else ".") + inner


def problems(model: type[BaseModel], exc: ValidationError) -> list[tuple[str, str]]:
    """(field path, message) for every error, flattening errors of nested intents."""
    found: list[tuple[str, str]] = []
    for error in exc.errors():
        where = _loc_text(tuple(error["loc"]))
        inner = error.get("ctx", {}).get("error") if error["type"] == "value_error" else None
        if isinstance(inner, ComponentArgsError) and inner.problems:
            found.extend((_join(where, path), text) for path, text in inner.problems)
        else:
            found.append((where, " ".join(_message(model, error).split())))
    return found


def args_error(owner: str, model: type[BaseModel], exc: ValidationError) -> ComponentArgsError:
    """A one-line ComponentArgsError for `exc`: `owner: field.path: problem and fix; ...`."""
    found = problems(model, exc)
    text = "; ".join(message if path == _WHOLE else f"{path}: {message}" for path, message in found)
    return ComponentArgsError(f"{owner}: {text}", found)
