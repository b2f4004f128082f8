"""Real servers on loopback for the event tests: nats-server with JetStream and redis-server.

A missing binary fails the test with the fix, it never skips: CI installs both
(`scripts/ensure-test-servers.sh`), and a skipped fault test would pass the migration unseen.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cdb_cli import main
from cdb_ops.events import SchemaRegistry, new_event
from cdb_ops.events.defaults import stream_for_schemas
from cdb_ops.events.localservers import NatsServer, RedisServer, ServerMissing


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    try:
        server = NatsServer(tmp_path / "nats-work")
    except ServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    try:
        server = RedisServer(tmp_path / "redis-work")
    except ServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def registry() -> SchemaRegistry:
    return SchemaRegistry()


@pytest.fixture
def spec(registry: SchemaRegistry):
    return stream_for_schemas(registry, "TEST_EVENTS")


def order_created(n: int, key: str | None = None, **data):
    body = {"order_id": f"o-{n}", "customer_id": f"c-{n % 7}", "amount": float(n), "currency": "EUR", **data}
    return new_event("orders.created", 1, body, source="shop", key=key or f"o-{n % 5}", id=f"evt-{n:06d}")


def payment_captured(n: int):
    body = {"payment_id": f"p-{n}", "order_id": f"o-{n}", "amount": 10.0 + n, "currency": "EUR"}
    return new_event("payments.captured", 1, body, source="payments", key=f"o-{n % 5}", id=f"pay-{n:06d}")


def write_jsonl(path: Path, events) -> Path:
    path.write_text("".join(json.dumps(e.to_dict()) + "\n" for e in events), encoding="utf-8")
    return path


def cdb(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err
