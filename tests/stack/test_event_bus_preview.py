"""Acceptance: `cdb preview` of the dev and prod stacks shows the event backbone with zero violations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cdb_cli import main

ROOT = Path(__file__).resolve().parents[2]
MINE = ("cdb:index:NatsJetStream", "cdb:index:RedisTransport", "cdb:index:KafkaCluster", "jetstream.nats.io", "kafka.strimzi.io")


@pytest.mark.parametrize(("stack", "redis_present"), [("dev", True), ("prod", False)])
def test_preview_shows_the_event_backbone_with_zero_violations(stack, redis_present, tmp_path, capsys):
    report = tmp_path / f"{stack}.json"
    code = main(["preview", "--stack", stack, "--cwd", str(ROOT), "--format", "json", "--output", str(report)])
    capsys.readouterr()
    data = json.loads(report.read_text())
    types = {r["type"] for r in data["resources"]}
    assert {"cdb:index:NatsJetStream", "kubernetes:jetstream.nats.io/v1beta2:Stream"} <= types
    assert ("cdb:index:RedisTransport" in types) is redis_present
    assert not any("kafka.strimzi.io" in t for t in types)  # off by default
    ours = [v for v in data["violations"] if any(mark in v["urn"] for mark in MINE)]
    assert ours == [], ours
    assert data["summary"]["violations"]["mandatory"] == 0 and code == 0
