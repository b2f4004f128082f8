"""Clause 5 baseline beyond the text: every container image is pinned to a version or a digest.

CI can only vouch for the image it checked; a missing or "latest" tag lets a different image run later.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import Severity

from .helpers.access import get, shown
from .helpers.images import is_digest, is_tag, split_image
from .helpers.metadata import pod_template_rule
from .helpers.podspec import PodTemplate, containers

CLAUSE = "5"
__all__ = ["IMAGE_PINNING", "PIN_HINT", "RULES", "check_images", "image_problem", "split_image"]
PIN_HINT = "pin a version tag (app:1.4.2) or a digest (app@sha256:<64 hex digits>)"


def image_problem(image: Any) -> str | None:
    """Why an image reference is not pinned, or None when it is."""
    if not isinstance(image, str) or not image.strip():
        return f"image is missing; {PIN_HINT}"
    if image != image.strip() or " " in image:
        return f"image {shown(image)} contains whitespace; {PIN_HINT}"
    _, tag, digest = split_image(image)
    if digest is not None:
        return None if is_digest(digest) else f"image {shown(image)} has a malformed digest; {PIN_HINT}"
    if tag is None:
        return f"image {shown(image)} has no tag (it means latest); {PIN_HINT}"
    if tag.lower() == "latest":
        return f"image {shown(image)} uses the latest tag; {PIN_HINT}"
    if not is_tag(tag):
        return f"image {shown(image)} has an invalid tag {shown(tag)}; {PIN_HINT}"
    return None


def check_images(template: PodTemplate) -> Iterator[str]:
    for container in containers(template):
        problem = image_problem(get(container.spec, "image"))
        if problem:
            yield f"{container.where}: {problem}"


IMAGE_PINNING = pod_template_rule(
    name="k8s-image-pinned",
    description="Every container image is pinned to a version tag or a digest, never latest.",
    clause=CLAUSE,
    specification="CI prüft Container-Images auf diese Kriterien.",
    severity=Severity.MEDIUM,
    remediation=(
        "Give every container, init container and ephemeral container an image with an explicit version "
        "tag other than latest (registry:5000/app:1.4.2) or a digest (app@sha256:...)."
    ),
    tags=("baseline", "images"),
    check=check_images,
)

RULES = [IMAGE_PINNING]
