"""The dual-write publisher: JetStream is authoritative, Redis rides along.

Per event, in publish order:
1. the event is validated against its schemas and must fall under the stream's subjects;
2. it goes to JetStream with `Nats-Msg-Id` = event id (asynchronous publish, bounded in-flight acks);
   the caller's outcome says `acked` only after JetStream acknowledged it;
3. if JetStream is unreachable (disconnected, timeout, no responders) the event and every later one
   go to the local spool, which a background task drains in order once JetStream answers again;
   re-sent events carry the same Nats-Msg-Id, so JetStream stores each exactly once;
4. once the event is durable (acked, or fsync'ed in the spool) it is queued for Redis; Redis errors
   are counted in `stats.redis` and never delay step 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nats.errors import Error as NatsError

from components.streams import StreamSpec
from cdb_stack.events.envelope import Event, EventError
from cdb_stack.events.jetstream import DEFAULT_NATS_URL, connect, ensure_stream
from cdb_stack.events.redis_side import RedisStats, RedisTarget, RedisWriter
from cdb_stack.events.schemas import SchemaRegistry
from cdb_stack.events.spool import Spool

log = logging.getLogger("cdb.events.publisher")
MSG_ID = "Nats-Msg-Id"


@dataclass(frozen=True, slots=True)
class Outcome:
    event_id: str
    acked: bool  # JetStream acknowledged (stored, or recognised as a duplicate)
    seq: int | None = None
    duplicate: bool = False
    spooled: bool = False  # on local disk, to be drained into JetStream


@dataclass
class PublisherStats:
    acked: int = 0
    duplicates: int = 0
    spooled: int = 0
    drained: int = 0
    last_jetstream_error: str = ""
    redis: RedisStats = field(default_factory=RedisStats)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["redis"].pop("failed_ids")
        return out


class DualWritePublisher:
    """Use as `async with DualWritePublisher(spec, ...) as pub: await pub.publish(event)`."""

    def __init__(
        self,
        stream: StreamSpec,
        *,
        nats_url: str = DEFAULT_NATS_URL,
        redis: RedisTarget | None = None,
        spool_path: Path | str,
        registry: SchemaRegistry | None = None,
        max_in_flight: int = 512,
        ack_timeout: float = 2.0,
        create_stream: bool = True,
    ) -> None:
        self.spec, self.nats_url, self.redis_target = stream, nats_url, redis
        self.registry = registry or SchemaRegistry()
        self.spool = Spool(spool_path)
        self.max_in_flight, self.ack_timeout, self.create_stream = max_in_flight, ack_timeout, create_stream
        self.stats = PublisherStats()
        self._lock = asyncio.Lock()
        self._nc: Any = None
        self._js: Any = None
        self._redis: RedisWriter | None = None
        self._drainer: asyncio.Task[None] | None = None

    async def __aenter__(self) -> DualWritePublisher:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        self._nc = await connect(self.nats_url)
        self._js = self._nc.jetstream(timeout=self.ack_timeout, publish_async_max_pending=self.max_in_flight)
        await ensure_stream(self._js, self.spec, create=self.create_stream)
        if self.redis_target is not None:
            self._redis = RedisWriter(self.redis_target, self.spec.name)
            self._redis.start()
            self.stats.redis = self._redis.stats
        self._drainer = asyncio.create_task(self._drain_loop(), name="cdb-events-spool-drainer")

    async def close(self, drain_timeout: float = 10.0) -> None:
        if self._drainer is not None:
            self._drainer.cancel()
            await asyncio.gather(self._drainer, return_exceptions=True)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.drain_spool(), drain_timeout)
        if self._redis is not None:
            await self._redis.close()
        if self._nc is not None:
            with contextlib.suppress(NatsError, OSError, asyncio.TimeoutError):
                await asyncio.wait_for(self._nc.drain(), 5)
            await self._nc.close()

    def check(self, event: Event) -> Event:
        """Refuse an event that fails its schema or that this stream would not store."""
        self.registry.validate(event)
        if not self.spec.covers(event.subject):
            raise EventError(
                f"event {event.id!r}: subject {event.subject} is not in stream {self.spec.name} "
                f"({', '.join(self.spec.subjects)}); publish it to the stream of its domain"
            )
        return event

    async def publish(self, event: Event) -> Outcome:
        return (await self.publish_many([event]))[0]

    async def publish_many(self, events: Sequence[Event]) -> list[Outcome]:
        """Publish in order; the whole batch is refused (nothing written) if one event is invalid."""
        for event in events:
            self.check(event)
        async with self._lock:
            if self.spool.pending() and self._nc.is_connected:
                await self._drain_locked()
            if self.spool.pending() or not self._nc.is_connected:
                outcomes = self._to_spool(list(events))
            else:
                sent = await self._send(list(events))
                acked = [o for o in sent if o is not None]
                self.stats.acked += len(acked)
                self.stats.duplicates += sum(o.duplicate for o in acked)
                outcomes = acked + self._to_spool(list(events[len(acked) :]))
            if self._redis is not None:  # under the lock, so Redis sees the JetStream order
                for event in events:
                    self._redis.offer(event)
        return outcomes

    def _to_spool(self, events: list[Event]) -> list[Outcome]:
        self.spool.append(events)
        self.stats.spooled += len(events)
        return [Outcome(e.id, acked=False, spooled=True) for e in events]

    async def _send(self, events: list[Event]) -> list[Outcome | None]:
        """JetStream acks in order; None from the first failure on (those go to the spool)."""
        outcomes: list[Outcome | None] = [None] * len(events)
        for start in range(0, len(events), self.max_in_flight):
            window = events[start : start + self.max_in_flight]
            if not await self._send_window(window, outcomes, start):
                break
        return outcomes

    async def _send_window(self, window: list[Event], outcomes: list[Outcome | None], start: int) -> bool:
        """At most max_in_flight unacknowledged publishes; one deadline for the window's acks
        (a wait_for per publish or per ack would cost an extra task per event)."""
        futures: list[asyncio.Future[Any]] = []
        try:
            for event in window:
                futures.append(await self._js.publish_async(event.subject, event.to_json(), headers={MSG_ID: event.id}))
            await asyncio.wait(futures, timeout=self.ack_timeout)
            for index, future in enumerate(futures):
                if not future.done():
                    raise asyncio.TimeoutError(f"no JetStream ack within {self.ack_timeout}s")
                ack = future.result()
                outcomes[start + index] = Outcome(window[index].id, acked=True, seq=ack.seq, duplicate=bool(ack.duplicate))
            return True
        except (NatsError, OSError, asyncio.TimeoutError) as exc:
            self.stats.last_jetstream_error = f"{type(exc).__name__}: {exc}"
            log.warning("jetstream publish failed, spooling: %s", self.stats.last_jetstream_error)
            for future in futures:
                future.cancel()  # frees the in-flight slot; a late ack is harmless (same Nats-Msg-Id)
            return False

    async def drain_spool(self) -> int:
        """Send spooled events to JetStream in order; returns how many were acknowledged."""
        async with self._lock:
            return await self._drain_locked()

    async def _drain_locked(self) -> int:
        drained = 0
        if not self._nc or not self._nc.is_connected:
            return 0
        for chunk in self.spool.read(batch=self.max_in_flight):
            outcomes = await self._send([event for _, event in chunk])
            acked = outcomes.index(None) if None in outcomes else len(outcomes)
            self.stats.duplicates += sum(o.duplicate for o in outcomes[:acked] if o is not None)
            if acked:
                self.spool.acknowledge(chunk[acked - 1][0])
                drained += acked
                self.stats.drained += acked
            if acked < len(chunk):
                break
        return drained

    async def _drain_loop(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            if self.spool.pending() and self._nc.is_connected:
                try:
                    await self.drain_spool()
                except EventError as exc:  # a corrupt spool needs a human; keep publishing to it
                    self.stats.last_jetstream_error = str(exc)
                    log.error("%s", exc)
