"""Local spool: every record is written here first and removed only after the store accepted it, so an
unreachable store never loses a record. Files are named by creation time, so draining keeps order.

Location: `--spool-dir`, else CDB_AUDIT_SPOOL_DIR, else `$XDG_STATE_HOME/cdb/audit-spool`
(`~/.local/state/cdb/audit-spool`). On ephemeral CI runners point it at a cached or uploaded folder.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from cdb_stack.audit.records import Pending, RecordError
from cdb_stack.errors import CdbError


def default_spool_dir(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ if env is None else env)
    if env.get("CDB_AUDIT_SPOOL_DIR"):
        return Path(env["CDB_AUDIT_SPOOL_DIR"])
    state = Path(env["XDG_STATE_HOME"]) if env.get("XDG_STATE_HOME") else Path.home() / ".local" / "state"
    return state / "cdb" / "audit-spool"


class Spool:
    def __init__(self, directory: Path):
        self.directory = directory

    def add(self, pending: Pending) -> Path:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Nanosecond time plus a counter keeps names unique and sortable within one process.
            stamp = time.time_ns()
            while True:
                path = self.directory / f"{stamp:020d}-{pending.kind}.json"
                if not path.exists():
                    break
                stamp += 1
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(pending.to_json(), sort_keys=True) + "\n", encoding="utf-8")
            os.replace(tmp, path)  # atomic: a crash leaves a complete file or none
            return path
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
            except (OSError, json.JSONDecodeError) as exc:
                raise RecordError(f"{path}: spooled record is unreadable ({exc}); inspect and move it aside") from exc
            items.append((path, Pending.from_json(raw, str(path))))
        return items

    @staticmethod
    def done(path: Path) -> None:
        path.unlink(missing_ok=True)
