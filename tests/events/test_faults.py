"""Fault tests of the dual-write on real servers: sizes, refusals, re-runs after the duplicate window,
Redis outages, a spool that drains. Nothing lost, nothing duplicated, nothing one-sided."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import timedelta

import pytest
import redis

from components.streams import stream_spec
from cdb_ops.events import DualWritePublisher, RedisTarget, compare_window
from cdb_ops.events.jetstream import connect, read_stream
from cdb_ops.events.localservers import NatsServer

from .conftest import cdb, order_created, payment_captured, write_jsonl
from .dedupe_window import wait_until_jetstream_forgets_every_msg_id

pytestmark = pytest.mark.servers

KEY = "cdb:events:SHORT"


@pytest.fixture
def short(registry):
    """A stream that forgets Nats-Msg-Ids after one second."""
    return stream_spec(name="SHORT", subjects=registry.stream_subjects(), replicas=1, duplicate_window=timedelta(seconds=1))


def mixed(count: int, offset: int = 0):
    return [order_created(n) if n % 4 else payment_captured(n) for n in range(offset, offset + count)]


async def stored_ids(url: str, stream: str = "SHORT") -> list[str]:
    nc = await connect(url)
    try:
        return [json.loads(m.data)["id"] async for m in read_stream(nc, stream)]
    finally:
        await nc.close()


def redis_ids(url: str, key: str = KEY) -> list[str]:
    return [json.loads(fields[b"event"])["id"] for _, fields in redis.Redis.from_url(url).xrange(key)]


def run_publisher(spec, nats_url, redis_url, spool, batches, **options):
    async def run():
        target = RedisTarget(url=redis_url, timeout=0.3) if redis_url else None
        async with DualWritePublisher(spec, nats_url=nats_url, redis=target, spool_path=spool, **options) as pub:
            outcomes = []
            for batch in batches:
                outcomes += await pub.publish_many(batch)
        return pub, outcomes

    return asyncio.run(run())


def assert_same_on_both_sides(nats_url, redis_url, expected_ids, stream="SHORT", key=KEY):
    stored = asyncio.run(stored_ids(nats_url, stream))
    assert Counter(stored).most_common(1)[0][1] == 1, "an event is stored twice in JetStream"
    assert stored == expected_ids, "JetStream lost or reordered events"
    carried = redis_ids(redis_url, key)
    assert carried == expected_ids, "Redis lacks, repeats or reorders events"
    report = asyncio.run(compare_window(nats_url=nats_url, stream=stream, redis_url=redis_url, redis_keys=[key]))
    assert report["equal"], report["summary"]


def test_event_larger_than_the_servers_max_payload_refuses_the_whole_file(tmp_path, redis_server, capsys):
    nats = NatsServer(tmp_path / "small-nats", max_payload=4096).start()
    try:
        events = mixed(5)
        events[3] = order_created(3, note="x" * 300, customer_id="c-" + "y" * 5000)
        source = write_jsonl(tmp_path / "events.jsonl", events)
        args = ["--nats-url", nats.url, "--redis-url", redis_server.url, "--stream", "TEST_EVENTS"]
        code, out, err = cdb(capsys, "events", "publish", str(source), *args, "--spool", str(tmp_path / "spool"))
        assert code == 2 and out == ""
        assert len(err.strip().splitlines()) == 1
        assert f"events.jsonl: event 4: event '{events[3].id}': " in err
        assert "exceeds the server's max_payload of 4096 bytes" in err and "nothing was published" in err
        assert asyncio.run(stored_ids(nats.url, "TEST_EVENTS")) == []
        assert redis.Redis.from_url(redis_server.url).exists("cdb:events:TEST_EVENTS") == 0
    finally:
        nats.stop()


def test_event_larger_than_the_streams_max_msg_size_refuses_the_whole_file(nats_server, redis_server, spec, tmp_path, capsys):
    async def create_small_stream():
        nc = await connect(nats_server.url)
        config = spec.to_nats_config()
        config.max_msg_size = 1024
        await nc.jetstream().add_stream(config)
        await nc.close()

    asyncio.run(create_small_stream())
    events = mixed(6)
    events[5] = order_created(5, note="z" * 480, customer_id="c-" + "w" * 900)
    source = write_jsonl(tmp_path / "events.jsonl", events)
    args = ["--nats-url", nats_server.url, "--redis-url", redis_server.url, "--stream", "TEST_EVENTS"]
    code, _, err = cdb(capsys, "events", "publish", str(source), *args, "--spool", str(tmp_path / "spool"))
    assert code == 2 and "event 6:" in err and "exceeds the stream's max_msg_size of 1024 bytes" in err
    assert asyncio.run(stored_ids(nats_server.url, "TEST_EVENTS")) == []
    assert redis.Redis.from_url(redis_server.url).exists("cdb:events:TEST_EVENTS") == 0
    assert not (tmp_path / "spool").exists() or (tmp_path / "spool").stat().st_size == 0


def test_event_jetstream_refuses_goes_to_dead_letters_and_never_blocks_or_splits(nats_server, redis_server, short, tmp_path):
    """The stream's limit shrinks while the publisher runs: JetStream refuses one event for good."""
    events = mixed(40)
    events[12] = order_created(12, note="n" * 400)

    async def run():
        target = RedisTarget(url=redis_server.url)
        async with DualWritePublisher(short, nats_url=nats_server.url, redis=target, spool_path=tmp_path / "spool") as pub:
            nc = await connect(nats_server.url)
            info = await nc.jetstream().stream_info("SHORT")
            info.config.max_msg_size = 600
            await nc.jetstream().update_stream(info.config)
            await nc.close()
            outcomes = await pub.publish_many(events[:20])
            outcomes += await pub.publish_many(events[20:])
        return pub, outcomes

    pub, outcomes = asyncio.run(run())
    assert outcomes[12].dead and not outcomes[12].acked and not outcomes[12].spooled
    assert all(o.acked for i, o in enumerate(outcomes) if i != 12), "an event behind the refused one was held back"
    assert pub.spool.pending() == 0 and pub.stats.spooled == 0
    letters = pub.spool.dead_letters()
    assert [d["event"]["id"] for d in letters] == [events[12].id]
    assert letters[0]["side"] == "jetstream" and "maximum" in letters[0]["reason"]
    expected = [e.id for i, e in enumerate(events) if i != 12]
    assert_same_on_both_sides(nats_server.url, redis_server.url, expected)


