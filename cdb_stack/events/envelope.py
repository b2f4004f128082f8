"""The event envelope: id, source, type, schema version, time, ordering key and data.

Wire form is canonical JSON (sorted keys, no spaces, UTF-8), so the same event has the same bytes,
and therefore the same content hash, on Redis and on JetStream. The subject is derived from the
envelope (`<domain>.v<N>.<name>`), never chosen separately, so a publisher cannot file a v2 event
under v1.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from cdb_stack.errors import CdbError

ENVELOPE_FIELDS = ("id", "source", "type", "schema_version", "time", "key", "data")


class EventError(CdbError):
    """An event that cannot be published or read: the message names the event and the fix."""


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(text: str, place: str = "time") -> datetime:
    """An RFC 3339 timestamp (a trailing Z is accepted) as an aware datetime."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, AttributeError):
        raise EventError(f"{place}: {text!r} is not an RFC 3339 time; use e.g. 2026-01-31T12:00:00Z") from None
    if parsed.tzinfo is None:
        raise EventError(f"{place}: {text!r} has no time zone; add Z or an offset such as +01:00")
    return parsed


@dataclass(frozen=True, slots=True)
class Event:
    """One event. `type` is '<domain>.<name>'; `key` orders events of one entity (default: source)."""

    id: str
    source: str
    type: str
    schema_version: int
    time: str
    data: dict[str, Any]
    key: str | None = None
    _wire: bytes = field(default=b"", repr=False, compare=False)

    @property
    def domain(self) -> str:
        return self.type.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.type.split(".", 1)[-1]

    @property
    def subject(self) -> str:
        return f"{self.domain}.v{self.schema_version}.{self.name}"

    @property
    def ordering_key(self) -> str:
        return self.key if self.key is not None else self.source

    def to_dict(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "schema_version": self.schema_version,
            "time": self.time,
            "data": self.data,
        }
        if self.key is not None:
            out["key"] = self.key
        return out

    def to_json(self) -> bytes:
        if not self._wire:
            object.__setattr__(self, "_wire", canonical_json(self.to_dict()))
        return self._wire

    def content_hash(self) -> str:
        return hashlib.sha256(self.to_json()).hexdigest()

    @classmethod
    def from_dict(cls, raw: Any, place: str = "event") -> Event:
        """Rebuild an event read from a transport; the shape is checked, the data schema is not."""
        if not isinstance(raw, dict):
            raise EventError(f"{place}: expected a JSON object with {', '.join(ENVELOPE_FIELDS)}")
        unknown = set(raw) - set(ENVELOPE_FIELDS)
        missing = {"id", "source", "type", "schema_version", "time", "data"} - set(raw)
        if unknown or missing:
            raise EventError(
                f"{place}: envelope fields wrong (missing: {sorted(missing)}, unknown: {sorted(unknown)}); "
                f"an envelope has exactly {', '.join(ENVELOPE_FIELDS)} (key optional)"
            )
        return cls(
            id=raw["id"],
            source=raw["source"],
            type=raw["type"],
            schema_version=raw["schema_version"],
            time=raw["time"],
            data=raw["data"],
            key=raw.get("key"),
        )

    @classmethod
    def from_json(cls, payload: bytes | str, place: str = "event") -> Event:
        try:
            raw = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise EventError(f"{place}: not JSON ({exc}); an event is one JSON object") from None
        return cls.from_dict(raw, place)


def new_event(
    type: str,
    schema_version: int,
    data: dict[str, Any],
    *,
    source: str,
    key: str | None = None,
    id: str | None = None,
    time: str | None = None,
) -> Event:
    """A fresh event with a random id and the current UTC time (validate it before publishing)."""
    return Event(
        id=id or str(uuid.uuid4()),
        source=source,
        type=type,
        schema_version=schema_version,
        time=time or utc_now(),
        data=data,
        key=key,
    )
