"""Appending to and verifying the audit chain in the store."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from cdb_stack.audit.records import GENESIS, RecordError, chain, decode, digest, encode
from cdb_stack.audit.spool import Spool
from cdb_stack.audit.store import LOCK_MODE, S3Store, StoreConflict, StoreUnavailable

_RECORD_KEY = re.compile(r"records/(\d{12})\.json$")
_CLAIM_ATTEMPTS = 5


def _head(store: S3Store) -> tuple[int, str]:
    """(seq, hash) of the last record, or (-1, GENESIS) for an empty log."""
    keys = store.list_keys()
    if not keys:
        return -1, GENESIS
    record = decode(store.get(keys[-1]), keys[-1])
    if digest(record) != record["hash"] or keys[-1] != store.key(record["seq"]):
        # Chaining onto a damaged head would hide the damage behind a valid-looking link.
        raise StoreUnavailable(f"{keys[-1]}: the newest record is damaged; run `cdb audit verify` and "
                               "investigate before writing more records")
    return record["seq"], record["hash"]


def drain(store: S3Store, spool: Spool) -> list[dict[str, Any]]:
    """Send every spooled record, oldest first. Each leaves the spool only after the store has it."""
    items = spool.pending()
    if not items:
        return []
    store.require_object_lock()
    seq, prev = _head(store)
    written = []
    for path, pending in items:
        for _attempt in range(_CLAIM_ATTEMPTS):
            record = chain(pending, seq + 1, prev)
            try:
                store.put_locked(store.key(record["seq"]), encode(record))
                break
            except StoreConflict:
                seq, prev = _head(store)  # someone else appended; link to their record instead
        else:
            raise StoreUnavailable(f"{store.settings.where}: could not claim sequence number {seq + 1} after "
                                   f"{_CLAIM_ATTEMPTS} attempts (concurrent writers)")
        spool.done(path)
        written.append(record)
        seq, prev = record["seq"], record["hash"]
    return written


@dataclass
class Verification:
    records: int = 0
    head_seq: int = -1
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def _check_lock(store: S3Store, key: str, now: datetime) -> str | None:
    mode, until = store.lock_of(key)
    if mode != LOCK_MODE or until is None or until <= now:
        return f"{key}: not under {LOCK_MODE} retention (mode {mode}, until {until}); the record can be deleted"
    return None


def _check_record(store: S3Store, key: str, expected_seq: int, prev_hash: str | None,
                  result: Verification) -> tuple[int, str | None]:
    """Check one record; returns the next expected seq and this record's hash (None if unreadable)."""
    key_seq = int(_RECORD_KEY.search(key).group(1))  # type: ignore[union-attr]
    if key_seq > expected_seq:
        missing = f"{expected_seq}" if key_seq == expected_seq + 1 else f"{expected_seq}..{key_seq - 1}"
        result.problems.append(f"gap: record(s) {missing} missing before {key}")
    try:
        record = decode(store.get(key), key)
    except RecordError as exc:
        result.problems.append(str(exc))
        return key_seq + 1, None
    if record["seq"] != key_seq:
        result.problems.append(f"{key}: holds record seq {record['seq']}: records were moved or reordered")
    if digest(record) != record["hash"]:
        result.problems.append(f"{key}: altered: content does not match its hash")
    if prev_hash is not None and record["prevHash"] != prev_hash:
        result.problems.append(f"{key}: prevHash does not match the record before it "
                               "(a record was removed, reordered or altered)")
    result.records += 1
    result.head_seq, result.head_hash = key_seq, record["hash"]
    return key_seq + 1, record["hash"]


def verify(store: S3Store, now: datetime | None = None) -> Verification:
    """Walk the chain from seq 0 and report every gap, reordering, alteration, overwrite and missing lock."""
    now = now or datetime.now(timezone.utc)
    result = Verification()
    keys = store.list_keys()
    versions = store.version_counts()
    for key in sorted(set(versions) - set(keys)):
        result.problems.append(f"{key}: hidden by a delete marker: the record was deleted from the listing")
    expected_seq, prev_hash = 0, GENESIS
    for key in keys:
        if not _RECORD_KEY.search(key):
            result.problems.append(f"{key}: not a record key; only cdb audit may write under the prefix")
            continue
        if versions.get(key, 1) > 1:
            result.problems.append(f"{key}: {versions[key]} versions: the record was overwritten")
        lock_problem = _check_lock(store, key, now)
        if lock_problem:
            result.problems.append(lock_problem)
        expected_seq, prev_hash = _check_record(store, key, expected_seq, prev_hash, result)
    return result