def test_rerun_after_the_duplicate_window_stores_no_duplicate_on_either_side(nats_server, redis_server, short, tmp_path):
    events = mixed(300)
    run_publisher(short, nats_server.url, redis_server.url, tmp_path / "spool", [events[:200]])
    wait_until_jetstream_forgets_every_msg_id(nats_server.url, "SHORT")
    pub, outcomes = run_publisher(short, nats_server.url, redis_server.url, tmp_path / "spool", [events[:100], events[100:]])
    assert all(o.acked for o in outcomes) and sum(o.duplicate for o in outcomes) == 200
    assert pub.stats.redis.duplicates == 200 and pub.stats.redis.written == 100
    assert_same_on_both_sides(nats_server.url, redis_server.url, [e.id for e in events])


def test_rerun_without_the_ledger_is_checked_against_the_stream(nats_server, redis_server, short, tmp_path):
    """Another machine (no ledger) re-publishes after the window: the stream itself is read first."""
    events = mixed(120)
    run_publisher(short, nats_server.url, redis_server.url, tmp_path / "a" / "spool", [events[:80]])
    wait_until_jetstream_forgets_every_msg_id(nats_server.url, "SHORT")
    pub, outcomes = run_publisher(short, nats_server.url, redis_server.url, tmp_path / "b" / "spool", [events])
    assert [o.duplicate for o in outcomes] == [True] * 80 + [False] * 40
    assert pub.stats.redis.duplicates == 80 and pub.stats.redis.written == 40
    assert_same_on_both_sides(nats_server.url, redis_server.url, [e.id for e in events])


