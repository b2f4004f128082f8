"""Writing the rendered folder atomically, and comparing a committed folder with a fresh render.

Writes go to a temporary sibling folder that then replaces the target by rename, so a reader (or a
Flux fetch of a half-pushed commit) never sees a mix of old and new files, and a failure leaves the old
folder as it was. The comparison masks only the value of the git-revision annotation (see
`mask_revision`); every other byte counts, so a hand edit is drift.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from components.conventions import ANNOTATION_GIT_REVISION
from cdb_core.errors import CdbError
from cdb_engine.manifests.layout import KUSTOMIZATION, MARKER, content_digest, recorded_digest

_REVISION_LINE = re.compile(rf"^(\s*{re.escape(ANNOTATION_GIT_REVISION)}:)[ \t]*\S.*$", re.MULTILINE)
REVISION_MASK = "<git-revision>"


def mask_revision(text: str) -> str:
    """The text with every git-revision annotation value replaced by one mask.

    The revision is where the files came from, not what they declare: a pipeline that renders at the
    merge commit stamps that commit, and the check of a later pull request must not call it drift.
    The annotation itself must still be there (its line is compared).
    """
    return _REVISION_LINE.sub(lambda m: f"{m.group(1)} {REVISION_MASK}", text)


@dataclass(frozen=True)
class Difference:
    state: str  # "changed" | "missing" | "extra"
    path: str


def read_tree(folder: Path) -> dict[str, str]:
    """Relative path -> text of every file under `folder` (hidden files too: all of it is synced)."""
    files: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_dir():
            continue
        rel = path.relative_to(folder).as_posix()
        try:
            files[rel] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            files[rel] = "\0binary"
        except OSError as exc:
            raise CdbError(f"{path}: cannot read: {exc.strerror}") from None
    return files


def compare(expected: dict[str, str], folder: Path) -> list[Difference]:
    """What differs between a fresh render and the folder: changed, missing and extra files."""
    if not folder.is_dir():
        raise CdbError(f"{folder}: no rendered output here; write it with `cdb render` first, or pass --out")
    actual = read_tree(folder)
    found = [Difference("missing", p) for p in expected if p not in actual]
    found += [Difference("extra", p) for p in actual if p not in expected]
    found += [
        Difference("changed", p)
        for p in expected
        if p in actual and mask_revision(actual[p]) != mask_revision(expected[p])
    ]
    return sorted(found, key=lambda d: (d.path, d.state))


def _owned(folder: Path) -> bool:
    """Empty, or written by render before: the only folders render may replace."""
    if not any(folder.iterdir()):
        return True
    marker = folder / KUSTOMIZATION
    try:
        return marker.is_file() and marker.read_text(encoding="utf-8").startswith(MARKER)
    except (OSError, UnicodeDecodeError):
        return False


def check_target(folder: Path, for_check: bool = False) -> None:
    """Refuse an output folder before any rendering work: a wrong --out must cost no time."""
    if folder.exists() and not folder.is_dir():
        raise CdbError(f"{folder}: is a file; --out needs a folder")
    if for_check:
        if not folder.is_dir():
            raise CdbError(f"{folder}: no rendered output here; write it with `cdb render` first, or pass --out")
        return
    if folder.is_dir() and not _owned(folder):
        raise CdbError(
            f"{folder}: holds files `cdb render` did not write (no {KUSTOMIZATION} of its own); "
            "choose an empty or new folder for --out"
        )
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise CdbError(f"{existing}: is a file, so {folder} cannot be created; choose another --out")
    if existing is not None and not os.access(existing, os.W_OK):
        raise CdbError(f"{existing}: not writable; choose another --out")


def drift_cause(folder: Path) -> str:
    """Why a committed folder differs from a fresh render: edited by hand after the last render, or as
    the last render left it while the code or config changed since (its recorded digest tells)."""
    files = read_tree(folder)
    recorded = recorded_digest(files.get(KUSTOMIZATION))
    if recorded is None:
        return "unknown"
    return "code" if recorded == content_digest(files) else "hand-edit"


def write_tree(files: dict[str, str], folder: Path) -> None:
    """Replace `folder` with exactly `files`, atomically."""
    check_target(folder)
    parent = folder.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CdbError(f"{parent}: cannot create the folder: {exc.strerror}; choose another --out") from None
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.render-", dir=parent))
    retired: Path | None = None
    try:
        for rel, text in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        staging.chmod(0o755)  # mkdtemp makes it private; the output is ordinary repository content
        if folder.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=parent))
            os.replace(folder, retired / folder.name)
        try:
            os.replace(staging, folder)
        except BaseException:
            if retired is not None:
                os.replace(retired / folder.name, folder)  # put the old output back
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)
