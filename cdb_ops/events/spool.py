"""A local append-only spool for events JetStream could not take yet.

One JSON line per event (`{"subject": ..., "event": {...}}`), appended and fsync'ed before the caller
is told the event is spooled. A sidecar file `<spool>.offset` holds the byte offset up to which
JetStream has acknowledged; it is replaced atomically after each acknowledged batch. If the process
dies between a JetStream ack and the offset update, the next drain re-sends those events with the
same Nats-Msg-Id, and the publisher's ledger (or JetStream's duplicate window) drops them: nothing is
lost, nothing is stored twice.

Several publishers may share one spool (the default path is shared): every change of the files
(append, acknowledge, the reset to empty) happens under an exclusive `filelock` on `<spool>.lock`,
so an append from another process never falls between a size check and a truncation. A drain holds
the lock from reading a batch to acknowledging it.

Events JetStream refuses for good (not an outage: e.g. larger than the stream accepts) go to the
dead-letter file `<spool>.dead`, one JSON line with the reason each, and never block the spool.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock

from cdb_ops.events.envelope import Event, EventError, utc_now


class Spool:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.offset_path = self.path.with_name(self.path.name + ".offset")
        self.dead_path = self.path.with_name(self.path.name + ".dead")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = FileLock(self.path.with_name(self.path.name + ".lock"))
        with self.lock:
            self.path.touch(exist_ok=True)
            self._drop_torn_tail()
            size = self.path.stat().st_size
            # An offset beyond the end means a drain finished (file truncated) before the offset reset.
            if self.read_offset() > size:
                self._write_offset(0)

    def _drop_torn_tail(self) -> None:
        """Cut a partial last line left by a crash mid-append (its caller was never told "spooled")."""
        with open(self.path, "r+b") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                return
            handle.seek(max(0, size - 65536))
            tail = handle.read()
            if tail.endswith(b"\n"):
                return
            cut = tail.rfind(b"\n")
            if cut < 0 and len(tail) < size:
                raise EventError(f"{self.path}: last line longer than 64 KiB and torn; inspect the spool by hand")
            handle.truncate(size - len(tail) + cut + 1)

    def read_offset(self) -> int:
        try:
            return int(self.offset_path.read_text(encoding="ascii").strip() or 0)
        except FileNotFoundError:
            return 0
        except ValueError:
            raise EventError(f"{self.offset_path}: corrupt spool offset; inspect it, then delete it to re-drain") from None

    def _write_offset(self, offset: int) -> None:
        tmp = self.offset_path.with_name(self.offset_path.name + ".tmp")
        with open(tmp, "w", encoding="ascii") as handle:
            handle.write(str(offset))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.offset_path)

    def append(self, events: list[Event]) -> None:
        """Durably append events; they are on disk when this returns."""
        if not events:
            return
        lines = b"".join(
            b'{"subject":' + json.dumps(e.subject).encode() + b',"event":' + e.to_json() + b"}\n" for e in events
        )
        with self.lock, open(self.path, "ab") as handle:
            handle.write(lines)
            handle.flush()
            os.fsync(handle.fileno())

    def dead_letter(self, event: Event, reason: str, **context: Any) -> None:
        """Set an event aside for a human, with the reason; it is neither spooled nor sent."""
        record = {"time": utc_now(), "reason": reason, **context, "subject": event.subject, "event": event.to_dict()}
        with self.lock, open(self.dead_path, "ab") as handle:
            handle.write(json.dumps(record, separators=(",", ":")).encode() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())

    def dead_letters(self) -> list[dict[str, Any]]:
        try:
            with open(self.dead_path, encoding="utf-8") as handle:
                return [json.loads(line) for line in handle if line.strip()]
        except FileNotFoundError:
            return []

    def pending(self) -> int:
        """Bytes not yet acknowledged by JetStream (0 when the spool is drained)."""
        return max(0, self.path.stat().st_size - self.read_offset())

    def read(self, batch: int = 256) -> Iterator[list[tuple[int, Event]]]:
        """Batches of (end offset, event), in append order, from the acknowledged offset on."""
        with open(self.path, "rb") as handle:
            handle.seek(self.read_offset())
            chunk: list[tuple[int, Event]] = []
            for line in handle:
                if not line.endswith(b"\n"):
                    break  # a torn last line from a crash mid-append: its caller was never told "spooled"
                where = f"{self.path} at byte {handle.tell() - len(line)}"
                try:
                    event = Event.from_dict(json.loads(line)["event"], where)
                except (ValueError, KeyError, TypeError):
                    raise EventError(f"{where}: corrupt spool line; move the spool aside and inspect it") from None
                chunk.append((handle.tell(), event))
                if len(chunk) >= batch:
                    yield chunk
                    chunk = []
            if chunk:
                yield chunk

    def acknowledge(self, offset: int) -> None:
        """Record that everything up to `offset` is in JetStream; reset the files once all is.
        The size check and the truncation happen under the lock appends take, so an event appended
        by another process in between is never cut off."""
        with self.lock:
            if offset >= self.path.stat().st_size:
                with open(self.path, "r+b") as handle:
                    handle.truncate(0)
                    os.fsync(handle.fileno())
                offset = 0
            self._write_offset(offset)
