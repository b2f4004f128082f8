"""The Redis side of the migration: the dual-write writer, and what compare reads back.

Redis is the transport being retired, so it must never slow down or stop the bus: the writer runs
as a background task fed by a bounded queue, and the publisher never waits for it. What it writes
is exactly what JetStream (the authoritative side) acknowledged, in stream order:

- Writes are idempotent: each destination has a companion set `<destination>:ids` of the event ids
  it carries, and one script per batch adds an event only if its id is new (`SADD` then `XADD`), so
  a re-run, a retry or a backfill never adds an event twice.
- Nothing is dropped by an outage: before a batch goes to JetStream the publisher's ledger gets a
  mark "Redis may lack events from stream sequence N on". When Redis fails (refused, timeout, queue
  full) the writer stops writing live events and, once Redis answers again, backfills it from the
  JetStream stream from the mark on, in stream order, before it goes live again. The mark is cleared
  only when Redis holds everything; a run that ends (or dies) earlier leaves it for the next run or
  `cdb events drain`.
- Pub/Sub: a PUBLISH that reached no subscriber is counted as not delivered, and its id is not
  marked as carried (a later backfill or re-run may deliver it).
- A command Redis refuses for one event (e.g. the key holds another type) is counted as failed and
  the event is written to the dead-letter file with the reason: not an outage, so it blocks nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from nats.errors import Error as NatsError
from redis.exceptions import RedisError

from cdb_ops.events.envelope import Event, EventError

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
# One round trip per batch, and one argument for the whole batch: per-argument packing in redis-py
# costs more than the write itself. KEYS come in pairs (destination, its id set); ARGV[1] is the mode,
# ARGV[2] the batch as records "<key pair> <id bytes> <payload bytes> <id><payload>". The reply is
# one status letter per event: w written, d already carried, n published to no subscriber, e refused
# (first error kept). Each command runs under pcall, so a refused command is reported for its event.
_WRITE_BATCH = """
local status, first_error = {}, ''
local blob, pos = ARGV[2], 1
while pos <= #blob do
  local _, head, pair, id_len, payload_len = string.find(blob, '^(%d+) (%d+) (%d+) ', pos)
  id_len, payload_len = tonumber(id_len), tonumber(payload_len)
  local id = string.sub(blob, head + 1, head + id_len)
  local payload = string.sub(blob, head + id_len + 1, head + id_len + payload_len)
  pos = head + id_len + payload_len + 1
  local key, ids = KEYS[tonumber(pair) * 2 - 1], KEYS[tonumber(pair) * 2]
  if redis.call('SADD', ids, id) == 0 then
    status[#status + 1] = 'd'
  else
    local reply
    if ARGV[1] == 'streams' then
      reply = redis.pcall('XADD', key, '*', 'id', id, 'event', payload)
    else
      reply = redis.pcall('PUBLISH', key, payload)
    end
    if type(reply) == 'table' and reply.err then
      if first_error == '' then first_error = reply.err end
      redis.call('SREM', ids, id)
      status[#status + 1] = 'e'
    elseif ARGV[1] == 'pubsub' and reply == 0 then
      redis.call('SREM', ids, id)
      status[#status + 1] = 'n'
    else
      status[#status + 1] = 'w'
    end
  end
end
return {table.concat(status), first_error}
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

    def ids_key(self, stream: str, destination: str) -> str:
        """The set of event ids a destination carries (Pub/Sub: those delivered to a subscriber)."""
        return f"{destination}:ids" if self.mode == "streams" else f"cdb:events:{stream}:pubsub:{destination}:ids"

    def identity(self) -> str:
        """Names the target in the ledger's marks (no password: the ledger is a plain file)."""
        from cdb_ops.events.defaults import redact

        return f"{redact(self.url)} {self.mode} {self.key or ''}"

    def client(self) -> aioredis.Redis:
        return aioredis.Redis.from_url(self.url, socket_timeout=self.timeout, socket_connect_timeout=self.timeout)


@dataclass
class RedisStats:
    written: int = 0
    duplicates: int = 0  # already carried (a re-run, a retry, a backfill)
    backfilled: int = 0  # written from the JetStream stream after an outage
    not_delivered: int = 0  # Pub/Sub: no subscriber received it
    failed: int = 0  # refused by Redis, or not carried when the publisher closed
    behind_from: int | None = None  # stream sequence from which Redis still lacks events (kept in the ledger)
    last_error: str = ""
    failed_ids: list[str] = field(default_factory=list)  # bounded sample, for the operator's report


# (stream sequence, event subject, event id, payload) of what JetStream stored, from a sequence on
StreamSource = Callable[[int], AsyncIterator[tuple[int, str, str, bytes]]]


class RedisWriter:
    """Background dual-write to Redis Streams (XADD) or Pub/Sub (PUBLISH), pipelined in batches.

    `mark(seq)` persists "Redis may lack events from seq on" (the ledger), `unmark(seq)` clears it;
    `source(seq)` reads JetStream from seq on for a backfill; `dead(event, reason)` sets an event aside.
    """

    def __init__(self, target: RedisTarget, stream: str, *, source: StreamSource,
                 mark: Callable[[int], None], unmark: Callable[[int], None],
                 dead: Callable[[Event, str], None], behind_from: int | None = None) -> None:  # fmt: skip
        self.target, self.stream = target, stream
        self.stats = RedisStats()
        self._source, self._mark, self._unmark, self._dead = source, mark, unmark, dead
        self._queue: list[tuple[int, Event]] = []  # (stream sequence, event), in stream order
        self._wake = asyncio.Event()
        self._client = target.client()
        self._script = self._client.register_script(_WRITE_BATCH)
        self._task: asyncio.Task[None] | None = None
        self._marked: int | None = behind_from  # the mark this writer holds in the ledger
        self._behind = behind_from is not None  # live events wait for a backfill from the mark
        self._offered_max = 0  # highest sequence offered: a backfill must reach it
        self._open = 0  # batches between expect() and offered(): their events are not offered yet
        self._busy = False  # a batch is being written
        self._destinations: dict[str, str] = {}
        self.stats.behind_from = behind_from

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="cdb-events-redis-writer")

    def expect(self, from_seq: int) -> None:
        """Called before events go to JetStream: any of them will have a sequence >= from_seq."""
        if self._marked is None:
            self._marked = from_seq
            self._mark(from_seq)
        self._open += 1

    def offered(self) -> None:
        """Every event of the batch announced by expect() was offered (or will never be)."""
        self._open -= 1

    def offer(self, stored: Sequence[tuple[int, Event]]) -> None:
        """Queue events JetStream stored, as (sequence, event), without waiting."""
        if not stored:
            return
        self._offered_max = max(self._offered_max, max(seq for seq, _ in stored))
        if self._behind:
            return  # the backfill reads them from JetStream, in order
        if len(self._queue) + len(stored) > self.target.queue_size:
            self._fall_behind("redis writer queue full (Redis too slow or down)")
            return
        self._queue.extend(stored)
        self._wake.set()

    async def close(self, timeout: float = 10.0) -> None:
        """Write what is queued and backfill (bounded by `timeout`), then stop. What Redis still
        lacks is counted as failed and stays marked in the ledger for the next run."""
        deadline = time.monotonic() + timeout
        while self._marked is not None and time.monotonic() < deadline:
            if not self._behind and not self._queue and not self._busy and not self._open:
                self._caught_up()
                break
            await asyncio.sleep(0.02)
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task], timeout=self.target.timeout * 2)
        if self._marked is not None:
            lacking = max(0, self._offered_max - self._marked + 1) if self._offered_max else 0
            self.stats.failed += lacking
            self.stats.behind_from = self._marked
            self.stats.last_error = self.stats.last_error or "publisher closed before Redis took every event"
            log.warning("redis lacks events from stream sequence %d on; the next run backfills them", self._marked)
        with contextlib.suppress(RedisError, OSError, asyncio.TimeoutError):
            await asyncio.wait_for(self._client.aclose(), self.target.timeout * 2)

    def _fall_behind(self, reason: str) -> None:
        if not self._behind:
            log.warning("redis dual-write paused, backfill from JetStream follows: %s", reason)
        self._behind = True
        self.stats.last_error = reason
        self.stats.behind_from = self._marked
        self._queue.clear()

    async def _run(self) -> None:
        while True:
            if self._behind:
                await self._backfill()
                continue
            if not self._queue:
                if self._marked is not None and not self._open:
                    self._caught_up()
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = self._queue[:_BATCH]
            del self._queue[:_BATCH]
            self._busy = True
            try:
                rows = [(seq, e.subject, e.id, e.to_json(), e) for seq, e in batch]
                await self._write(rows)
            except (RedisError, OSError, asyncio.TimeoutError) as exc:
                self._fall_behind(f"{type(exc).__name__}: {exc}")
            finally:
                self._busy = False

    def _caught_up(self) -> None:
        assert self._marked is not None
        self._unmark(self._marked)
        self._marked = None
        self.stats.behind_from = None

    async def _probe(self) -> None:
        """PING over a connection of our own: a hung server (accepting, never answering) must not
        take redis-py's pool with it, and the probe must end when the writer is cancelled."""
        url = urlsplit(self.target.url)
        writer = None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(url.hostname or "127.0.0.1", url.port or 6379), self.target.timeout)
            writer.write(b"PING\r\n")
            answer = await asyncio.wait_for(reader.readline(), self.target.timeout)
        finally:
            if writer is not None:
                writer.close()
        if not answer.startswith((b"+PONG", b"-NOAUTH")):  # a password is checked by the real client
            raise OSError(f"redis answered {answer[:60]!r} to PING")

    async def _backfill(self) -> None:
        """Wait for Redis, then copy JetStream from the mark on, in order, until live again."""
        assert self._marked is not None
        try:
            await self._probe()
            done = self._marked - 1
            rows: list[tuple[int, str, str, bytes, Event | None]] = []
            async for seq, subject, event_id, payload in self._source(self._marked):
                rows.append((seq, subject, event_id, payload, None))
                if len(rows) >= _BATCH:
                    await self._write(rows, backfill=True)
                    done, rows = rows[-1][0], []
            if rows:
                await self._write(rows, backfill=True)
                done = rows[-1][0]
        except (RedisError, OSError, asyncio.TimeoutError) as exc:
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            await asyncio.sleep(0.5)
            return
        except (EventError, NatsError) as exc:  # JetStream unreachable: try again later
            self.stats.last_error = f"backfill: {exc}"
            await asyncio.sleep(0.5)
            return
        if done >= self._offered_max and not self._open:  # no await since the read ended
            self._behind = False
            self._caught_up()
        else:
            # A batch is still on its way to JetStream: read again shortly. The mark stays where it
            # is until Redis holds everything (the next pass skips what it already wrote).
            await asyncio.sleep(0.05)

    async def _write(self, rows: Sequence[tuple[int, str, str, bytes, Event | None]], backfill: bool = False) -> None:
        keys: dict[str, int] = {}
        records = []
        for _, subject, event_id, payload, _ in rows:
            where = self._destinations.get(subject)
            if where is None:
                where = self._destinations[subject] = self.target.destination(self.stream, subject)
            raw_id = event_id.encode()
            records += (b"%d %d %d " % (keys.setdefault(where, len(keys) + 1), len(raw_id), len(payload)), raw_id, payload)
        flat = [k for where in keys for k in (where, self.target.ids_key(self.stream, where))]
        call = self._script(keys=flat, args=[self.target.mode, b"".join(records)])
        status, error = await asyncio.wait_for(call, self.target.timeout * 2)
        status = status.decode() if isinstance(status, bytes) else status
        written = status.count("w")
        self.stats.written += written
        self.stats.backfilled += written if backfill else 0
        self.stats.duplicates += status.count("d")
        for row, letter in zip(rows, status):
            if letter == "n":
                self.stats.not_delivered += 1
                self._sample(row[2])
            elif letter == "e":
                text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
                self.stats.failed += 1
                self.stats.last_error = text
                self._sample(row[2])
                event = row[4] or Event.from_json(row[3], f"stream sequence {row[0]}")
                self._dead(event, f"redis refused: {text}")
        if "e" in status:
            log.warning("redis refused %d event(s): %s", status.count("e"), self.stats.last_error)

    def _sample(self, event_id: str) -> None:
        if len(self.stats.failed_ids) < 1000:
            self.stats.failed_ids.append(event_id)


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


