"""Container image references (`registry:5000/org/app:1.2.3@sha256:...`), the one parser on our side.

The components pin images with it (components/types.py `Image`), `cdb images` reads registries with
it (cdb_stack/images), and the policy pack keeps its own copy (policy_pack/rules/helpers/images.py, since
the pack must run alone); tests/components/test_image_ref.py holds the pack's copy equal to this one
on a table and on generated strings.

Digests: the algorithms the OCI image-spec registers, sha256 (64 lower-case hex digits) and sha512
(128). Others (sha384, blake3, upper-case hex) are refused everywhere: a digest a registry or
containerd would not accept pins nothing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# Algorithm -> hex digits of its encoded part (OCI image-spec, descriptor.md "Registered algorithms").
DIGEST_ALGORITHMS = {"sha256": 64, "sha512": 128}
DIGEST = re.compile("|".join(f"{name}:[0-9a-f]{{{size}}}" for name, size in DIGEST_ALGORITHMS.items()))
# The distribution spec's tag grammar.
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
# Optional registry host[:port], then lower-case path components (distribution's reference grammar).
REPOSITORY = re.compile(
    r"(?:(?:[A-Za-z0-9-]+\.)*[A-Za-z0-9-]+(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
)
DIGEST_HINT = "write '@sha256:' and 64, or '@sha512:' and 128, lower-case hex digits"


@dataclass(frozen=True)
class ImageRef:
    repository: str
    tag: str | None
    digest: str | None  # "" when the reference ends in a bare '@'


def split(ref: str) -> ImageRef:
    """Repository, tag and digest, unvalidated; a registry port (`host:5000/app`) is not a tag."""
    name, at, digest = ref.partition("@")
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon > slash:
        return ImageRef(name[:colon], name[colon + 1:], digest if at else None)
    return ImageRef(name, None, digest if at else None)


def is_digest(text: object) -> bool:
    return isinstance(text, str) and DIGEST.fullmatch(text) is not None


def is_tag(text: object) -> bool:
    return isinstance(text, str) and TAG.fullmatch(text) is not None


def is_repository(text: object) -> bool:
    return isinstance(text, str) and REPOSITORY.fullmatch(text) is not None


def content_digest(data: bytes, algorithm: str = "sha256") -> str:
    """The digest of `data` under a registered algorithm, e.g. 'sha256:9f86...'."""
    if algorithm not in DIGEST_ALGORITHMS:
        raise ValueError(f"digest algorithm {algorithm!r} is not one of {', '.join(DIGEST_ALGORITHMS)}")
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"
