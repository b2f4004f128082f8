"""`cdb events cutover`: the migration is accepted only on an equal replay comparison, which goes to
the audit log; and the stack decides the replicas of the streams the tools create."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import redis

from cdb_cli import build_parser
from cdb_cli import events as events_cli
from cdb_ops.events.schemas import SchemaRegistry
from tests.delivery.conftest import audit_env, audit_signing_key, moto_endpoint, s3  # noqa: F401  (fixtures)

from .conftest import cdb, order_created, write_jsonl

ROOT = Path(__file__).resolve().parents[2]
KEY = "cdb:events:TEST_EVENTS"


def since() -> str:
    return (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()


def publish_both(capsys, nats_server, redis_server, tmp_path) -> list[str]:
    servers = ["--nats-url", nats_server.url, "--redis-url", redis_server.url, "--stream", "TEST_EVENTS"]
    source = write_jsonl(tmp_path / "events.jsonl", [order_created(n) for n in range(50)])
    assert cdb(capsys, "events", "publish", str(source), *servers, "--spool", str(tmp_path / "events.spool"))[0] == 0
    return servers


def stored_records(s3, bucket: str) -> list[dict]:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return [json.loads(s3.get_object(Bucket=bucket, Key=k)["Body"].read()) for k in keys]


@pytest.mark.servers
def test_cutover_is_refused_while_redis_and_jetstream_differ_and_nothing_is_recorded(
    nats_server, redis_server, tmp_path, capsys, audit_env, s3  # noqa: F811
):
    servers = publish_both(capsys, nats_server, redis_server, tmp_path)
    client = redis.Redis.from_url(redis_server.url)
    client.xdel(KEY, client.xrange(KEY)[7][0])
    code, out, _ = cdb(capsys, "events", "cutover", "--stack", "dev", "--cwd", str(ROOT), *servers,
                       "--redis-key", KEY, "--since", since())  # fmt: skip
    assert code == 1
    assert "missing: event evt-000007" in out and "cut-over refused" in out and "migrationPhase: jetstream" not in out
    assert stored_records(s3, audit_env["CDB_AUDIT_BUCKET"]) == []


@pytest.mark.servers
def test_cutover_on_an_equal_comparison_records_the_report_and_prints_the_phase_change(
    nats_server, redis_server, tmp_path, capsys, audit_env, s3, audit_signing_key  # noqa: F811
):
    servers = publish_both(capsys, nats_server, redis_server, tmp_path)
    code, out, err = cdb(capsys, "events", "cutover", "--stack", "dev", "--cwd", str(ROOT), *servers,
                         "--redis-key", KEY, "--since", since())  # fmt: skip
    assert code == 0, err
    assert "verdict: EQUAL" in out and "recorded the comparison in the audit log: seq" in out
    assert "commit this change to Pulumi.dev.yaml" in out and "migrationPhase: jetstream" in out
    [record] = stored_records(s3, audit_env["CDB_AUDIT_BUCKET"])
    assert record["kind"] == "cutover" and record["data"]["change"] == "events cutover" and record["data"]["stack"] == "dev"
    comparison = record["data"]["comparison"]
    assert comparison["equal"] is True and comparison["jetstream"]["events"] == 50 and comparison["redis"]["events"] == 50


def test_cutover_refuses_a_stack_that_is_not_in_the_dual_write_phase(capsys):
    code, _, err = cdb(capsys, "events", "cutover", "--stack", "prod", "--cwd", str(ROOT), "--redis-key", KEY,
                       "--since", since(), "--nats-url", "nats://127.0.0.1:1")  # fmt: skip
    assert code == 2 and "Pulumi.prod.yaml: cdb-infra:redis.migrationPhase is 'jetstream'" in err


def test_streams_the_tools_create_take_the_stacks_replicas_by_default(monkeypatch):
    registry = SchemaRegistry(ROOT / "schemas" / "events")

    def stream_of(*argv: str):
        monkeypatch.chdir(ROOT)
        args = build_parser("events").parse_args(["events", "publish", "x.jsonl", *argv])
        return events_cli._stream(args, registry)

    monkeypatch.setenv("CDB_STACK", "prod")
    assert stream_of().replicas == 3
    assert stream_of("--stack", "dev").replicas == 1
    monkeypatch.delenv("CDB_STACK")
    assert stream_of().replicas == 1 and stream_of("--replicas", "3").replicas == 3
