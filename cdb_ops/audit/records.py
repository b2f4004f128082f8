"""Audit records and their hash chain.

A record is one JSON object:

    {"schemaVersion": 2, "seq": 7, "prevHash": "sha256:<hex of record 6>", "kind": "merge",
     "recordedAt": "2026-11-25T17:00:00Z", "data": {...}, "recordId": "<uuid>",
     "keyId": "ed25519:<16 hex>", "hash": "sha256:<hex>", "signature": "<base64 Ed25519>"}

`hash` is SHA-256 over the RFC 8785 canonical JSON of every field but `hash` and `signature`, so
changing any byte of a record breaks its own hash, and removing or reordering records breaks the
`prevHash` link of the next one. The first record links to GENESIS. `signature` is Ed25519 over the
hash (see signing.py): only the holder of the private key can append. `recordId` is given when the
record is spooled and makes sending idempotent. Schema 1 records (unsigned, hashed over sorted
`json.dumps`) are still read, but only before the first signed record.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


from cdb_core.canonical import canonical_bytes
from cdb_core.errors import CdbError

SCHEMA_VERSION = 2
LEGACY_VERSION = 1
KINDS = ("merge", "drift", "breakglass", "cutover")  # cutover: the migration phase change of clause 4.3
GENESIS = "sha256:" + "0" * 64
_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
_LEGACY_FIELDS = {"schemaVersion", "seq", "prevHash", "kind", "recordedAt", "data", "hash"}
_FIELDS = _LEGACY_FIELDS | {"recordId", "keyId", "signature"}
_UNHASHED = ("hash", "signature")


class RecordError(CdbError):
    """A stored record that cannot be read as an audit record."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str, where: str) -> datetime:
    """ISO 8601 with a zone (`2026-11-25T17:00:00Z` or `+01:00`); a time without zone is ambiguous."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise CdbError(f"{where}: `{text}` is not an ISO 8601 time; use e.g. 2026-11-25T17:00:00Z") from exc
    if moment.tzinfo is None:
        raise CdbError(f"{where}: `{text}` has no time zone; add `Z` for UTC or an offset like +01:00")
    return moment.astimezone(timezone.utc)


def canonical(value: Any, where: str = "audit record") -> bytes:
    """RFC 8785 (JCS) bytes: one form per JSON value, so any other writer computes the same hash."""
    return canonical_bytes(value, where, "fix the input (e.g. NaN or Infinity in the file)")


def _legacy_canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def digest(record: dict[str, Any]) -> str:
    body = {key: value for key, value in record.items() if key not in _UNHASHED}
    if record.get("schemaVersion") == LEGACY_VERSION:
        return "sha256:" + hashlib.sha256(_legacy_canonical(body)).hexdigest()
    try:
        return "sha256:" + hashlib.sha256(canonical(body)).hexdigest()
    except CdbError:  # a stored record that is not JSON-canonical cannot match any hash
        return "sha256:not-canonical"


@dataclass(frozen=True)
class Pending:
    """A record before it has a place in the chain: what `cdb audit` spools when the store is away."""

    kind: str
    recorded_at: str
    data: dict[str, Any]
    record_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    attempt: int | None = None  # the sequence number last tried: the put may have landed (see chain.drain)

    def __post_init__(self) -> None:
        canonical(self.data, f"{self.kind} record data")  # refuse NaN & co. before anything is spooled

    def to_json(self) -> dict[str, Any]:
        out = {"kind": self.kind, "recordedAt": self.recorded_at, "data": self.data, "recordId": self.record_id}
        if self.attempt is not None:
            out["attempt"] = self.attempt
        return out

    @classmethod
    def from_json(cls, raw: Any, where: str) -> "Pending":
        if not isinstance(raw, dict) or raw.get("kind") not in KINDS or not isinstance(raw.get("data"), dict) \
                or not isinstance(raw.get("recordedAt"), str) or not isinstance(raw.get("attempt", 0), int):
            raise RecordError(f"{where}: not a pending audit record (kind, recordedAt, data)")
        # A file spooled by an older cdb has no id: derive a stable one from its content.
        record_id = raw.get("recordId") or "spool-" + hashlib.sha256(_legacy_canonical(raw)).hexdigest()[:32]
        return cls(raw["kind"], raw["recordedAt"], raw["data"], str(record_id), raw.get("attempt"))


def chain(pending: Pending, seq: int, prev_hash: str, signer: Any) -> dict[str, Any]:
    record = {"schemaVersion": SCHEMA_VERSION, "seq": seq, "prevHash": prev_hash, "kind": pending.kind,
              "recordedAt": pending.recorded_at, "data": pending.data, "recordId": pending.record_id,
              "keyId": signer.key_id}
    record["hash"] = digest(record)
    record["signature"] = signer.sign(record["hash"])
    return record


def encode(record: dict[str, Any]) -> bytes:
    return canonical(record) + b"\n"


def is_signed(record: dict[str, Any]) -> bool:
    return record.get("schemaVersion") == SCHEMA_VERSION


def decode(body: bytes, where: str) -> dict[str, Any]:
    """Parse a stored record and check its shape (not its hash: verify reports that separately)."""
    try:
        record = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"{where}: not JSON ({exc})") from exc
    if not isinstance(record, dict) or record.get("schemaVersion") not in (LEGACY_VERSION, SCHEMA_VERSION):
        got = record.get("schemaVersion") if isinstance(record, dict) else None
        raise RecordError(f"{where}: schemaVersion {got!r} is not {SCHEMA_VERSION} (or {LEGACY_VERSION})")
    fields = _FIELDS if record["schemaVersion"] == SCHEMA_VERSION else _LEGACY_FIELDS
    if set(record) != fields:
        raise RecordError(f"{where}: fields differ from schema (expected {', '.join(sorted(fields))})")
    if not isinstance(record["seq"], int) or isinstance(record["seq"], bool) or record["seq"] < 0:
        raise RecordError(f"{where}: seq must be a non-negative integer")
    if not all(isinstance(record[k], str) and _HASH.match(record[k]) for k in ("prevHash", "hash")):
        raise RecordError(f"{where}: prevHash and hash must be sha256:<64 hex>")
    return record
