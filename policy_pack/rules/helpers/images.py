"""The pack's one image-reference parser (the pack runs alone, so it keeps its own copy).

`split_image` is the only code in the pack that takes an image reference apart; the pinning rule,
the Redis rules, the AI-serving rule and the Vault-zone rule all read references through it.
"""

from __future__ import annotations

from typing import Any


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """(repository, tag, digest) of an image reference; a registry port is not a tag."""
    name, at, digest = image.partition("@")
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > last_slash:
        return name[:colon], name[colon + 1:], digest if at else None
    return name, None, digest if at else None


def image_name(image: Any) -> tuple[str, str] | None:
    """(namespace, name) of an image's repository: "bitnami/redis:7@sha256:.." -> ("bitnami", "redis")."""
    if not isinstance(image, str) or not image:
        return None
    parts = split_image(image)[0].split("/")
    return (parts[-2] if len(parts) > 1 else "library"), parts[-1]
