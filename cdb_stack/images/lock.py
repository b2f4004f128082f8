"""`images.lock`: per stack, the digest each image reference resolved to when `cdb images --lock` checked
it, with the platform read, the checks it passed and the cdb version that judged it. The stack program
pins prod images to these digests (cdb_stack/images/pins.py), so what was checked is what runs.

The file is JSON written deterministically (sorted keys, no timestamps: the same images give the same
bytes) and atomically (a temporary file renamed into place). Keys are the references as the workloads
spell them before pinning (`repo:tag`, or `repo@sha256:...` for an image pinned by hand)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from cdb_core.files import write_atomic
from cdb_stack.images.model import ImageError, check_digest

LOCK_FILE = "images.lock"
VERSION = 2
REFRESH = "cdb images --stack {stack} --lock"


@dataclass(frozen=True)
class Entry:
    digest: str  # what the reference resolved to (an index's digest for a multi-platform image)
    platform: str
    platform_digest: str  # the manifest of that platform that was read and judged
    checks: tuple[str, ...]  # the rules the image passed
    cdb: str  # the cdb version that judged it

    def to_json(self) -> dict:
        data = asdict(self)
        data["checks"] = sorted(self.checks)
        data["platformDigest"] = data.pop("platform_digest")
        return data


def cdb_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cdb-infra")
    except PackageNotFoundError:  # a source tree run without installing: say so rather than guess
        return "unknown"


def key_of(reference: str) -> tuple[str, str | None]:
    """(lock key, digest written after @) of a reference as a manifest spells it."""
    name, at, digest = reference.partition("@")
    tail = name.rsplit("/", 1)[-1]
    if at and ":" in tail:  # repo:tag@sha256:... -> the tag is the key, the digest what was pinned
        return name, digest
    return reference, digest if at else None


def _fail(path: Path, problem: str) -> ImageError:
    return ImageError(f"{path}: {problem}; restore it from Git, or delete it and run `cdb images --stack S --lock`")


def read(path: Path) -> dict[str, dict[str, Entry]]:
    """Every stack's entries; an absent file is an empty lock."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise _fail(path, f"not readable JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("stacks"), dict):
        raise _fail(path, f'not an images.lock of version {VERSION} ({{"version": {VERSION}, "stacks": {{...}}}})')
    stacks: dict[str, dict[str, Entry]] = {}
    for stack, entries in data["stacks"].items():
        if not isinstance(entries, dict):
            raise _fail(path, f"stacks.{stack} is not an object")
        stacks[stack] = {}
        for reference, raw in entries.items():
            where = f"{path}: stacks.{stack}.{reference}"
            try:
                stacks[stack][reference] = Entry(
                    check_digest(raw["digest"], where), str(raw["platform"]),
                    check_digest(raw["platformDigest"], where), tuple(str(c) for c in raw["checks"]), str(raw["cdb"]))
            except (KeyError, TypeError) as exc:
                raise _fail(path, f"stacks.{stack}.{reference} lacks {exc}") from None
    return stacks


def load(path: Path, stack: str) -> dict[str, Entry]:
    return read(path).get(stack, {})


def text(stacks: dict[str, dict[str, Entry]]) -> str:
    data = {"version": VERSION, "stacks": {stack: {ref: entry.to_json() for ref, entry in sorted(entries.items())}
                                           for stack, entries in sorted(stacks.items())}}
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def save(path: Path, stack: str, entries: dict[str, Entry]) -> None:
    """Replace one stack's entries, keep the others; a reader never sees half a lock."""
    stacks = read(path)
    stacks[stack] = dict(entries)
    write_atomic(path, text(stacks))

