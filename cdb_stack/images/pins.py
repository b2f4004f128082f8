"""The stack program runs prod images at the digests `cdb images --lock` checked (images.lock).

One stack transform (the engine runs it on every resource, the components' and the vendored
installers' alike; the offline engine does the same) rewrites each container image `repo:tag` that the
lock records to `repo:tag@sha256:...` (the digest of the platform's manifest that was judged, never a
multi-platform index). Images already pinned by hand are left as they are.

A stack whose environment is not dev requires it: once images.lock records images for the stack, an
image it does not record stops the program with one line naming the image and the command that
records it (render, preview and `pulumi up` alike). While the lock records nothing for the stack, the
program warns once and renders tags; the required `cdb images --stack prod` check and the deliver gate
(`cdb images --check`) refuse such a stack. Dev is pinned where the lock has entries, never refused.

`cdb-images:lock: tags` in the config turns pinning off; `cdb images --lock` uses it to learn the
stack's images as the settings name them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cdb_stack.images.lock import LOCK_FILE, REFRESH, Entry, key_of, load

MODE_KEY = "cdb-images:lock"
MODES = ("pin", "tags")
_POD_SPEC = {"Pod": ("spec",), "CronJob": ("spec", "jobTemplate", "spec", "template", "spec")}
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


class UnlockedImage(Exception):
    """An image the lock does not record, in a stack that requires it."""


def pod_spec(props: dict) -> dict | None:
    kind = str(props.get("kind") or "")
    spec: Any = props
    for key in _POD_SPEC.get(kind, ("spec", "template", "spec")):
        spec = spec.get(key) if isinstance(spec, dict) else None
    return spec if isinstance(spec, dict) else None


def pinned(image: str, locked: dict[str, Entry]) -> str | None:
    """`image@digest` when the lock records it, the image itself when pinned by hand, else None."""
    key, digest = key_of(image)
    if digest is not None:
        return image
    entry = locked.get(key)
    # The platform's own manifest, not a multi-platform index: a node of another platform cannot pull
    # an image nobody checked, it fails to start instead.
    return f"{key}@{entry.platform_digest}" if entry is not None else None


class Pinning:
    """The stack transform; `required`: refuse an image the lock does not record."""

    def __init__(self, stack: str, locked: dict[str, Entry], required: bool):
        self.stack, self.locked, self.required = stack, locked, required

    def pin(self, props: dict) -> dict | None:
        """A copy of a workload's inputs with its images pinned, or None when nothing changes."""
        spec = pod_spec(props)
        if spec is None or not any(isinstance(spec.get(k), list) for k in _CONTAINER_LISTS):
            return None
        import copy

        out = copy.deepcopy(props)
        spec, changed = pod_spec(out), False
        for key in _CONTAINER_LISTS:
            for container in spec.get(key) or []:
                image = container.get("image") if isinstance(container, dict) else None
                if not isinstance(image, str):
                    continue
                new = pinned(image, self.locked)
                if new is None:
                    if self.required:
                        raise UnlockedImage(
                            f"{LOCK_FILE} records no checked digest for image {image} of stack {self.stack}: run "
                            f"`{REFRESH.format(stack=self.stack)}` with registry access, commit {LOCK_FILE}, render again")
                    continue
                if new != image:
                    container["image"], changed = new, True
        return out if changed else None

    def __call__(self, args):
        import pulumi

        if not args.type_.startswith("kubernetes:"):
            return None
        try:
            props = self.pin(dict(args.props))
        except UnlockedImage as exc:
            raise pulumi.RunError(str(exc)) from None
        return None if props is None else pulumi.ResourceTransformResult(props, args.opts)


def install(stack: str, environment: str, mode: str | None, project_dir: Path = Path(".")) -> None:
    """Register the pinning transform for the running program (before any resource is built)."""
    import pulumi

    from cdb_core.errors import SettingsError

    if mode not in (None, *MODES):
        raise SettingsError(f"{MODE_KEY}: {mode!r} is not one of {', '.join(MODES)}")
    if mode == "tags":
        return
    locked = load(project_dir / LOCK_FILE, stack)
    required = environment != "dev"
    if required and not locked:
        pulumi.log.warn(f"{LOCK_FILE} records no image of stack {stack}: its images run on tags that were not "
                        f"checked; run `{REFRESH.format(stack=stack)}` with registry access and commit {LOCK_FILE}")
        return
    if locked or required:
        pulumi.runtime.register_resource_transform(Pinning(stack, locked, required))
