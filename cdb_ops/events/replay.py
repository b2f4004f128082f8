"""`cdb events replay` and `cdb events compare`, as importable coroutines.

Replay reads a window of a stream (from a sequence or a time, optionally one subject) and writes
it as JSON lines or republishes it to another subject. Compare reads what Redis carried and replays
the same window from JetStream, then hands both to `compare.compare`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from cdb_ops.events import compare as diff
from cdb_ops.events.defaults import redact
from cdb_ops.events.envelope import EventError, utc_now
from cdb_ops.events.jetstream import connect, read_stream
from cdb_ops.events.redis_side import read_stream as read_redis_stream
from cdb_ops.events.redis_side import read_tap

REPLAY_HEADERS = ("Cdb-Replay-Of", "Cdb-Original-Subject", "Cdb-Event-Id")


def _line(msg: Any) -> dict[str, Any]:
    try:
        event: Any = json.loads(msg.data)
    except ValueError:
        event = msg.data.decode("utf-8", "replace")  # still replayed: the operator must see it
    return {"seq": msg.seq, "subject": msg.subject, "stored": msg.stored.isoformat(), "event": event}


async def replay(
    nats_url: str,
    stream: str,
    *,
    start_seq: int | None = None,
    start_time: datetime | None = None,
    subject: str | None = None,
    limit: int | None = None,
    out: IO[str] | None = None,
    to_subject: str | None = None,
) -> int:
    """Replay to `out` (JSON lines) or to `to_subject` (core NATS, provenance in headers)."""
    if (out is None) == (to_subject is None):
        raise EventError("replay: choose exactly one target, stdout (JSON lines) or --to-subject")
    nc = await connect(nats_url)
    count = 0
    try:
        async for msg in read_stream(nc, stream, start_seq=start_seq, start_time=start_time, subject=subject, limit=limit):
            if out is not None:
                out.write(json.dumps(_line(msg), separators=(",", ":")) + "\n")
            else:
                event_id = (msg.headers or {}).get("Nats-Msg-Id", "")
                headers = dict(zip(REPLAY_HEADERS, (f"{stream}:{msg.seq}", msg.subject, event_id)))
                await nc.publish(to_subject, msg.data, headers=headers)
            count += 1
        await nc.flush()
    finally:
        await nc.close()
    return count


async def compare_window(
    *,
    nats_url: str,
    stream: str,
    redis_url: str,
    redis_keys: Sequence[str] = (),
    tap_file: Path | str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    subject: str | None = None,
    slack: timedelta = timedelta(minutes=5),
) -> dict[str, Any]:
    """The audit report comparing Redis and JetStream over one window of event time."""
    if bool(redis_keys) == (tap_file is not None):
        raise EventError("compare: give the Redis side as --redis-key KEY (Redis Streams) or --redis-tap FILE")
    # Transport timestamps only pre-filter (with slack); the window itself is the events' own time.
    coarse = since - slack if since is not None else None
    if tap_file is not None:
        redis_read = asyncio.to_thread(read_tap, tap_file)
        source = f"pubsub tap {tap_file}"
    else:
        since_ms = max(0, int(coarse.timestamp() * 1000)) if coarse is not None else 0
        redis_read = read_redis_stream(redis_url, redis_keys, since_ms)
        source = f"stream {', '.join(redis_keys)}"

    async def jetstream_read() -> list[tuple[str, bytes]]:
        nc = await connect(nats_url)
        try:
            return [(f"seq {m.seq}", m.data) async for m in read_stream(nc, stream, start_time=coarse, subject=subject)]
        finally:
            await nc.close()

    # Both servers work at the same time; the client parses whichever answers.
    js_payloads, redis_payloads = await asyncio.gather(jetstream_read(), redis_read)
    js_rows, js_bad = diff.records(js_payloads, since, until, subject)
    redis_rows, redis_bad = diff.records(((f"entry {n}", p) for n, p in enumerate(redis_payloads)), since, until, subject)
    if not js_rows and not redis_rows:
        raise EventError(
            f"compare: no events in the window on either side (stream {stream}, {source}); nothing was "
            "compared, so nothing is accepted; check --stream, --redis-key/--redis-tap, --since/--until"
        )
    differences = [dict(d, side="jetstream") for d in js_bad] + [dict(d, side="redis") for d in redis_bad]
    differences += diff.compare(js_rows, redis_rows)
    return {
        "report": "cdb events compare",
        "format": 1,
        "generated_at": utc_now(),
        "window": {
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "subject": subject,
            "slack_seconds": slack.total_seconds(),
        },
        "jetstream": {"url": redact(nats_url), "stream": stream, "events": len(js_rows)},
        "redis": {"url": redact(redis_url), "source": source, "events": len(redis_rows)},
        "equal": not differences,
        "summary": diff.summary(differences),
        "differences": differences,
    }
