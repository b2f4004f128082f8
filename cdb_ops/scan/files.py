"""Which files a scan reads: the repository's files as Git sees them, and/or paths given on the command line."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

from cdb_core.errors import CdbError

# Files larger than this are listed as not scanned instead of read: a secret hides in config, not in
# multi-megabyte data files, and reading them would make CI slow.
MAX_BYTES = 5 * 1024 * 1024


def repository_root(start: Path) -> Path:
    try:
        out = subprocess.run(["git", "-C", str(start), "rev-parse", "--show-toplevel"],
                             check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise CdbError(f"{start}: not inside a Git repository; pass the paths to scan, e.g. `cdb scan deploy/`") from exc
    return Path(out.stdout.strip())


def repository_files(root: Path) -> list[Path]:
    """Tracked files plus untracked files Git does not ignore: a secret about to be added is caught
    before the commit, not after."""
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise CdbError(f"{root}: `git ls-files` failed; run `cdb scan` inside a Git checkout") from exc
    names = sorted({name for name in out.stdout.decode("utf-8", "surrogateescape").split("\0") if name})
    return [root / name for name in names]


def walk(paths: Iterable[Path]) -> list[Path]:
    """Every regular file under the given paths. Rendered output is not tracked, so no Git filter here."""
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            for directory, subdirs, files in os.walk(path):
                subdirs[:] = sorted(d for d in subdirs if d != ".git")
                found.extend(Path(directory) / name for name in sorted(files))
        else:
            raise CdbError(f"{path}: no such file or directory; give an existing file or folder to scan")
    return found


def display_path(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def read_text(path: Path) -> tuple[str | None, str | None]:
    """(text, None) for a text file, (None, None) for binary content, (None, why) when it cannot be read."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, f"larger than {MAX_BYTES // (1024 * 1024)} MiB"
        data = path.read_bytes()
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror})"
    if b"\0" in data[:8192]:
        return None, None
    return data.decode("utf-8", errors="replace"), None
