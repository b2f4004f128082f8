"""The dual-write publisher: JetStream is authoritative, Redis rides along.

Per event, in publish order:
1. the event is validated against its schemas, must fall under the stream's subjects and must fit the
   server's max_payload and the stream's max_msg_size (headers included);
2. an event whose id the ledger (kept with the spool) knows is not published again: JetStream stored
   it, whenever that was (the duplicate window only covers two minutes); it is offered to Redis
   again, which skips it if it carries it already;
3. it goes to JetStream with `Nats-Msg-Id` = event id (asynchronous publishes, bounded in-flight
   acks); the caller's outcome says `acked` only after JetStream acknowledged it, and the ack is
   recorded in the ledger;
4. if JetStream is unreachable (disconnected, timeout, no responders) the event and every later one
   go to the local spool, which a background task drains in order once JetStream answers again;
   if JetStream refuses one event for good (not an outage) it goes to the dead-letter file with the
   reason and the next event goes on: nothing blocks behind it;
5. once JetStream stored an event it is queued for Redis, with its stream sequence; Redis never
   delays step 3, and what Redis missed is backfilled from JetStream (see redis_side). An event
   JetStream refused never reaches Redis, so no event is left on one side only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nats.errors import Error as NatsError
from nats.errors import MaxPayloadError
from nats.js.errors import APIError, BadRequestError

from components.streams import StreamSpec
from cdb_ops.events.envelope import Event, EventError
from cdb_ops.events.jetstream import DEFAULT_NATS_URL, AckInbox, Limits, connect, ensure_stream, message_size, read_stream
from cdb_ops.events.ledger import Ledger
from cdb_ops.events.redis_side import RedisStats, RedisTarget, RedisWriter
from cdb_ops.events.schemas import SchemaRegistry
from cdb_ops.events.spool import Spool

log = logging.getLogger("cdb.events.publisher")
MSG_ID = "Nats-Msg-Id"


@dataclass(frozen=True, slots=True)
class Outcome:
    event_id: str
    acked: bool  # JetStream stored it (now, or earlier: duplicate)
    seq: int | None = None
    duplicate: bool = False
    spooled: bool = False  # on local disk, to be drained into JetStream
    dead: str = ""  # refused for good by JetStream: the reason (in the dead-letter file)


@dataclass
class PublisherStats:
    acked: int = 0
    duplicates: int = 0
    spooled: int = 0
    drained: int = 0
    dead_letters: int = 0
    last_jetstream_error: str = ""
    redis: RedisStats = field(default_factory=RedisStats)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["redis"].pop("failed_ids")
        return out


def _per_event(exc: BaseException) -> bool:
    """An error about this event (it would fail again), as opposed to an outage of JetStream."""
    if isinstance(exc, (BadRequestError, MaxPayloadError)):
        return True
    return isinstance(exc, APIError) and exc.code is not None and 400 <= exc.code < 500 and exc.code not in (404, 408)


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
        self.ledger = Ledger(self.spool.path.with_name(self.spool.path.name + ".ledger"))
        self.max_in_flight, self.ack_timeout, self.create_stream = max_in_flight, ack_timeout, create_stream
        self.stats = PublisherStats()
        self.limits = Limits(max_payload=1024 * 1024, max_msg_size=-1)
        self._lock = asyncio.Lock()
        self._covered: dict[str, bool] = {}
        self._nc: Any = None
        self._js: Any = None
        self._acks: AckInbox | None = None
        self._redis: RedisWriter | None = None
        self._drainer: asyncio.Task[None] | None = None
        self._synced = 0  # every stream message up to here is in the ledger
        self._resync_after = 60.0  # seconds; half the duplicate window, set in start()
        self._last_sync = 0.0
        self._need_sync = True
        self._started = False  # connected, the stream checked, the ledger synced

    async def __aenter__(self) -> DualWritePublisher:
        try:
            await self.start()
        except BaseException:
            await self.close(drain_timeout=0)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        self._nc = await connect(self.nats_url, reconnected_cb=self._on_reconnect)
        self._js = self._nc.jetstream(timeout=self.ack_timeout)
        self._acks = AckInbox(self._nc)
        await self._acks.start()
        info = await ensure_stream(self._js, self.spec, create=self.create_stream)
        self.limits = Limits(max_payload=self._nc.max_payload, max_msg_size=info.config.max_msg_size or -1)
        self._resync_after = max(1.0, (info.config.duplicate_window or 120) / 2)
        created = info.created.isoformat() if info.created else "unknown"
        self._synced = self.ledger.bind(self.spec.name, created, info.state.last_seq)
        async with self._lock:
            await self._sync()
        if self.redis_target is not None:
            target = self.redis_target.identity()
            self._redis = RedisWriter(
                self.redis_target, self.spec.name, source=self._stored_from,
                mark=lambda seq: self.ledger.set_redis_mark(self.spec.name, target, seq),
                unmark=lambda seq: self.ledger.clear_redis_mark(self.spec.name, target, seq),
                dead=lambda event, reason: self._dead(event, reason, side="redis"),
                behind_from=self.ledger.redis_mark(self.spec.name, target),
            )  # fmt: skip
            self._redis.start()
            self.stats.redis = self._redis.stats
        self._drainer = asyncio.create_task(self._drain_loop(), name="cdb-events-spool-drainer")
        self._started = True

    async def _on_reconnect(self) -> None:
        self._need_sync = True  # acks lost in the outage: what did JetStream store meanwhile?

    async def close(self, drain_timeout: float = 10.0) -> None:
        """Drain the spool into JetStream and Redis, waiting up to `drain_timeout` seconds for the
        servers to come back; what is left stays in the spool (and marked for Redis) for next time."""
        deadline = time.monotonic() + drain_timeout
        if self._drainer is not None:
            self._drainer.cancel()
            await asyncio.gather(self._drainer, return_exceptions=True)
        while self._started and self.spool.pending() and time.monotonic() < deadline:
            if self._nc.is_connected:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.drain_spool(), max(0.1, deadline - time.monotonic()))
            if self.spool.pending():
                await asyncio.sleep(0.1)  # the client reconnects in the background
        if self._redis is not None:
            await self._redis.close(max(0.5, deadline - time.monotonic()))
        if self._nc is not None:
            with contextlib.suppress(NatsError, OSError, asyncio.TimeoutError):
                await asyncio.wait_for(self._nc.drain(), 5)
            await self._nc.close()
        self.ledger.close()

    def check(self, event: Event) -> Event:
        """Refuse an event that fails its schema or that this stream would not store."""
        self.registry.validate(event)
        return self.check_fit(event)

    def check_fit(self, event: Event) -> Event:
        """The stream's subjects and size limits (the schema is checked by `check`)."""
        subject = event.subject
        covered = self._covered.get(subject)
        if covered is None:
            covered = self._covered[subject] = self.spec.covers(subject)
        if not covered:
            raise EventError(
                f"event {event.id!r}: subject {subject} is not in stream {self.spec.name} "
                f"({', '.join(self.spec.subjects)}); publish it to the stream of its domain"
            )
        size = message_size(subject, event.to_json(), {MSG_ID: event.id})
        if size > self.limits.largest:
            raise EventError(
                f"event {event.id!r}: {size} bytes with headers exceeds {self.limits.what()}; "
                "store large content elsewhere and publish a reference to it"
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
            if self.spool.pending() or not self._nc.is_connected or not await self._try_sync():
                return self._to_spool(list(events))
            outcomes = await self._store(list(events))
            self.stats.acked += sum(o is not None and o.acked for o in outcomes)
            self.stats.duplicates += sum(o is not None and o.duplicate for o in outcomes)
            unsent = [e for e, o in zip(events, outcomes) if o is None]
            spooled = iter(self._to_spool(unsent))
            return [o if o is not None else next(spooled) for o in outcomes]

    def _to_spool(self, events: list[Event]) -> list[Outcome]:
        self.spool.append(events)
        self.stats.spooled += len(events)
        return [Outcome(e.id, acked=False, spooled=True) for e in events]

    def _dead(self, event: Event, reason: str, **context: Any) -> None:
        self.spool.dead_letter(event, reason, stream=self.spec.name, **context)
        self.stats.dead_letters += 1
        log.error("event %s set aside in %s: %s", event.id, self.spool.dead_path, reason)

    async def _try_sync(self) -> bool:
        """`_sync`, or False (the error kept in the stats) when the stream cannot be read now."""
        try:
            await self._sync()
        except (NatsError, OSError, asyncio.TimeoutError, EventError) as exc:
            self.stats.last_jetstream_error = f"ledger sync: {exc}"
            return False
        return True

    async def _sync(self) -> None:
        """Bring the ledger up to date with what the stream stored since it was last read."""
        if not self._need_sync and time.monotonic() - self._last_sync < self._resync_after:
            return
        found: list[tuple[str, int]] = []
        last = self._synced
        async for msg in read_stream(self._nc, self.spec.name, start_seq=self._synced + 1):
            found.append((_event_id(msg.headers, msg.data), msg.seq))
            last = msg.seq
        self.ledger.record(self.spec.name, found, synced_seq=last)
        self._synced, self._last_sync, self._need_sync = last, time.monotonic(), False

    async def _store(self, events: list[Event]) -> list[Outcome | None]:
        """Outcomes in order; None from the first outage on (those go to the spool)."""
        known = self.ledger.known(self.spec.name, [e.id for e in events])
        outcomes: list[Outcome | None] = [None] * len(events)
        fresh = []
        for index, event in enumerate(events):
            if event.id in known:
                outcomes[index] = Outcome(event.id, acked=True, seq=known[event.id], duplicate=True)
            else:
                fresh.append(index)
        if self._redis is not None and events:
            # Events stored earlier go to Redis again too (it skips what it carries): a run that
            # died between JetStream's ack and Redis must not leave them on one side.
            self._redis.expect(min([self._synced + 1, *known.values()]))
            self._redis.offer(sorted(((known[e.id], e) for e in events if e.id in known), key=lambda pair: pair[0]))
        try:
            await self._send([(i, events[i]) for i in fresh], outcomes)
        finally:
            if self._redis is not None and events:
                self._redis.offered()
        return outcomes

    async def _send(self, batch: list[tuple[int, Event]], outcomes: list[Outcome | None]) -> None:
        """Pipelined in half-windows: before a half-window is sent, the one two before it must be
        acknowledged (within ack_timeout), so at most max_in_flight publishes are unacknowledged and
        the server stores one half while we send the next. The acks are then settled in order."""
        futures: list[asyncio.Future[Any]] = []
        late: dict[int, tuple[Any, BaseException | None]] = {}  # position -> (ack, error) asked again
        outage: BaseException | None = None
        half = max(1, self.max_in_flight // 2)
        assert self._acks is not None
        publish = self._acks.publish
        try:
            for start in range(0, len(batch), half):
                if start >= 2 * half:
                    earlier = range(start - 2 * half, start - half)
                    _, waiting = await asyncio.wait([futures[i] for i in earlier], timeout=self.ack_timeout)
                    if waiting:
                        outage = await self._ask_again(batch, futures, earlier, late)
                        if outage is not None:
                            break
                for _, event in batch[start : start + half]:
                    futures.append(await publish(event.subject, event.to_json(), {MSG_ID: event.id}))
            if futures and outage is None:
                await asyncio.wait(futures, timeout=self.ack_timeout)
                outage = await self._ask_again(batch, futures, range(len(futures)), late)
        except (NatsError, OSError, asyncio.TimeoutError) as exc:
            outage = exc
        acked: list[tuple[str, int]] = []
        stored: list[tuple[int, Event]] = []
        for position, ((index, event), future) in enumerate(zip(batch, futures)):
            if position in late:
                ack, exc = late[position]
            elif future.done() and not future.cancelled():
                exc = future.exception()
                ack = future.result() if exc is None else None
            else:
                break  # after an outage: this one and the rest go to the spool
            if ack is not None:
                outcomes[index] = Outcome(event.id, acked=True, seq=ack.seq, duplicate=bool(ack.duplicate))
                acked.append((event.id, ack.seq))
                stored.append((ack.seq, event))
            elif exc is not None and _per_event(exc):
                self._dead(event, f"JetStream refused it: {exc}", side="jetstream")
                outcomes[index] = Outcome(event.id, acked=False, dead=str(exc))
            else:
                outage = outage or exc
                break
        self._record(acked)
        if self._redis is not None:
            self._redis.offer(stored)
        if outage is not None or len(futures) < len(batch):
            for future in futures:
                future.cancel()  # a late ack is harmless (same Nats-Msg-Id)
            self._acks.forget()
            self.stats.last_jetstream_error = f"{type(outage).__name__}: {outage}"
            log.warning("jetstream publish failed, spooling: %s", self.stats.last_jetstream_error)
            self._need_sync = True  # some of these may be stored although no ack came

    async def _ask_again(self, batch: list[tuple[int, Event]], futures: list[asyncio.Future[Any]],
                         positions: range, late: dict[int, tuple[Any, BaseException | None]]) -> BaseException | None:  # fmt: skip
        """Settle publishes that got no ack in time; returns the outage if there is one.

        With the connection up, a missing ack is not necessarily an outage (a reply lost in a
        reconnect, a slow server): each is asked once more, synchronously, with the same
        Nats-Msg-Id: stored (now or before), refused for good, or an outage after all."""
        for position in positions:
            future = futures[position]
            if future.done() or position in late:
                continue
            if not self._nc.is_connected:
                return asyncio.TimeoutError(f"no JetStream ack within {self.ack_timeout}s (disconnected)")
            future.cancel()
            event = batch[position][1]
            try:
                ack = await self._js.publish(event.subject, event.to_json(), headers={MSG_ID: event.id}, timeout=self.ack_timeout)
                late[position] = (ack, None)
            except (NatsError, OSError, asyncio.TimeoutError) as exc:
                if not _per_event(exc):
                    return exc
                late[position] = (None, exc)
        return None

    def _record(self, acked: list[tuple[str, int]]) -> None:
        """Ledger the acks; the synced sequence moves on while our acks are contiguous with it."""
        if not acked:
            return
        synced = self._synced
        for _, seq in sorted(acked, key=lambda pair: pair[1]):
            if seq == synced + 1:
                synced = seq
        self.ledger.record(self.spec.name, acked, synced_seq=synced if synced > self._synced else None)
        self._synced = synced

    async def _stored_from(self, seq: int) -> AsyncIterator[tuple[int, str, str, bytes]]:
        """The stream from `seq` on, for the Redis backfill."""
        async for msg in read_stream(self._nc, self.spec.name, start_seq=seq):
            yield msg.seq, msg.subject, _event_id(msg.headers, msg.data), msg.data

    async def drain_spool(self) -> int:
        """Send spooled events to JetStream in order; returns how many are settled (stored or set aside)."""
        async with self._lock:
            return await self._drain_locked()

    async def _drain_locked(self) -> int:
        drained = 0
        if not self._nc or not self._nc.is_connected:
            return 0
        while True:
            # Held from reading a batch to acknowledging it, so two publishers draining one spool
            # do not send the same batch twice.
            await _acquire(self.spool)
            try:
                settled, more = await self._drain_batch()
            finally:
                self.spool.lock.release()
            drained += settled
            if not more:
                return drained

    async def _drain_batch(self) -> tuple[int, bool]:
        """One batch under the spool's file lock: (events settled, whether to go on)."""
        chunk = next(self.spool.read(batch=self.max_in_flight), None)
        if not chunk or not await self._try_sync():
            return 0, False
        outcomes = await self._store([event for _, event in chunk])
        settled = outcomes.index(None) if None in outcomes else len(outcomes)
        self.stats.duplicates += sum(o.duplicate for o in outcomes[:settled] if o is not None)
        if settled:
            self.spool.acknowledge(chunk[settled - 1][0])
            self.stats.drained += settled
        return settled, settled == len(chunk)

    async def _drain_loop(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            if self.spool.pending() and self._nc.is_connected:
                try:
                    await self.drain_spool()
                except EventError as exc:  # a corrupt spool needs a human; keep publishing to it
                    self.stats.last_jetstream_error = str(exc)
                    log.error("%s", exc)


async def _acquire(spool: Spool) -> None:
    """Take the spool's file lock without blocking the event loop while another process holds it."""
    while True:
        try:
            spool.lock.acquire(timeout=0)
            return
        except TimeoutError:  # filelock.Timeout is a TimeoutError
            await asyncio.sleep(0.01)


def _event_id(headers: dict[str, str] | None, data: bytes) -> str:
    """The id JetStream de-duplicates by, else the envelope's own id."""
    if headers and headers.get(MSG_ID):
        return headers[MSG_ID]
    try:
        return str(json.loads(data)["id"])
    except (ValueError, KeyError, TypeError):
        return ""
