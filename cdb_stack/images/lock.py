"""`images.lock`: the digest each tag resolved to when its image was checked, per stack. In a stack
that requires pinning (prod), an image runs only at a digest that was checked: pinned in the manifest
(`name@sha256:...`) or recorded here by `cdb images --stack S --lock`, and still what the tag names."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from cdb_stack.images.criteria import CLAUSE, Finding
from cdb_stack.images.model import ImageError, check_digest
from components import image_ref

LOCK_FILE = "images.lock"


def load(path: Path, stack: str) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["stacks"].get(stack, {}) if isinstance(data, dict) and data.get("version") == 1 else None
    except (ValueError, KeyError, AttributeError, UnicodeDecodeError) as exc:
        raise ImageError(f"{path}: not an images.lock ({exc}); restore it from Git or delete it and run "
                         "`cdb images --stack S --lock`") from None
    if not isinstance(entries, dict):
        raise ImageError(f"{path}: expected {{\"version\": 1, \"stacks\": {{STACK: {{IMAGE: DIGEST}}}}}}")
    return {str(k): check_digest(v, f"{path}: {k}") for k, v in entries.items()}


def save(path: Path, stack: str, entries: dict[str, str]) -> None:
    data = {"version": 1, "stacks": {}}
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
    data["stacks"][stack] = dict(sorted(entries.items()))
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)  # a reader never sees half a lock
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def pinning(name: str, digest: str, locked: dict[str, str], workload: str, source: str = "") -> list[Finding]:
    if image_ref.split(name).digest:
        return []  # the reader verified the manifest against the pinned digest
    recorded = locked.get(name)
    if recorded is None:
        return [Finding(name, workload, "image-not-pinned",
                        f"tag is not pinned: it resolves to {digest} now; check and record it with "
                        "`cdb images --stack STACK --lock`, or pin name@digest in the manifest", CLAUSE, source)]
    if recorded != digest:
        return [Finding(name, workload, "image-digest-changed",
                        f"tag now resolves to {digest}, images.lock recorded {recorded}: what runs is not what "
                        "was checked; check it again and --lock", CLAUSE, source)]
    return []
