"""Small helpers shared by the components: object metadata and child resource options."""

from collections.abc import Callable
from typing import Any

import pulumi

from components.errors import ComponentArgsError


def metadata(name: str, namespace: str | None, labels: dict[str, str], annotations: dict[str, str]) -> dict[str, Any]:
    """Explicit object metadata: mocks and offline renders do not autoname, and policies read these."""
    meta: dict[str, Any] = {"name": name, "labels": dict(labels), "annotations": dict(annotations)}
    if namespace is not None:
        meta["namespace"] = namespace
    return meta


def child_opts(parent: pulumi.Resource, *depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
    """Options of every child: parented to the component, ordered after what it needs."""
    return pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on) or None)


def check_name(owner: str, field: str, value: str, validator: Callable[[str], str]) -> str:
    """Run a `names` validator and turn its ValueError into a one-line ComponentArgsError."""
    try:
        return validator(value)
    except ValueError as exc:
        raise ComponentArgsError(f"{owner}: {field}: {exc}", [(field, str(exc))]) from None
