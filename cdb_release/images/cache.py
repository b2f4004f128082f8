"""Blobs cached by digest. Only verified bytes are stored: `put` checks the digest first and writes
through a temporary file renamed into place, so a reader never sees a partial or unverified blob."""

from __future__ import annotations

import os
from pathlib import Path

from cdb_core.files import write_atomic
from cdb_stack.images.model import ImageError, check_digest, verify


def default_cache_dir() -> Path:
    if os.environ.get("CDB_IMAGE_CACHE"):
        return Path(os.environ["CDB_IMAGE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cdb" / "blobs"


class BlobCache:
    def __init__(self, root: Path | None):
        self.root = root  # None: no cache (every read goes to the source)

    def _path(self, digest: str) -> Path:
        assert self.root is not None
        algorithm, _, hexpart = check_digest(digest, "cache").partition(":")
        return self.root / algorithm / hexpart[:2] / hexpart

    def get(self, digest: str) -> bytes | None:
        if self.root is None:
            return None
        path = self._path(digest)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        # A cache file altered on disk is dropped, not trusted.
        try:
            verify(data, digest, "cache")
        except ImageError:
            path.unlink(missing_ok=True)
            return None
        return data

    def put(self, digest: str, data: bytes, where: str) -> bytes:
        verify(data, digest, where)
        if self.root is None:
            return data
        path = self._path(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data, temp_prefix=".blob.")
        return data