_END_OF_WINDOW = b"cdb-events-tap: end of window"


class PubSubTap:
    """Records Pub/Sub traffic on channel patterns to a JSON-lines file while it runs."""

    def __init__(self, url: str, patterns: Sequence[str], out: Path | str) -> None:
        self.url, self.patterns, self.out = url, list(patterns), Path(out)
        self.count = 0
        self._client = aioredis.Redis.from_url(url)
        self._pubsub: Any = None
        self._task: asyncio.Task[None] | None = None
        self._caught_up = asyncio.Event()

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
            if message["type"] == "pong" and message["data"] == _END_OF_WINDOW:
                self._caught_up.set()
                continue
            if message["type"] != "pmessage":
                continue
            record = {"channel": message["channel"].decode(), "received": time.time(), "event": message["data"].decode()}
            self._file.write(json.dumps(record) + "\n")
            self.count += 1

    async def __aexit__(self, *exc: object) -> None:
        # Messages Redis pushed before now still belong to the window. A PING on the subscribed
        # connection is answered behind all of them, so its reply marks the end (no guessed sleep).
        with contextlib.suppress(RedisError, OSError, asyncio.TimeoutError):
            await self._pubsub.ping(_END_OF_WINDOW)
            await asyncio.wait_for(self._caught_up.wait(), 10)
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
