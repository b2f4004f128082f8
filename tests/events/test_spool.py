"""The local outage spool: append-only, ordered, crash-safe."""

from __future__ import annotations

import pytest

from cdb_ops.events.envelope import EventError
from cdb_ops.events.spool import Spool

from .conftest import order_created


def drain_all(spool: Spool):
    return [event for chunk in spool.read(batch=3) for _, event in chunk]


def test_spooled_events_come_back_in_append_order(tmp_path):
    spool = Spool(tmp_path / "s")
    events = [order_created(n) for n in range(8)]
    spool.append(events[:5])
    spool.append(events[5:])
    assert [e.to_json() for e in drain_all(spool)] == [e.to_json() for e in events]


def test_acknowledged_prefix_is_not_read_again_and_full_drain_empties_the_files(tmp_path):
    spool = Spool(tmp_path / "s")
    spool.append([order_created(n) for n in range(6)])
    first_chunk = next(spool.read(batch=2))
    spool.acknowledge(first_chunk[-1][0])
    assert [e.id for e in drain_all(Spool(tmp_path / "s"))] == [order_created(n).id for n in range(2, 6)]
    last_offset = [offset for chunk in spool.read() for offset, _ in chunk][-1]
    spool.acknowledge(last_offset)
    assert spool.pending() == 0 and (tmp_path / "s").stat().st_size == 0 and drain_all(spool) == []


def test_torn_last_line_from_a_crash_is_dropped_on_open(tmp_path):
    spool = Spool(tmp_path / "s")
    spool.append([order_created(1), order_created(2)])
    with open(tmp_path / "s", "ab") as handle:
        handle.write(b'{"subject":"orders.v1.created","event":{"id":"half')
    reopened = Spool(tmp_path / "s")
    reopened.append([order_created(3)])
    assert [e.id for e in drain_all(reopened)] == [order_created(n).id for n in (1, 2, 3)]


def test_offset_left_behind_by_an_interrupted_reset_is_cleared(tmp_path):
    spool = Spool(tmp_path / "s")
    spool.append([order_created(1)])
    (tmp_path / "s.offset").write_text("999999")
    assert [e.id for e in drain_all(Spool(tmp_path / "s"))] == [order_created(1).id]


def test_corrupt_line_is_an_error_not_a_silent_skip(tmp_path):
    (tmp_path / "s").write_bytes(b"garbage\n")
    with pytest.raises(EventError, match="corrupt spool line"):
        drain_all(Spool(tmp_path / "s"))



_APPENDER = """
import sys
from cdb_ops.events.spool import Spool
from tests.events.conftest import order_created
spool = Spool(sys.argv[1])
for n in range(int(sys.argv[2]), int(sys.argv[3])):
    spool.append([order_created(n)])
"""


def test_events_appended_by_another_process_while_a_drain_empties_the_spool_are_never_lost(tmp_path):
    """Publishers share the default spool: four append while one drains it to empty."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    spool = Spool(tmp_path / "s")
    writers = [subprocess.Popen([sys.executable, "-c", _APPENDER, str(tmp_path / "s"), str(k * 500), str(k * 500 + 500)],
                                cwd=root) for k in range(4)]  # fmt: skip
    seen: list[str] = []
    while any(w.poll() is None for w in writers) or spool.pending():
        for chunk in spool.read(batch=50):
            seen += [event.id for _, event in chunk]
            spool.acknowledge(chunk[-1][0])  # empties the files once everything read is acknowledged
    assert all(w.returncode == 0 for w in writers)
    assert sorted(seen) == sorted(order_created(n).id for n in range(2000)), "appended events were lost or read twice"