def test_spool_drained_after_the_window_skips_events_stored_before_the_ack_was_lost(nats_server, redis_server, short, tmp_path):
    """JetStream stored the first 30 of a spooled batch but the acks never came back (the
    connection broke): a drain much later must not store them again."""
    events = mixed(60)
    spool_path = tmp_path / "spool"
    run_publisher(short, nats_server.url, None, spool_path, [])  # creates the stream

    async def stored_without_ack():
        nc = await connect(nats_server.url)
        js = nc.jetstream()
        for event in events[:30]:
            await js.publish(event.subject, event.to_json(), headers={"Nats-Msg-Id": event.id})
        await nc.close()

    asyncio.run(stored_without_ack())
    from cdb_ops.events.spool import Spool

    Spool(spool_path).append(events)
    wait_until_jetstream_forgets_every_msg_id(nats_server.url, "SHORT")
    code_stats = run_publisher(short, nats_server.url, redis_server.url, spool_path, [])[0].stats
    assert code_stats.drained == 60 and code_stats.duplicates == 30
    assert_same_on_both_sides(nats_server.url, redis_server.url, [e.id for e in events])


def test_redis_outage_mid_run_is_backfilled_from_jetstream_in_order(nats_server, redis_server, short, tmp_path):
    events = mixed(900)

    async def run():
        target = RedisTarget(url=redis_server.url, timeout=0.3)
        async with DualWritePublisher(short, nats_url=nats_server.url, redis=target, spool_path=tmp_path / "spool") as pub:
            outcomes = await pub.publish_many(events[:300])
            deadline = time.monotonic() + 30
            while pub.stats.redis.written < 300:  # Redis has carried the first 300 before it goes down
                assert time.monotonic() < deadline, f"Redis carried only {pub.stats.redis.written} of 300"
                await asyncio.sleep(0.01)
            await asyncio.to_thread(redis_server.shutdown)  # refused connections from here on
            for start in range(300, 600, 50):
                outcomes += await pub.publish_many(events[start : start + 50])
            await asyncio.to_thread(redis_server.start)  # data saved at shutdown is loaded again
            outcomes += await pub.publish_many(events[600:])
        return pub, outcomes

    pub, outcomes = asyncio.run(run())
    assert all(o.acked for o in outcomes)
    assert pub.stats.redis.backfilled >= 300 and pub.stats.redis.behind_from is None and pub.stats.redis.failed == 0
    assert_same_on_both_sides(nats_server.url, redis_server.url, [e.id for e in events])


def test_redis_down_until_the_end_is_backfilled_by_cdb_events_drain(nats_server, redis_server, tmp_path, capsys):
    first, second = mixed(100), mixed(150, offset=100)
    servers = ["--nats-url", nats_server.url, "--redis-url", redis_server.url, "--stream", "TEST_EVENTS"]
    spool = ["--spool", str(tmp_path / "spool"), "--drain-timeout", "1"]
    assert cdb(capsys, "events", "publish", str(write_jsonl(tmp_path / "a.jsonl", first)), *servers, *spool)[0] == 0
    redis_server.pause()
    code, out, _ = cdb(capsys, "events", "publish", str(write_jsonl(tmp_path / "b.jsonl", second)), *servers, *spool)
    redis_server.resume()
    stats = json.loads(out)
    assert code == 1 and stats["acked"] == 150 and stats["redis"]["behind_from"] == 101
    code, out, _ = cdb(capsys, "events", "drain", *servers, "--spool", str(tmp_path / "spool"), "--drain-timeout", "30")
    assert code == 0, out
    assert json.loads(out)["redis"]["backfilled"] == 150
    assert_same_on_both_sides(nats_server.url, redis_server.url, [e.id for e in first + second],
                              stream="TEST_EVENTS", key="cdb:events:TEST_EVENTS")  # fmt: skip


