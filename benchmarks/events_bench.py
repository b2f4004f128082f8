"""Benchmark of the event backbone tools against real local servers (issue 6, point 6).

    .venv/bin/python benchmarks/events_bench.py [--events 30000] [--compare-events 100000]

Starts nats-server (JetStream, file store) and redis-server on loopback, then measures in one run:
  raw JetStream publish    baseline: async publish with Nats-Msg-Id, 512 acks in flight, no validation
  dual-write               DualWritePublisher: schema validation, JetStream (acked), Redis Streams
  compare                  compare_window over N events already on both sides (read both + diff)
  validation               SchemaRegistry.validate (jsonschema-rs) against jsonschema's is_valid alone,
                           same events, no servers
Targets (2 cores): dual-write >= 5,000 acknowledged events/s; compare of 100,000 events < 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cdb_ops.events import DualWritePublisher, RedisTarget, SchemaRegistry, compare_window, new_event  # noqa: E402
from cdb_ops.events.defaults import stream_for_schemas  # noqa: E402
from cdb_ops.events.jetstream import connect, ensure_stream  # noqa: E402
from cdb_ops.events.localservers import NatsServer, RedisServer  # noqa: E402
from cdb_ops.events.jetstream import read_stream  # noqa: E402
from cdb_ops.events.redis_side import read_stream as read_redis_stream  # noqa: E402

BATCH = 1000


def make_events(count: int, offset: int = 0):
    return [
        new_event(
            "orders.created", 1,
            {"order_id": f"o-{n}", "customer_id": f"c-{n % 97}", "amount": n / 100, "currency": "EUR"},
            source="shop", key=f"o-{n % 500}", id=f"bench-{offset + n:08d}",
        )  # fmt: skip
        for n in range(count)
    ]


async def raw_publish(url: str, spec, events) -> float:
    nc = await connect(url)
    js = nc.jetstream(publish_async_max_pending=512)
    await ensure_stream(js, spec)
    payloads = [(e.subject, e.to_json(), e.id) for e in events]
    started = time.perf_counter()
    for start in range(0, len(payloads), 512):
        futures = [await js.publish_async(s, p, headers={"Nats-Msg-Id": i}) for s, p, i in payloads[start : start + 512]]
        await asyncio.gather(*futures)
    elapsed = time.perf_counter() - started
    await nc.close()
    return elapsed


async def dual_write(url: str, redis_url: str, spec, events, spool: Path) -> tuple[float, dict]:
    target = RedisTarget(url=redis_url)
    async with DualWritePublisher(spec, nats_url=url, redis=target, spool_path=spool) as pub:
        started = time.perf_counter()
        acked = 0
        for start in range(0, len(events), BATCH):
            outcomes = await pub.publish_many(events[start : start + BATCH])
            acked += sum(o.acked for o in outcomes)
        elapsed = time.perf_counter() - started
    stats = pub.stats.as_dict()
    if acked != len(events) or stats["redis"]["written"] != len(events):
        raise SystemExit(f"dual-write incomplete: {acked} acked, redis {stats['redis']}")
    return elapsed, stats


async def timed_compare(url: str, redis_url: str, stream: str) -> tuple[float, float, dict]:
    started, cpu = time.perf_counter(), time.process_time()
    report = await compare_window(nats_url=url, stream=stream, redis_url=redis_url, redis_keys=[f"cdb:events:{stream}"])
    return time.perf_counter() - started, time.process_time() - cpu, report


async def read_both(url: str, redis_url: str, stream: str, redis_key: str) -> tuple[float, float, list[bytes]]:
    """Baseline for compare: the two reads compare_window makes, at the same time, nothing parsed."""

    async def jetstream() -> list[bytes]:
        nc = await connect(url)
        try:
            return [m.data async for m in read_stream(nc, stream)]
        finally:
            await nc.close()

    started, cpu = time.perf_counter(), time.process_time()
    js, redis = await asyncio.gather(jetstream(), read_redis_stream(redis_url, [redis_key]))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if len(js) != len(redis):
        raise SystemExit(f"read baseline: JetStream {len(js)} events, Redis {len(redis)}")
    return elapsed, cpu, js


def other_spelling(payload: bytes) -> bytes:
    """The same event as another producer writes it: reversed key order, integral numbers without .0,
    non-ASCII escaped, spaces after separators."""
    def respell(value):
        if isinstance(value, dict):
            return {k: respell(v) for k, v in reversed(value.items())}
        return int(value) if isinstance(value, float) and value.is_integer() else value

    return json.dumps(respell(json.loads(payload)), ensure_ascii=True).encode()


async def write_other_producer(redis_url: str, key: str, payloads: list[bytes]) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    try:
        for start in range(0, len(payloads), BATCH):
            pipe = client.pipeline(transaction=False)
            for payload in payloads[start : start + BATCH]:
                pipe.xadd(key, {"event": other_spelling(payload)})
            await pipe.execute()
    finally:
        await client.aclose()


async def measure_compare(url: str, redis_url: str, stream: str) -> tuple[list[tuple[str, float, str]], float, dict]:
    """(rows, seconds of the plain compare, its report), baseline first, all in this run."""
    key = f"cdb:events:{stream}"
    read_s, read_cpu, js_payloads = await read_both(url, redis_url, stream, key)
    compare_s, compare_cpu, report = await timed_compare(url, redis_url, stream)
    await write_other_producer(redis_url, f"{key}:other", js_payloads)
    started, cpu = time.perf_counter(), time.process_time()
    other = await compare_window(nats_url=url, stream=stream, redis_url=redis_url, redis_keys=[f"{key}:other"])
    other_s, other_cpu = time.perf_counter() - started, time.process_time() - cpu
    if not other["equal"]:
        raise SystemExit(f"compare against another producer's spelling found differences: {other['summary']}")
    rows = [
        ("read both sides (compare baseline)", read_s, f"JetStream + Redis, nothing parsed; client CPU {read_cpu:.2f} s"),
        ("compare (read both sides + diff)", compare_s,
         f"{compare_s / read_s:.2f}x baseline (CPU {compare_cpu / read_cpu:.2f}x); target < 10 s"),
        ("compare, other producer's spelling", other_s,
         f"{other_s / read_s:.2f}x baseline (CPU {other_cpu / read_cpu:.2f}x); all equal (RFC 8785)"),
    ]
    return rows, compare_s, report


def measure_validation(registry: SchemaRegistry, count: int) -> list[tuple[str, float, str]]:
    """Validation alone: the registry's path (jsonschema-rs) against jsonschema (the message judge)."""
    from jsonschema import Draft202012Validator

    from cdb_ops.events.schemas import _FORMATS

    events = make_events(count)
    envelope = Draft202012Validator(registry.envelope, format_checker=_FORMATS)
    data = Draft202012Validator(registry.schemas[next(k for k in registry.schemas if str(k) == "orders.created v1")],
                                format_checker=_FORMATS)
    docs = [(e.to_dict(), e.data) for e in events]
    started = time.perf_counter()
    for doc, payload in docs:
        if not (envelope.is_valid(doc) and data.is_valid(payload)):
            raise SystemExit("benchmark event refused by jsonschema")
    judge_s = time.perf_counter() - started
    started = time.perf_counter()
    for event in events:
        registry.validate(event)
    ours_s = time.perf_counter() - started
    return [("validate: jsonschema (baseline)", judge_s, "envelope + data, is_valid"),
            ("validate: registry (jsonschema-rs)", ours_s, f"{judge_s / ours_s:.1f}x faster than the baseline")]


