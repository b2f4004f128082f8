"""`cdb events replay` and the window and error handling of `cdb events compare`, on real servers."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone

import nats
import pytest

from cdb_ops.events import DualWritePublisher, RedisTarget
from cdb_ops.events.jetstream import connect, read_stream

from .conftest import cdb, order_created, payment_captured

pytestmark = pytest.mark.servers  # real nats-server and redis-server on loopback



async def last_stored(url: str, stream: str) -> datetime:
    nc = await connect(url)
    try:
        return [m.stored async for m in read_stream(nc, stream)][-1]
    finally:
        await nc.close()


def wait_until(condition, failure: str, seconds: float = 10.0) -> None:
    """Poll a state with a deadline (never a fixed sleep)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, failure
        time.sleep(0.001)


def publish(spec, nats_server, redis_server, tmp_path, events):
    async def run():
        target = RedisTarget(url=redis_server.url) if redis_server else None
        async with DualWritePublisher(spec, nats_url=nats_server.url, redis=target, spool_path=tmp_path / "spool") as pub:
            await pub.publish_many(events)

    asyncio.run(run())


def lines(out: str):
    return [json.loads(line) for line in out.splitlines()]


def test_replay_from_a_sequence_prints_json_lines(nats_server, spec, tmp_path, capsys):
    events = [order_created(n) for n in range(30)]
    publish(spec, nats_server, None, tmp_path, events)
    code, out, err = cdb(capsys, "events", "replay", "--nats-url", nats_server.url, "--stream", "TEST_EVENTS", "--from-seq", "11")
    assert code == 0 and "replayed 20 events" in err
    replayed = lines(out)
    assert [r["seq"] for r in replayed] == list(range(11, 31))
    assert [r["event"]["id"] for r in replayed] == [e.id for e in events[10:]]
    assert replayed[0]["subject"] == "orders.v1.created" and replayed[0]["event"] == events[10].to_dict()


def test_replay_from_a_time_with_a_subject_filter(nats_server, spec, tmp_path, capsys):
    publish(spec, nats_server, None, tmp_path, [order_created(n) for n in range(5)] + [payment_captured(5)])
    # A moment after the last stored message, and the clock past it before anything else is stored.
    moment = asyncio.run(last_stored(nats_server.url, "TEST_EVENTS")) + timedelta(microseconds=1)
    wait_until(lambda: datetime.now(timezone.utc) > moment, "the clock never passed the last stored message")
    middle = moment.isoformat()
    later = [order_created(n) for n in range(10, 14)] + [payment_captured(n) for n in range(14, 16)]
    publish(spec, nats_server, None, tmp_path, later)
    args = ["events", "replay", "--nats-url", nats_server.url, "--stream", "TEST_EVENTS", "--since", middle]
    code, out, _ = cdb(capsys, *args, "--subject", "payments.v1.>")
    assert code == 0 and [r["event"]["id"] for r in lines(out)] == [e.id for e in later[4:]]
    code, out, _ = cdb(capsys, *args, "--limit", "3")
    assert [r["event"]["id"] for r in lines(out)] == [e.id for e in later[:3]]


def test_replay_to_another_subject_republishes_with_provenance(nats_server, spec, tmp_path, capsys):
    events = [order_created(n) for n in range(12)]
    publish(spec, nats_server, None, tmp_path, events)
    received = []

    async def listen_while_replaying():
        nc = await nats.connect(nats_server.url)
        sub = await nc.subscribe("replay.orders")
        await nc.flush()
        code = await asyncio.to_thread(
            cdb, capsys, "events", "replay", "--nats-url", nats_server.url, "--stream", "TEST_EVENTS",
            "--to-subject", "replay.orders",
        )  # fmt: skip
        for _ in events:
            received.append(await sub.next_msg(timeout=5))
        await nc.close()
        return code

    assert asyncio.run(listen_while_replaying())[0] == 0
    assert [json.loads(m.data)["id"] for m in received] == [e.id for e in events]
    assert received[3].headers["Cdb-Replay-Of"] == "TEST_EVENTS:4"
    assert received[3].headers["Cdb-Event-Id"] == events[3].id
    assert received[3].headers["Cdb-Original-Subject"] == "orders.v1.created"