def test_pubsub_publish_that_reached_no_subscriber_is_reported_not_delivered(nats_server, redis_server, tmp_path, capsys):
    source = write_jsonl(tmp_path / "events.jsonl", mixed(30))
    servers = ["--nats-url", nats_server.url, "--redis-url", redis_server.url, "--stream", "TEST_EVENTS"]
    code, out, _ = cdb(capsys, "events", "publish", str(source), *servers, "--redis-mode", "pubsub",
                       "--spool", str(tmp_path / "spool"))  # fmt: skip
    stats = json.loads(out)
    assert code == 1 and stats["acked"] == 30
    assert stats["redis"]["not_delivered"] == 30 and stats["redis"]["written"] == 0


def test_close_waits_for_jetstream_to_come_back_within_its_drain_timeout(nats_server, short, tmp_path):
    events = mixed(200)

    async def run():
        async with DualWritePublisher(short, nats_url=nats_server.url, spool_path=tmp_path / "spool", ack_timeout=0.5) as pub:
            await pub.publish_many(events[:50])
            await asyncio.to_thread(nats_server.kill)
            outcomes = await pub.publish_many(events[50:])
            assert all(o.spooled for o in outcomes)

            closing = asyncio.Event()

            async def close():
                closing.set()
                await pub.close(drain_timeout=20)

            closed = asyncio.create_task(close())
            await closing.wait()  # close is waiting for JetStream: only now does the server come back
            await asyncio.to_thread(nats_server.start)
            await closed
        return pub

    pub = asyncio.run(run())
    assert pub.spool.pending() == 0 and pub.stats.drained == 150
    assert asyncio.run(stored_ids(nats_server.url)) == [e.id for e in events]


def test_non_utf8_input_file_exits_2_with_one_line(tmp_path, capsys):
    source = tmp_path / "events.jsonl"
    source.write_bytes(json.dumps(order_created(1).to_dict()).encode() + b"\n" + b'{"id": "caf\xe9"}\n')
    code, out, err = cdb(capsys, "events", "publish", str(source), "--nats-url", "nats://127.0.0.1:1")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "events.jsonl:2: not UTF-8" in err and "Traceback" not in err


_PUBLISHER = """
import asyncio, sys
from datetime import timedelta
from components.streams import stream_spec
from cdb_ops.events import DualWritePublisher, RedisTarget, SchemaRegistry
from tests.events.test_faults import mixed

async def main(nats_url, redis_url, spool):
    registry = SchemaRegistry()
    spec = stream_spec(name="SHORT", subjects=registry.stream_subjects(), replicas=1, duplicate_window=timedelta(seconds=1))
    events = mixed(4000)
    async with DualWritePublisher(spec, nats_url=nats_url, redis=RedisTarget(url=redis_url), spool_path=spool,
                                  registry=registry) as pub:
        for start in range(0, len(events), 100):
            await pub.publish_many(events[start : start + 100])
            print(start, flush=True)

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.mark.parametrize("kill_after_batches", [3, 17, 31])
def test_publisher_killed_at_a_random_point_and_rerun_after_the_window_leaves_both_sides_equal(
    nats_server, redis_server, tmp_path, kill_after_batches
):
    import signal
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-c", _PUBLISHER, nats_server.url, redis_server.url, str(tmp_path / "spool")]
    first = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True)
    for _ in range(kill_after_batches):
        assert first.stdout is not None and first.stdout.readline(), "publisher ended early"
    first.send_signal(signal.SIGKILL)  # mid-batch: acks in flight, Redis behind, ledger not updated
    first.wait()
    first.stdout.close()
    stored = asyncio.run(stored_ids(nats_server.url))
    assert 0 < len(stored) < 4000
    # past the duplicate window: only the ledger and the stream can stop duplicates
    wait_until_jetstream_forgets_every_msg_id(nats_server.url, "SHORT")
    subprocess.run(command, cwd=root, check=True, stdout=subprocess.DEVNULL, timeout=120)
    assert_same_on_both_sides(nats_server.url, redis_server.url, [e.id for e in mixed(4000)])

