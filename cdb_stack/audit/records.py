"""Audit records and their hash chain.

A record is one JSON object:

    {"schemaVersion": 1, "seq": 7, "prevHash": "sha256:<hex of record 6>", "kind": "merge",
     "recordedAt": "2026-11-25T17:00:00Z", "data": {...}, "hash": "sha256:<hex>"}

`hash` is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of every other field, so
changing any byte of a record breaks its own hash, and removing or reordering records breaks the
`prevHash` link of the next one. The first record links to GENESIS.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from cdb_stack.errors import CdbError

SCHEMA_VERSION = 1
KINDS = ("merge", "drift", "breakglass")
GENESIS = "sha256:" + "0" * 64
_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
_FIELDS = {"schemaVersion", "seq", "prevHash", "kind", "recordedAt", "data", "hash"}


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


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def digest(record: dict[str, Any]) -> str:
    body = {key: value for key, value in record.items() if key != "hash"}
    return "sha256:" + hashlib.sha256(canonical(body)).hexdigest()


@dataclass(frozen=True)
class Pending:
    """A record before it has a place in the chain: what `cdb audit` spools when the store is away."""

    kind: str
    recorded_at: str
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "recordedAt": self.recorded_at, "data": self.data}

    @classmethod
    def from_json(cls, raw: Any, where: str) -> "Pending":
        if not isinstance(raw, dict) or raw.get("kind") not in KINDS or not isinstance(raw.get("data"), dict) \
                or not isinstance(raw.get("recordedAt"), str):
            raise RecordError(f"{where}: not a pending audit record (kind, recordedAt, data)")
        return cls(raw["kind"], raw["recordedAt"], raw["data"])


def chain(pending: Pending, seq: int, prev_hash: str) -> dict[str, Any]:
    record = {"schemaVersion": SCHEMA_VERSION, "seq": seq, "prevHash": prev_hash, "kind": pending.kind,
              "recordedAt": pending.recorded_at, "data": pending.data}
    record["hash"] = digest(record)
    return record


def encode(record: dict[str, Any]) -> bytes:
    return canonical(record) + b"\n"


def decode(body: bytes, where: str) -> dict[str, Any]:
    """Parse a stored record and check its shape (not its hash: verify reports that separately)."""
    try:
        record = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"{where}: not JSON ({exc})") from exc
    if not isinstance(record, dict) or set(record) != _FIELDS:
        raise RecordError(f"{where}: fields differ from schema (expected {', '.join(sorted(_FIELDS))})")
    if record["schemaVersion"] != SCHEMA_VERSION:
        raise RecordError(f"{where}: schemaVersion {record['schemaVersion']!r} is not {SCHEMA_VERSION}")
    if not isinstance(record["seq"], int) or isinstance(record["seq"], bool) or record["seq"] < 0:
        raise RecordError(f"{where}: seq must be a non-negative integer")
    if not all(isinstance(record[k], str) and _HASH.match(record[k]) for k in ("prevHash", "hash")):
        raise RecordError(f"{where}: prevHash and hash must be sha256:<64 hex>")
    return record
