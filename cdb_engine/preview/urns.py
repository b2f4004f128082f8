"""Engine-style URNs.

The mock monitor prefixes top-level types with `pulumi:pulumi:Stack$` and keeps only the last parent
type for nested resources; the Pulumi engine does neither. Reports and stack policies key on URNs, so
the offline engine computes them the way the engine does:
`urn:pulumi:<stack>::<project>::<parent types joined by $>$<type>::<name>`.
"""

from __future__ import annotations

STACK_TYPE = "pulumi:pulumi:Stack"


def stack_urn(project: str, stack: str) -> str:
    return make_urn(project, stack, None, STACK_TYPE, f"{project}-{stack}")


def qualified_type(urn: str) -> str:
    """The `A$B$C` part of a URN."""
    parts = urn.split("::")
    if len(parts) < 4:
        raise ValueError(f"not a URN: {urn!r}")
    return parts[2]


def make_urn(project: str, stack: str, parent: str | None, type_: str, name: str) -> str:
    qualified = type_
    if parent:
        parent_type = qualified_type(parent)
        # Children of the root stack are top level: the engine does not qualify them with it.
        if parent_type != STACK_TYPE:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def type_of(urn: str) -> str:
    """The resource's own type: the last element of its qualified type."""
    return qualified_type(urn).rsplit("$", 1)[-1]


def name_of(urn: str) -> str:
    return urn.split("::", 3)[3]
