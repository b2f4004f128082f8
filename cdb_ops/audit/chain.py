"""Appending to and verifying the audit chain in the store."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cdb_ops.audit.records import GENESIS, Pending, RecordError, chain, decode, digest, encode, is_signed
from cdb_ops.audit.signing import Signer, signature_problem
from cdb_ops.audit.spool import Spool
from cdb_ops.audit.store import LOCK_MODE, S3Store, StoreConflict, StoreUnavailable

Keys = dict[str, Ed25519PublicKey]

_RECORD_KEY = re.compile(r"records/(\d{12})\.json$")
_CLAIM_ATTEMPTS = 5


def _head(store: S3Store, keys: Keys) -> tuple[int, str]:
    """(seq, hash) of the last record, or (-1, GENESIS) for an empty log."""
    listed = store.list_keys()
    if not listed:
        return -1, GENESIS
    record = decode(store.get(listed[-1]), listed[-1])
    if is_signed(record):
        forged = signature_problem(keys, record["keyId"], record["hash"], record["signature"])
    else:  # an unsigned (schema 1) record may only come before the first signed one
        forged = len(listed) > 1 and is_signed(decode(store.get(listed[-2]), listed[-2]))
    if digest(record) != record["hash"] or listed[-1] != store.key(record["seq"]) or forged:
        # Chaining onto a damaged or forged head would hide the damage behind a valid-looking link.
        raise StoreUnavailable(f"{listed[-1]}: the newest record is damaged or not signed by a trusted key; run "
                               "`cdb audit verify` and investigate before writing more records")
    return record["seq"], record["hash"]


def _landed(store: S3Store, pending: Pending) -> dict[str, Any] | None:
    """The stored record of `pending` if its last attempted put did land (crash or lost answer)."""
    if pending.attempt is None:
        return None
    key = store.key(pending.attempt)
    body = store.find(key)
    if body is None:
        return None
    try:
        record = decode(body, key)
    except RecordError:
        return None
    return record if record.get("recordId") == pending.record_id else None


def drain(store: S3Store, spool: Spool, signer: Signer, keys: Keys) -> list[dict[str, Any]]:
    """Send every spooled record, oldest first, exactly once (call under `spool.locked()`).

    Each record leaves the spool only after the store has it. Before each put the claimed sequence
    number is noted in the spool file; a later run finding the record stored there drops it instead
    of storing it a second time under another number."""
    items = spool.pending()
    if not items:
        return []
    store.require_object_lock()
    seq, prev = _head(store, keys)
    written = []
    for path, pending in items:
        record = _landed(store, pending)
        for _attempt in range(_CLAIM_ATTEMPTS):
            if record is not None:
                break
            pending = spool.mark_attempt(path, pending, seq + 1)
            candidate = chain(pending, seq + 1, prev, signer)
            try:
                store.put_locked(store.key(candidate["seq"]), encode(candidate))
                record = candidate
            except StoreConflict:
                # Ours, if a retry of a put whose answer was lost met our own record; else someone else's.
                record = _landed(store, pending)
                if record is None:
                    seq, prev = _head(store, keys)  # link to their record instead
        if record is None:
            raise StoreUnavailable(f"{store.settings.where}: could not claim sequence number {seq + 1} after "
                                   f"{_CLAIM_ATTEMPTS} attempts (concurrent writers)")
        spool.done(path)
        written.append(record)
        if record["seq"] > seq:
            seq, prev = record["seq"], record["hash"]
    return written


@dataclass
class Verification:
    records: int = 0
    head_seq: int = -1
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)
    signed_seen: bool = False
    unsigned_tail: list[str] = field(default_factory=list)  # schema 1 records not yet sealed by a signed one
    record_ids: dict[str, str] = field(default_factory=dict)

    @property
    def intact(self) -> bool:
        return not self.problems


def _check_lock(store: S3Store, key: str, now: datetime) -> str | None:
    mode, until = store.lock_of(key)
    if mode != LOCK_MODE or until is None or until <= now:
        return f"{key}: not under {LOCK_MODE} retention (mode {mode}, until {until}); the record can be deleted"
    return None


def _check_signature(key: str, record: dict[str, Any], keys: Keys, result: Verification) -> None:
    if not is_signed(record):
        if result.signed_seen:
            result.problems.append(f"{key}: unsigned (schema 1) record after signed records: forged")
        else:
            result.unsigned_tail.append(key)
        return
    problem = signature_problem(keys, record["keyId"], record["hash"], record["signature"])
    if problem:
        result.problems.append(f"{key}: {problem}")
        return
    result.signed_seen, result.unsigned_tail = True, []  # a valid signature seals every record it links to
    earlier = result.record_ids.setdefault(record["recordId"], key)
    if earlier != key:
        result.problems.append(f"{key}: record {record['recordId']} is already stored as {earlier}: sent twice")


def _check_record(store: S3Store, key: str, expected_seq: int, prev_hash: str | None, keys: Keys,
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
    _check_signature(key, record, keys, result)
    result.records += 1
    result.head_seq, result.head_hash = key_seq, record["hash"]
    return key_seq + 1, record["hash"]


def verify(store: S3Store, keys: Keys, now: datetime | None = None) -> Verification:
    """Walk the chain from seq 0 and report every gap, reordering, alteration, overwrite, missing lock,
    record not signed by a trusted key (a forged tail) and record stored twice."""
    now = now or datetime.now(timezone.utc)
    result = Verification()
    listed = store.list_keys()
    versions = store.version_counts()
    for key in sorted(set(versions) - set(listed)):
        result.problems.append(f"{key}: hidden by a delete marker: the record was deleted from the listing")
    expected_seq, prev_hash = 0, GENESIS
    for key in listed:
        if not _RECORD_KEY.search(key):
            result.problems.append(f"{key}: not a record key; only cdb audit may write under the prefix")
            continue
        if versions.get(key, 1) > 1:
            result.problems.append(f"{key}: {versions[key]} versions: the record was overwritten")
        lock_problem = _check_lock(store, key, now)
        if lock_problem:
            result.problems.append(lock_problem)
        expected_seq, prev_hash = _check_record(store, key, expected_seq, prev_hash, keys, result)
    if result.unsigned_tail:
        result.problems.append(f"{result.unsigned_tail[0]}..{result.unsigned_tail[-1]}: unsigned (schema 1) records "
                               "at the end of the log: anyone with write access could have appended them; the next "
                               "signed record seals them")
    return result