def row(name: str, events: int, seconds: float, note: str = "") -> str:
    return f"| {name:<34} | {events:>9,} | {seconds:>8.2f} | {events / seconds:>10,.0f} | {note} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=30_000, help="events for the publish measurements")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved raw/dual-write rounds (median ratio)")
    parser.add_argument("--compare-events", type=int, default=100_000, help="events for the compare measurement")
    args = parser.parse_args()
    registry = SchemaRegistry()
    raw_runs: list[float] = []
    dual_runs: list[float] = []
    with tempfile.TemporaryDirectory(prefix="cdb-events-bench-") as work:
        nats_server, redis_server = NatsServer(Path(work) / "nats").start(), RedisServer(Path(work) / "redis").start()
        try:
            # Interleaved rounds on fresh streams: each round pairs a raw run with a dual-write run
            # seconds apart, so a busy machine (other work on 2 cores) weighs on both alike; the
            # verdict is the median of the rounds' ratios.
            for round_ in range(args.rounds):
                offset = (round_ + 1) * 10_000_000
                raw_spec = stream_for_schemas(registry, f"BENCH_RAW{round_}")
                raw_runs.append(asyncio.run(raw_publish(nats_server.url, raw_spec, make_events(args.events, offset))))
                asyncio.run(_drop_stream(nats_server.url, raw_spec.name))
                spec = stream_for_schemas(registry, f"BENCH_DW{round_}")
                spool = Path(work) / f"spool{round_}"
                dual_runs.append(asyncio.run(dual_write(nats_server.url, redis_server.url, spec,
                                                        make_events(args.events, offset + 5_000_000), spool))[0])  # fmt: skip
                asyncio.run(_drop_stream(nats_server.url, spec.name))
            spec = stream_for_schemas(registry, "BENCH")
            asyncio.run(dual_write(nats_server.url, redis_server.url, spec, make_events(args.compare_events), Path(work) / "spool"))
            load = os.getloadavg()[0]
            compare_rows, compare_s, report = asyncio.run(measure_compare(nats_server.url, redis_server.url, "BENCH"))
        finally:
            nats_server.stop()
            redis_server.stop()
    if not report["equal"] or report["jetstream"]["events"] != args.compare_events:
        raise SystemExit(f"compare did not see {args.compare_events} equal events: {report['summary']}")
    ratios = sorted(r / d for r, d in zip(raw_runs, dual_runs))
    ratio = statistics.median(ratios)
    middle = min(range(len(ratios)), key=lambda i: abs(raw_runs[i] / dual_runs[i] - ratio))
    raw_s, dual_s = raw_runs[middle], dual_runs[middle]
    rounds = ", ".join(f"{r / d:.2f}x" for r, d in zip(raw_runs, dual_runs))
    print(f"cdb events benchmark: {os.cpu_count()} CPUs (load average {load:.1f} before compare), "
          f"nats-server + redis-server on loopback, same run; median of {args.rounds} interleaved rounds")
    print("| measurement                        |    events |  seconds |   events/s | note |")
    print("|------------------------------------|-----------|----------|------------|------|")
    print(row("raw JetStream publish (baseline)", args.events, raw_s, "no validation, no Redis"))
    print(row("dual-write, acknowledged", args.events, dual_s,
              f"{ratio:.2f}x of baseline (median; rounds: {rounds}); target >= 0.60x"))  # fmt: skip
    for name, seconds, note in compare_rows:
        print(row(name, args.compare_events, seconds, note))
    for name, seconds, note in measure_validation(registry, args.events):
        print(row(name, args.events, seconds, note))
    ok = ratio >= 0.6 and compare_s < 10
    print(f"targets {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


async def _drop_stream(url: str, name: str) -> None:
    nc = await connect(url)
    await nc.jetstream().delete_stream(name)  # frees its subjects for the dual-write stream
    await nc.close()


if __name__ == "__main__":
    raise SystemExit(main())
