"""RFC 8785 (JCS) canonical JSON: one byte form per JSON value, so any other producer computes the same
hash and comparison. Shared by the audit log and the event tools; each names its own place and fix."""

from __future__ import annotations

from typing import Any

import rfc8785

from cdb_core.errors import CdbError


def canonical_bytes(value: Any, where: str, fix: str, error: type[CdbError] = CdbError) -> bytes:
    """The canonical bytes of `value`; a value without one (NaN, Infinity, integers beyond +-2**53) is
    `error` naming `where` and `fix`."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise error(f"{where}: {exc}; only finite numbers (integers within +-2**53) have one canonical JSON "
                    f"form; {fix}") from None
