"""The event tools and the stack read the same stream definitions (one typed source of truth)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdb_cli import main
from cdb_core.errors import CdbError
from cdb_ops.events.schemas import SchemaRegistry
from cdb_ops.events.stack_streams import stack_stream, stack_streams

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_stacks_event_stream_binds_every_versioned_subject_the_schemas_define(stack):
    spec = stack_stream(stack, "CDB_EVENTS", ROOT)
    registry = SchemaRegistry(ROOT / "schemas" / "events")
    assert set(registry.stream_subjects()) <= set(spec.subjects)


def test_replicas_follow_the_environment_as_the_stack_declares_them():
    assert {s.replicas for s in stack_streams("dev", ROOT)} == {1}
    assert {s.replicas for s in stack_streams("prod", ROOT)} == {3}
    assert stack_stream("prod", "AUDIT", ROOT).deny_purge


def test_an_unknown_stream_names_the_ones_the_stack_has():
    with pytest.raises(CdbError, match="its streams: AUDIT, CDB_EVENTS"):
        stack_stream("dev", "MISSING", ROOT)


def test_publish_with_an_unknown_stack_stream_is_an_input_error(tmp_path, capsys):
    events = tmp_path / "none.jsonl"
    events.write_text("")
    code = main(["events", "publish", str(events), "--stack", "dev", "--cwd", str(ROOT), "--stream", "MISSING",
                 "--schemas", str(ROOT / "schemas" / "events")])
    assert code == 2
    assert "declares no stream 'MISSING'" in capsys.readouterr().err
