"""The publisher's durable memory, kept next to the spool: which event ids JetStream stored, and from
which stream sequence on Redis may still lack events.

JetStream forgets a Nats-Msg-Id after the stream's duplicate window (2 minutes by default), and a
stream that denies delete and purge keeps a duplicate forever. So the publisher never relies on the
window alone: every acknowledged id is recorded here (SQLite, one row per id), and before publishing
the ledger is brought up to date from the stream itself (`synced_seq`: every message up to it has been
read or acknowledged to us), which catches events stored by a run that died before it could record
the ack, by another publisher, or from another machine. An id found here is not published again.

The ledger belongs to one stream incarnation: if the stream was deleted and re-created (another
creation time, or fewer messages than already read), its rows are dropped, since the new stream
holds none of those events.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from cdb_ops.events.envelope import EventError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS acked (stream TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL,
                                  PRIMARY KEY (stream, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS streams (stream TEXT PRIMARY KEY, created TEXT NOT NULL, synced_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS redis_marks (stream TEXT NOT NULL, target TEXT NOT NULL, from_seq INTEGER NOT NULL,
                                        PRIMARY KEY (stream, target));
"""
_CHUNK = 500  # ids per IN (...) query, well below SQLite's variable limit


class Ledger:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Several publishers may share one ledger (the default spool is shared): SQLite locks,
            # and WAL lets readers go on while one writes. An ack lost in a crash is found again
            # in the stream by `sync`, so commits need not wait for fsync.
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise EventError(f"{self.path}: unreadable publish ledger ({exc}); move it aside, it is rebuilt from the stream") from None

    def close(self) -> None:
        self.db.close()

    def bind(self, stream: str, created: str, last_seq: int) -> int:
        """Attach to the stream as it exists now; returns the sequence up to which the ledger is synced."""
        row = self.db.execute("SELECT created, synced_seq FROM streams WHERE stream = ?", (stream,)).fetchone()
        if row is not None and row[0] == created and row[1] <= last_seq:
            return int(row[1])
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("DELETE FROM acked WHERE stream = ?", (stream,))
            self.db.execute("DELETE FROM redis_marks WHERE stream = ?", (stream,))
            self.db.execute("INSERT OR REPLACE INTO streams VALUES (?, ?, 0)", (stream, created))
        return 0

    def synced_seq(self, stream: str) -> int:
        row = self.db.execute("SELECT synced_seq FROM streams WHERE stream = ?", (stream,)).fetchone()
        return int(row[0]) if row else 0

    def record(self, stream: str, acked: Iterable[tuple[str, int]], synced_seq: int | None = None) -> None:
        """Remember acknowledged (id, seq) pairs; optionally move the synced sequence forward."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany("INSERT OR IGNORE INTO acked VALUES (?, ?, ?)", ((stream, i, s) for i, s in acked))
            if synced_seq is not None:
                self.db.execute("UPDATE streams SET synced_seq = MAX(synced_seq, ?) WHERE stream = ?", (synced_seq, stream))

    def known(self, stream: str, ids: Sequence[str]) -> dict[str, int]:
        """The ids (with their stream sequence) JetStream already stored."""
        found: dict[str, int] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT id, seq FROM acked WHERE stream = ? AND id IN ({marks})", (stream, *chunk))
            found.update(rows)
        return found

    def redis_mark(self, stream: str, target: str) -> int | None:
        row = self.db.execute("SELECT from_seq FROM redis_marks WHERE stream = ? AND target = ?", (stream, target)).fetchone()
        return int(row[0]) if row else None

    def set_redis_mark(self, stream: str, target: str, from_seq: int) -> None:
        """From `from_seq` on, Redis may lack events of the stream (kept until cleared)."""
        with self.db:
            self.db.execute("INSERT INTO redis_marks VALUES (?, ?, ?) ON CONFLICT (stream, target) "
                            "DO UPDATE SET from_seq = MIN(from_seq, excluded.from_seq)", (stream, target, from_seq))

    def clear_redis_mark(self, stream: str, target: str, from_seq: int) -> None:
        """Redis has every event from `from_seq` on that this publisher acked (a lower mark, set by
        another publisher sharing the ledger, stays)."""
        with self.db:
            self.db.execute("DELETE FROM redis_marks WHERE stream = ? AND target = ? AND from_seq >= ?",
                            (stream, target, from_seq))
