"""The pack's one image-reference parser and grammar (the pack runs alone, so it keeps its own copy).

`split_image` is the only code in the pack that takes an image reference apart, and `is_digest` /
`is_tag` the only judges of its parts; the pinning rule, the Redis rules, the AI-serving rule and the
Vault-zone rule all read references through them. components/image_ref.py is the copy on our side;
tests/components/test_image_ref.py holds the two equal.
"""

from __future__ import annotations

import re
from typing import Any

# The OCI image-spec's registered digest algorithms: sha256 (64 lower-case hex digits), sha512 (128).
DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")
# The distribution spec's tag grammar.
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


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


def is_digest(text: object) -> bool:
    return isinstance(text, str) and DIGEST.fullmatch(text) is not None


def is_tag(text: object) -> bool:
    return isinstance(text, str) and TAG.fullmatch(text) is not None
