"""The base of every cdb component: its type token as a class constant, and the tokens it had before.

Pulumi keys a resource's state by its URN, and the URN contains the type token. Renaming `TYPE` alone
would make the engine delete every resource of the old URN and create new ones; naming the old token
in `FORMER_TYPES` registers an alias, so the engine moves the existing state to the new URN instead.
"""

from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

import pulumi
from pydantic import BaseModel

from components.errors import ComponentArgsError

__all__ = ["Component", "former_type_aliases", "require_args"]

ArgsT = TypeVar("ArgsT", bound=BaseModel)


def require_args(cls: type[ArgsT], args: object, owner: str) -> ArgsT:
    """`args` if it is a `cls`; otherwise a one-line error naming the component and the fix.

    Constructors take their validated Args class only: a plain dict would skip the type checker and
    report its mistakes later, far from the line that wrote them."""
    if isinstance(args, cls):
        return args
    raise ComponentArgsError(
        f"{owner}: args must be a {cls.__name__}, not {type(args).__name__}; write {cls.__name__}(...) "
        f"(or {cls.__name__}.parse(data) for plain data)"
    )


def former_type_aliases(opts: pulumi.ResourceOptions | None, former: tuple[str, ...]) -> pulumi.ResourceOptions | None:
    """`opts` plus one alias per former type token (same name, parent, stack and project)."""
    if not former:
        return opts
    aliases: list[pulumi.Input[str] | pulumi.Alias] = [pulumi.Alias(type_=token) for token in former]
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=aliases))


class Component(pulumi.ComponentResource):
    """A ComponentResource registered under its class's `TYPE`, aliased to its `FORMER_TYPES`."""

    TYPE: ClassVar[str]
    FORMER_TYPES: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        token = cls.__dict__.get("TYPE")
        if not isinstance(token, str) or token.count(":") != 2:
            raise TypeError(f"{cls.__name__}: set TYPE to a type token 'cdb:index:{cls.__name__}'")
        if token in cls.FORMER_TYPES:
            raise TypeError(f"{cls.__name__}: FORMER_TYPES lists the current TYPE {token!r}; remove it")

    def __init__(self, name: str, props: Mapping[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, dict(props), former_type_aliases(opts, self.FORMER_TYPES))
