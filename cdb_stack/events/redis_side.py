"""The Redis side of the migration: the dual-write writer, and what compare reads back.

Redis is the transport being retired, so it must never slow down or stop the bus: the writer runs
as a background task fed by a bounded queue. A full queue, a refused connection or a timeout is
counted and logged, and the events concerned are reported as not carried by Redis (compare will
name them as missing), but the publisher never waits for Redis.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from cdb_stack.events.envelope import Event, EventError

log = logging.getLogger("cdb.events.redis")

DEFAULT_STREAM_KEY = "cdb:events:{stream}"
DEFAULT_CHANNEL = "{subject}"
_BATCH = 500
_READ_CHUNK = 10_000
# XRANGE replies nest every field, and redis-py parses each in Python (~45 us per entry). The script
# packs a chunk into one string of "<entry id> <byte length> <payload>" records instead.
_READ_PAYLOADS = """
local out, last = {}, ''
local entries = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[2])
for _, entry in ipairs(entries) do
  local payload, fields = '', entry[2]
  for j = 1, #fields, 2 do
    if fields[j] == 'event' then payload = fields[j + 1] end
  end
  out[#out + 1] = entry[1] .. ' ' .. #payload .. ' ' .. payload
  last = entry[1]
end
return {#entries, table.concat(out), last}
"""
# One round trip per batch: per-command packing and reply parsing in redis-py cost ~60 us per event,
# which would halve the dual-write rate. Each command runs under pcall, so a refused command is
# reported for its own event and the others are still written (Redis scripts never roll back).
_WRITE_BATCH = """
local written, refused, first_error = 0, {}, ''
for i = 2, #ARGV, 3 do
  local key = KEYS[tonumber(ARGV[i])]
  local reply
  if ARGV[1] == 'streams' then
    reply = redis.pcall('XADD', key, '*', 'id', ARGV[i + 1], 'event', ARGV[i + 2])
  else
    reply = redis.pcall('PUBLISH', key, ARGV[i + 2])
  end
  if type(reply) == 'table' and reply.err then
    if first_error == '' then first_error = reply.err end
    refused[#refused + 1] = tostring((i + 1) / 3)
  else
    written = written + 1
  end
end
local report = {first_error}
for _, index in ipairs(refused) do report[#report + 1] = index end
return {written, #refused, report}
"""


@dataclass(frozen=True)
class RedisTarget:
    """Where the dual-write puts each event on Redis. Templates know {stream} and {subject}."""

    url: str = "redis://127.0.0.1:6379/0"
    mode: Literal["streams", "pubsub"] = "streams"
    key: str | None = None  # stream key (streams) or channel (pubsub); default per mode
    timeout: float = 1.0  # seconds per Redis call; Redis may be slow, the bus may not wait for it
    queue_size: int = 100_000

    def destination(self, stream: str, subject: str) -> str:
        template = self.key or (DEFAULT_STREAM_KEY if self.mode == "streams" else DEFAULT_CHANNEL)
        return template.format(stream=stream, subject=subject)

    def client(self) -> aioredis.Redis:
        return aioredis.Redis.from_url(self.url, socket_timeout=self.timeout, socket_connect_timeout=self.timeout)


@dataclass
class RedisStats:
    written: int = 0
    failed: int = 0
    last_error: str = ""
    failed_ids: list[str] = field(default_factory=list)  # bounded sample, for the operator's report


class RedisWriter:
    """Background dual-write to Redis Streams (XADD) or Pub/Sub (PUBLISH), pipelined in batches."""

    def __init__(self, target: RedisTarget, stream: str) -> None:
        self.target, self.stream = target, stream
        self.stats = RedisStats()
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=target.queue_size)
        self._client = target.client()
        self._script = self._client.register_script(_WRITE_BATCH)
        self._task: asyncio.Task[None] | None = None
        self._down_until = 0.0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="cdb-events-redis-writer")

    def offer(self, event: Event) -> None:
        """Queue an event without waiting; a full queue counts as a Redis failure."""
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self._fail([event], "redis writer queue full (Redis too slow or down)")

    async def close(self, timeout: float = 10.0) -> None:
        """Write what is queued (bounded by `timeout`), then stop; leftovers are counted as failed."""
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except asyncio.TimeoutError:
            pass
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        leftovers = []
        while not self._queue.empty():
            leftovers.append(self._queue.get_nowait())
        self._fail(leftovers, "publisher closed before Redis took these events")
        await self._client.aclose()

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < _BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _write(self, batch: list[Event]) -> None:
        if time.monotonic() < self._down_until:
            self._fail(batch, f"Redis unavailable, retrying after back-off ({self.stats.last_error})")
            return
        keys: dict[str, int] = {}
        args: list[Any] = [self.target.mode]
        for event in batch:
            where = self.target.destination(self.stream, event.subject)
            args += (keys.setdefault(where, len(keys) + 1), event.id, event.to_json())
        try:
            written, failed, error = await asyncio.wait_for(self._script(keys=list(keys), args=args), self.target.timeout * 2)
        except (RedisError, OSError, asyncio.TimeoutError) as exc:
            self._down_until = time.monotonic() + 1.0
            self._fail(batch, f"{type(exc).__name__}: {exc}")
            return
        self.stats.written += written
        if failed:  # the script reports which commands Redis refused (e.g. a key of the wrong type)
            refused = [batch[int(i) - 1] for i in error[1:]]
            self._fail(refused, error[0].decode(errors="replace"))

    def _fail(self, events: Sequence[Event], reason: str) -> None:
        if not events:
            return
        self.stats.failed += len(events)
        self.stats.last_error = reason
        room = 1000 - len(self.stats.failed_ids)
        self.stats.failed_ids.extend(e.id for e in events[: max(0, room)])
        log.warning("redis dual-write failed for %d event(s): %s", len(events), reason)


async def read_stream(url: str, keys: Sequence[str], since_ms: int = 0, timeout: float = 5.0) -> list[bytes]:
    """Event payloads from Redis Streams, oldest first; several keys are merged by entry id."""
    client = aioredis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    script = client.register_script(_READ_PAYLOADS)
    entries: list[tuple[tuple[int, int], bytes]] = []
    try:
        for key in keys:
            start = f"{since_ms}-0"
            while True:
                count, blob, last = await script(keys=[key], args=[start, _READ_CHUNK])
                entries += _unpack(blob)
                if count < _READ_CHUNK:
                    break
                start = "(" + last.decode()
    except (RedisError, OSError) as exc:
        raise EventError(f"redis {url}: cannot read stream(s) {list(keys)} ({exc}); check --redis-url") from None
    finally:
        await client.aclose()
    entries.sort(key=lambda item: item[0])
    return [payload for _, payload in entries]


def _unpack(blob: bytes) -> list[tuple[tuple[int, int], bytes]]:
    out, pos = [], 0
    while pos < len(blob):
        first = blob.index(b" ", pos)
        second = blob.index(b" ", first + 1)
        end = second + 1 + int(blob[first + 1 : second])
        ms, seq = blob[pos:first].split(b"-")
        out.append(((int(ms), int(seq)), blob[second + 1 : end]))
        pos = end
    return out


class PubSubTap:
    """Records Pub/Sub traffic on channel patterns to a JSON-lines file while it runs."""

    def __init__(self, url: str, patterns: Sequence[str], out: Path | str) -> None:
        self.url, self.patterns, self.out = url, list(patterns), Path(out)
        self.count = 0
        self._client = aioredis.Redis.from_url(url)
        self._pubsub: Any = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> PubSubTap:
        try:
            self._pubsub = self._client.pubsub()
            await self._pubsub.psubscribe(*self.patterns)
        except (RedisError, OSError) as exc:
            raise EventError(f"redis {self.url}: cannot subscribe to {self.patterns} ({exc})") from None
        self._file = open(self.out, "a", encoding="utf-8")
        self._task = asyncio.create_task(self._record())
        return self

    async def _record(self) -> None:
        async for message in self._pubsub.listen():
            if message["type"] != "pmessage":
                continue
            record = {"channel": message["channel"].decode(), "received": time.time(), "event": message["data"].decode()}
            self._file.write(json.dumps(record) + "\n")
            self.count += 1

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.sleep(0.2)  # messages already on the socket still belong to the window
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._file.close()
        await self._pubsub.aclose()
        await self._client.aclose()


def read_tap(path: Path | str) -> list[bytes]:
    """Event payloads recorded by a PubSubTap, in arrival order."""
    try:
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line)["event"].encode() for line in handle if line.strip()]
    except OSError as exc:
        raise EventError(f"{path}: cannot read the Pub/Sub tap ({exc.strerror}); record one with `cdb events tap`") from None
    except (ValueError, KeyError) as exc:
        raise EventError(f"{path}: not a tap file ({exc!r}); record one with `cdb events tap`") from None