def test_compare_window_limits_both_sides_to_the_event_time(nats_server, redis_server, spec, tmp_path, capsys):
    inside = [order_created(n) for n in range(10)]
    outside = [order_created(n) for n in range(10, 14)]
    shifted = []
    for event in outside:  # events from an earlier hour, published by JetStream only: outside the window
        raw = event.to_dict()
        raw["time"] = "2026-01-01T09:00:00Z"
        shifted.append(type(event).from_dict(raw))
    publish(spec, nats_server, redis_server, tmp_path, inside)
    publish(spec, nats_server, None, tmp_path, shifted)
    args = ["events", "compare", "--nats-url", nats_server.url, "--redis-url", redis_server.url,
            "--stream", "TEST_EVENTS", "--redis-key", "cdb:events:TEST_EVENTS"]  # fmt: skip
    assert cdb(capsys, *args)[0] == 1  # whole history: the four JetStream-only events are missing on Redis
    code, out, _ = cdb(capsys, *args, "--since", inside[0].time, "--format", "json")
    assert code == 0 and json.loads(out)["jetstream"]["events"] == 10
    code, out, _ = cdb(capsys, *args, "--until", "2026-01-01T10:00:00Z", "--format", "json")
    assert code == 1 and json.loads(out)["summary"]["missing"] == 4


def test_compare_of_an_empty_window_fails_closed(nats_server, redis_server, spec, tmp_path, capsys):
    publish(spec, nats_server, redis_server, tmp_path, [order_created(1)])
    code, _, err = cdb(capsys, "events", "compare", "--nats-url", nats_server.url, "--redis-url", redis_server.url,
                       "--stream", "TEST_EVENTS", "--redis-key", "cdb:events:TEST_EVENTS", "--until", "2000-01-01T00:00:00Z")  # fmt: skip
    assert code == 2 and "no events in the window on either side" in err and "nothing is accepted" in err


def test_unknown_stream_and_unreachable_server_are_one_line_errors(nats_server, capsys):
    code, _, err = cdb(capsys, "events", "replay", "--nats-url", nats_server.url, "--stream", "NOPE")
    assert code == 2 and err.strip() == "cdb events: error: stream 'NOPE': not found on the server; check --stream"
    code, _, err = cdb(capsys, "events", "replay", "--nats-url", "nats://127.0.0.1:1", "--stream", "X")
    assert code == 2 and "cannot connect" in err and "check --nats-url" in err and "Traceback" not in err


def test_tap_command_records_pubsub_traffic_for_compare(redis_server, tmp_path, capsys):
    import threading

    import redis

    tap_file = tmp_path / "tap.jsonl"
    events = [order_created(n) for n in range(5)]

    delivered: list[int] = []

    def send_once_the_tap_listens():
        client = redis.Redis.from_url(redis_server.url)
        deadline = time.monotonic() + 10
        while client.pubsub_numpat() == 0:  # the tap's pattern subscription is not registered yet
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
        delivered.extend(client.publish(event.subject, event.to_json()) for event in events)

    sender = threading.Thread(target=send_once_the_tap_listens)
    sender.start()
    code, _, err = cdb(capsys, "events", "tap", "--redis-url", redis_server.url, "--pattern", "orders.*",
                       "--out", str(tap_file), "--duration", "1.0")  # fmt: skip
    sender.join()
    assert delivered == [1] * 5, "the tap never subscribed, or was gone before the events were sent"
    assert code == 0 and "recorded 5 messages" in err
    assert [json.loads(json.loads(line)["event"])["id"] for line in tap_file.read_text().splitlines()] == [e.id for e in events]


def test_tap_keeps_every_message_published_before_it_closes(redis_server, tmp_path):
    """The window ends when the tap closes: what Redis delivered until then is recorded, however much
    of it still waits unread on the socket (here all of it: the loop is busy while Redis delivers)."""
    import redis

    from cdb_ops.events import PubSubTap

    events = [order_created(n) for n in range(3000)]

    async def run():
        async with PubSubTap(redis_server.url, ["orders.*"], tmp_path / "tap.jsonl") as tap:
            with redis.Redis.from_url(redis_server.url).pipeline(transaction=False) as pipe:  # blocks the loop
                for event in events:
                    pipe.publish(event.subject, event.to_json())
                receivers = pipe.execute()
            unread = 3000 - tap.count
        return receivers, unread, tap.count

    receivers, unread, recorded = asyncio.run(run())
    assert receivers == [1] * 3000 and unread == 3000
    assert recorded == 3000
