"""What every `cdb audit` write does: spool first, then send the spool in order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cdb_ops.audit.chain import drain
from cdb_ops.audit.records import Pending
from cdb_ops.audit.signing import load_signer, load_trusted_keys
from cdb_ops.audit.spool import Spool
from cdb_ops.audit.store import S3Store, StoreSettings, StoreUnavailable
from cdb_core.errors import CdbError


def default_store() -> S3Store:
    return S3Store(StoreSettings.from_env())


def submit(pending: list[Pending], spool: Spool,
           make_store: Callable[[], S3Store] = default_store) -> list[dict[str, Any]]:
    """Store the new records after any spooled earlier ones, holding the spool's lock throughout (so a
    second writer on the same spool neither sends them too nor takes them away). Returns what the store
    accepted, in order. On any failure the unsent records stay spooled and StoreUnavailable says where."""
    if not pending and not spool.exists():
        return []
    with spool.locked():
        for item in pending:
            spool.add(item)
        if not pending and not spool.pending():
            return []
        try:
            signer, keys = load_signer(), load_trusted_keys()
            if signer.key_id not in keys:
                raise CdbError(f"the audit signing key {signer.key_id} is not among the trusted public keys; add "
                               "its public line to keys/audit-signing.pub (or CDB_AUDIT_PUBLIC_KEYS)")
            return drain(make_store(), spool, signer, keys)
        except CdbError as exc:
            left = len(spool.pending())
            raise StoreUnavailable(f"{exc}; {left} record(s) kept in {spool.directory} and sent first, in order, "
                                   "on the next `cdb audit` run") from exc
