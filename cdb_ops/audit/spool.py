"""Local spool: every record is written here first and removed only after the store accepted it, so an
unreachable store never loses a record. Files are named by creation time, so draining keeps order.

Location: `--spool-dir`, else CDB_AUDIT_SPOOL_DIR, else `$XDG_STATE_HOME/cdb/audit-spool`
(`~/.local/state/cdb/audit-spool`). On ephemeral CI runners point it at a cached or uploaded folder.

The default folder is shared by every `cdb audit` of a user, so writers take the spool's file lock
(`filelock`, released by the OS if the process dies) for adding and sending: one sender at a time,
and no record is read half-written or sent by two processes.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from cdb_ops.audit.records import Pending, RecordError
from cdb_core.errors import CdbError


def default_spool_dir(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ if env is None else env)
    if env.get("CDB_AUDIT_SPOOL_DIR"):
        return Path(env["CDB_AUDIT_SPOOL_DIR"])
    state = Path(env["XDG_STATE_HOME"]) if env.get("XDG_STATE_HOME") else Path.home() / ".local" / "state"
    return state / "cdb" / "audit-spool"


LOCK_TIMEOUT = 120.0  # seconds; a send of a full spool to a slow store takes far less
LOCK_FILE = ".lock"


class Spool:
    def __init__(self, directory: Path, lock_timeout: float = LOCK_TIMEOUT):
        self.directory = directory
        self.lock_timeout = lock_timeout

    def exists(self) -> bool:
        return self.directory.is_dir()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive use of the spool across processes (and threads)."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            lock = FileLock(self.directory / LOCK_FILE, timeout=self.lock_timeout)
            lock.acquire()
        except Timeout:
            raise CdbError(f"{self.directory}: another `cdb audit` has held the spool for {self.lock_timeout:.0f} s; "
                           "retry when it is done (records already spooled stay)") from None
        except OSError as exc:
            raise CdbError(f"{self.directory}: cannot lock the audit spool ({exc.strerror}); set --spool-dir or "
                           "CDB_AUDIT_SPOOL_DIR to a writable folder") from None
        try:
            yield
        finally:
            lock.release()

    def add(self, pending: Pending) -> Path:
        """Spool a new record (call under `locked()`). Names sort by time; the record id makes them unique."""
        path = self.directory / f"{time.time_ns():020d}-{pending.kind}-{pending.record_id}.json"
        self._write(path, pending)
        return path

    def mark_attempt(self, path: Path, pending: Pending, seq: int) -> Pending:
        """Note the sequence number about to be claimed, durably, before the put: after a crash the next
        sender looks there first, so a record that did land is not sent twice."""
        marked = Pending(pending.kind, pending.recorded_at, pending.data, pending.record_id, seq)
        self._write(path, marked)
        return marked

    def _write(self, path: Path, pending: Pending) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            with tmp.open("w", encoding="utf-8") as handle:
                handle.write(json.dumps(pending.to_json(), sort_keys=True, allow_nan=False) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)  # atomic: a crash leaves a complete file or none
        except OSError as exc:
            raise CdbError(f"{self.directory}: cannot write the audit spool ({exc.strerror}); "
                           "set --spool-dir or CDB_AUDIT_SPOOL_DIR to a writable folder") from exc

    def pending(self) -> list[tuple[Path, Pending]]:
        if not self.directory.is_dir():
            return []
        items = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise RecordError(f"{path}: spooled record is unreadable ({exc}); inspect and move it aside") from exc
            items.append((path, Pending.from_json(raw, str(path))))
        return items

    @staticmethod
    def done(path: Path) -> None:
        path.unlink(missing_ok=True)
