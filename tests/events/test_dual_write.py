"""Dual-write against real servers, then the replay comparison that accepts the migration."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

import pytest
import redis

from components.streams import stream_spec
from cdb_ops.events import DualWritePublisher, EventError, PubSubTap, RedisTarget, compare_window
from cdb_ops.events.jetstream import connect, read_stream

from .conftest import cdb, order_created, payment_captured, write_jsonl

pytestmark = pytest.mark.servers  # real nats-server and redis-server on loopback


KEY = "cdb:events:TEST_EVENTS"


def mixed(count: int):
    return [order_created(n) if n % 4 else payment_captured(n) for n in range(count)]


async def jetstream_ids(url: str, stream: str = "TEST_EVENTS") -> list[str]:
    nc = await connect(url)
    try:
        return [json.loads(m.data)["id"] async for m in read_stream(nc, stream)]
    finally:
        await nc.close()


def publish(spec, nats, redis_target, tmp_path, events, **options):
    async def run():
        async with DualWritePublisher(spec, nats_url=nats.url, redis=redis_target, spool_path=tmp_path / "spool", **options) as pub:
            outcomes = await pub.publish_many(events)
        return pub, outcomes

    return asyncio.run(run())


def test_dual_write_then_compare_exits_zero(nats_server, redis_server, tmp_path, capsys):
    source = write_jsonl(tmp_path / "events.jsonl", mixed(200))
    servers = ["--nats-url", nats_server.url, "--redis-url", redis_server.url, "--stream", "TEST_EVENTS"]
    code, out, err = cdb(capsys, "events", "publish", str(source), *servers, "--spool", str(tmp_path / "spool"))
    assert code == 0, err
    assert json.loads(out)["acked"] == 200 and json.loads(out)["redis"]["written"] == 200
    report_file = tmp_path / "report.json"
    code, out, _ = cdb(capsys, "events", "compare", *servers, "--redis-key", KEY, "--report", str(report_file))
    assert code == 0, out
    assert "JetStream 200 events, Redis (stream cdb:events:TEST_EVENTS) 200 events" in out and "verdict: EQUAL" in out
    report = json.loads(report_file.read_text())
    assert report["equal"] is True and report["differences"] == [] and report["jetstream"]["events"] == 200


def test_compare_names_each_planted_difference(nats_server, redis_server, spec, tmp_path, capsys):
    events = mixed(40)
    publish(spec, nats_server, RedisTarget(url=redis_server.url), tmp_path, events)
    client = redis.Redis.from_url(redis_server.url)
    carried = [fields[b"event"] for _, fields in client.xrange(KEY)]
    assert len(carried) == 40
    altered = json.loads(carried[10])
    altered["data"]["amount"] = 0.5
    planted = carried[:]
    planted[10] = json.dumps(altered).encode()
    planted[21], planted[26] = planted[26], planted[21]  # same ordering key (o-1), swapped
    planted.insert(16, planted[15])  # duplicated
    del planted[5]  # dropped
    client.delete(KEY)
    for payload in planted:
        client.xadd(KEY, {"event": payload})
    report_file = tmp_path / "report.json"
    args = ["--nats-url", nats_server.url, "--redis-url", redis_server.url, "--stream", "TEST_EVENTS"]
    code, out, _ = cdb(capsys, "events", "compare", *args, "--redis-key", KEY, "--report", str(report_file))
    assert code == 1
    ids = [e.id for e in events]
    assert f"missing: event {ids[5]} (orders.created, key o-0): in JetStream (seq 6) but not carried by Redis" in out
    assert f"altered: event {ids[10]} (orders.created, key o-0): Redis" in out and "differs in data.amount" in out
    assert f"duplicated: event {ids[15]} (orders.created, key o-0): carried 2 times on redis" in out
    reordered = [line for line in out.splitlines() if line.startswith("reordered:")]
    assert len(reordered) == 1 and (ids[21] in reordered[0] or ids[26] in reordered[0])
    report = json.loads(report_file.read_text())
    assert report["summary"] == {"missing": 1, "extra": 0, "altered": 1, "duplicated": 1, "reordered": 1, "unreadable": 0}


def test_pubsub_dual_write_recorded_by_a_tap_compares_equal_and_finds_a_gap(nats_server, redis_server, spec, tmp_path, capsys):
    tap_file = tmp_path / "tap.jsonl"
    events = mixed(120)

    async def run():
        async with PubSubTap(redis_server.url, ["orders.*", "payments.*"], tap_file) as tap:
            target = RedisTarget(url=redis_server.url, mode="pubsub")
            async with DualWritePublisher(spec, nats_url=nats_server.url, redis=target, spool_path=tmp_path / "s") as pub:
                await pub.publish_many(events)
        return tap.count

    assert asyncio.run(run()) == 120
    args = ["--nats-url", nats_server.url, "--redis-url", redis_server.url, "--stream", "TEST_EVENTS"]
    assert cdb(capsys, "events", "compare", *args, "--redis-tap", str(tap_file))[0] == 0
    lines = tap_file.read_text().splitlines()
    tap_file.write_text("\n".join(lines[:7] + lines[8:]) + "\n")
    code, out, _ = cdb(capsys, "events", "compare", *args, "--redis-tap", str(tap_file), "--format", "json")
    assert code == 1 and json.loads(out)["differences"][0]["id"] == events[7].id


def test_schema_invalid_event_is_refused_and_nothing_is_written(nats_server, redis_server, spec, tmp_path, capsys):
    events = mixed(5)
    events[2] = order_created(2, currency="GBP")
    source = write_jsonl(tmp_path / "events.jsonl", events)
    servers = ["--nats-url", nats_server.url, "--redis-url", redis_server.url, "--stream", "TEST_EVENTS"]
    code, _, err = cdb(capsys, "events", "publish", str(source), *servers, "--spool", str(tmp_path / "spool"))
    assert code == 2
    assert f"events.jsonl: event 3: event '{events[2].id}' (orders.created v1): $.data.currency: 'GBP' is not one of" in err
    assert "nothing was published" in err and redis.Redis.from_url(redis_server.url).exists(KEY) == 0

    async def refused_by_the_api():
        async with DualWritePublisher(spec, nats_url=nats_server.url, redis=RedisTarget(url=redis_server.url),
                                      spool_path=tmp_path / "spool") as pub:  # fmt: skip
            with pytest.raises(EventError, match=r"\$\.data\.currency"):
                await pub.publish(events[2])
        return pub.stats

    stats = asyncio.run(refused_by_the_api())
    assert stats.acked == 0 and stats.spooled == 0 and stats.redis.written == 0
    orders_only = stream_spec(name="ORDERS", subjects=["orders.v1.>"], replicas=1)
    publisher = DualWritePublisher(orders_only, nats_url=nats_server.url, spool_path=tmp_path / "s2")
    with pytest.raises(EventError, match=r"subject payments\.v1\.captured is not in stream ORDERS \(orders\.v1\.>\)"):
        publisher.check(payment_captured(1))


def test_hung_redis_is_counted_and_never_blocks_the_bus(nats_server, spec, tmp_path):
    """A Redis that accepts the connection and never answers. Its timeout is far longer than the test,
    so the writer's first call is still waiting when the publishing ends: every event acknowledged by
    then was published while Redis held the writer, which shows the bus never waits for Redis."""
    events = mixed(300)

    async def run():
        asked = asyncio.Event()
        held: list[asyncio.StreamWriter] = []

        async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            held.append(writer)
            if await reader.read(65536):
                asked.set()  # a Redis request arrived; it gets no reply
            while await reader.read(65536):
                pass

        hung = await asyncio.start_server(never_answer, "127.0.0.1", 0)
        target = RedisTarget(url=f"redis://127.0.0.1:{hung.sockets[0].getsockname()[1]}/0", timeout=120)
        pub = DualWritePublisher(spec, nats_url=nats_server.url, redis=target, spool_path=tmp_path / "s")
        await pub.start()
        try:
            outcomes = []
            for start in range(0, 300, 50):
                try:
                    outcomes += await asyncio.wait_for(pub.publish_many(events[start : start + 50]), 30)
                except asyncio.TimeoutError:
                    pytest.fail(f"publishing events {start}-{start + 49} waited for the hung Redis")
                if start == 0:  # from here on the writer waits on Redis, with no end in sight
                    await asyncio.wait_for(asked.wait(), 30)
            redis_meanwhile = (pub.stats.redis.written, pub.stats.redis.failed, pub.stats.redis.last_error)
        finally:
            await pub.close(drain_timeout=0)  # Redis still hangs: what it lacks is counted as failed
            for writer in held:
                writer.close()
            hung.close()
            await hung.wait_closed()
        return pub.stats, outcomes, redis_meanwhile

    stats, outcomes, redis_meanwhile = asyncio.run(run())
    assert all(o.acked for o in outcomes) and len(outcomes) == 300
    assert redis_meanwhile == (0, 0, ""), "Redis answered or failed before the publishing ended"
    assert stats.redis.failed == 300 and stats.redis.written == 0 and stats.redis.last_error
    assert asyncio.run(jetstream_ids(nats_server.url)) == [e.id for e in events]


def test_nats_killed_during_dual_write_and_restarted_keeps_every_event_exactly_once(nats_server, redis_server, spec, tmp_path):
    events = mixed(3000)

    async def run():
        target = RedisTarget(url=redis_server.url)
        async with DualWritePublisher(spec, nats_url=nats_server.url, redis=target, spool_path=tmp_path / "spool",
                                      ack_timeout=1.0, max_in_flight=256) as pub:  # fmt: skip

            killed = asyncio.Event()

            async def crash_and_restart():
                await asyncio.to_thread(nats_server.kill)  # SIGKILL while the next batches are in flight
                killed.set()
                deadline = time.monotonic() + 30
                while pub.stats.spooled == 0:  # the publisher has met the outage: only now does it end
                    assert time.monotonic() < deadline, "nothing was spooled while JetStream was down"
                    await asyncio.sleep(0.005)
                await asyncio.to_thread(nats_server.start)  # same port, same store directory

            chaos = None
            outcomes = []
            for start in range(0, len(events), 100):
                if chaos is None and pub.stats.acked >= 800:
                    chaos = asyncio.create_task(crash_and_restart())
                if start == 2000:  # the last third is published only once the server is down
                    await asyncio.wait_for(killed.wait(), 30)
                outcomes += await pub.publish_many(events[start : start + 100])
            assert chaos is not None
            await chaos
            deadline = time.monotonic() + 30
            while pub.spool.pending() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
        return pub.stats, outcomes

    stats, outcomes = asyncio.run(run())
    assert stats.spooled > 0 and stats.drained == stats.spooled, stats
    assert sum(o.acked for o in outcomes) + sum(o.spooled for o in outcomes) == 3000
    stored = asyncio.run(jetstream_ids(nats_server.url))
    assert Counter(stored).most_common(1)[0][1] == 1, "an event is stored twice"
    assert stored == [e.id for e in events], "events lost or out of order"
    report = asyncio.run(compare_window(nats_url=nats_server.url, stream="TEST_EVENTS", redis_url=redis_server.url,
                                        redis_keys=[KEY]))  # fmt: skip
    assert report["equal"], report["summary"]


def test_redis_refusing_writes_is_counted_per_event_while_jetstream_acks_all(nats_server, redis_server, spec, tmp_path):
    redis.Redis.from_url(redis_server.url).set(KEY, "not a stream")  # XADD now fails with WRONGTYPE
    pub, outcomes = publish(spec, nats_server, RedisTarget(url=redis_server.url), tmp_path, mixed(50))
    assert all(o.acked for o in outcomes)
    assert pub.stats.redis.failed == 50 and pub.stats.redis.written == 0
    assert pub.stats.redis.last_error.startswith("WRONGTYPE")
