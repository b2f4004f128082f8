"""What an image reference names and what reading it yields."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from cdb_core.errors import CdbError
from components import image_ref

# skopeo's transport names; `docker://` is the default when none is given.
TRANSPORTS = ("docker", "oci", "oci-archive", "docker-archive")
DEFAULT_PLATFORM = "linux/amd64"
DEFAULT_MAX_LAYER_BYTES = 512 * 1024 * 1024

INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")
MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v2+json")



class ImageError(CdbError):
    """An image that cannot be read or verified; the message starts with the image's name."""


@dataclass(frozen=True)
class ImageRef:
    transport: str
    target: str  # registry reference, folder or archive path
    tag: str | None = None  # oci:DIR:TAG, docker-archive:FILE:REF

    def __str__(self) -> str:
        base = f"{self.transport}:{'//' if self.transport == 'docker' else ''}{self.target}"
        return f"{base}:{self.tag}" if self.tag else base


def parse_reference(text: str) -> ImageRef:
    """`docker://REF` (also the default: a bare `nginx:1.27`), `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`,
    `docker-archive:FILE[:REF]`, as skopeo spells them."""
    if not text or text != text.strip():
        raise ImageError(f"{text!r}: not an image reference; write e.g. docker://registry/name:tag or oci:DIR:TAG")
    if text.startswith("docker://"):
        return ImageRef("docker", text[len("docker://"):])
    for transport in ("oci-archive", "docker-archive", "oci"):
        if text.startswith(transport + ":"):
            path, _, tag = text[len(transport) + 1:].partition(":")
            if not path:
                raise ImageError(f"{text}: no path after {transport}:; write {transport}:PATH")
            return ImageRef(transport, path, tag or None)
    if "://" in text:
        raise ImageError(f"{text}: unknown transport; use one of {', '.join(TRANSPORTS)}")
    return ImageRef("docker", text)


def parse_platform(text: str) -> tuple[str, str, str | None]:
    parts = text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise ImageError(f"--platform {text}: write OS/ARCH[/VARIANT], e.g. linux/arm64/v8")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else None


def sha256_digest(data: bytes) -> str:
    return image_ref.content_digest(data, "sha256")


def check_digest(digest: str, where: str) -> str:
    """A digest under an algorithm the OCI image-spec registers (sha256, sha512), as the pack accepts."""
    if not image_ref.is_digest(digest):
        raise ImageError(f"{where}: {digest!r} is not a sha256 or sha512 digest; only registered content "
                         "addresses are read")
    return digest


def pinned_digest(target: str, where: str) -> str | None:
    """The digest a registry reference pins (`name@sha512:...`), checked; None for a tag."""
    digest = image_ref.split(target).digest
    if digest is None:
        return None
    if not image_ref.is_digest(digest):
        raise ImageError(f"{where}: the digest {digest!r} is malformed; {image_ref.DIGEST_HINT}")
    return digest


def verify(data: bytes, digest: str, where: str) -> bytes:
    actual = image_ref.content_digest(data, check_digest(digest, where).partition(":")[0])
    if actual != digest:
        raise ImageError(f"{where}: blob {digest} has digest {actual}; the content was altered or truncated, "
                         "refusing it (re-push or re-export the image)")
    return data


def load_json(data: bytes, where: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImageError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ImageError(f"{where}: expected a JSON object")
    return value


@dataclass
class Layer:
    digest: str
    media_type: str
    data: bytes


@dataclass
class Image:
    """A verified image: every byte here matched its digest."""

    name: str  # the reference as the user wrote it
    digest: str  # what the reference resolves to (an index's digest for a multi-platform image)
    manifest: dict[str, Any]  # the platform's image manifest
    config: dict[str, Any]
    layers: list[Layer] = field(default_factory=list)
    platform_digest: str = ""  # the platform manifest's digest (equal to `digest` for a single image)

    @property
    def runtime(self) -> dict[str, Any]:
        """The image's run configuration (User, Env, ExposedPorts, Volumes, Labels)."""
        value = self.config.get("config") or {}
        return value if isinstance(value, dict) else {}
