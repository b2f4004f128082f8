"""JetStream access shared by the publisher, replay and compare (nats-py).

Reading uses an ephemeral pull consumer without acks and stops at the stream's last sequence as it
was when the read began, so a replay is a finite, reproducible window even while producers write.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import nats
from nats.errors import Error as NatsError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import APIError, NoStreamResponseError, NotFoundError

from components.streams import StreamSpec
from cdb_ops.events.envelope import EventError

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
API_PREFIX = "$JS.API"  # nats-py's default; the tools use no JetStream domain
log = logging.getLogger("cdb.events.nats")
_PULL = 5000
_EXPIRES = 5.0  # seconds a pull request may wait on the server


async def _quiet(exc: Exception) -> None:
    # nats-py's default error callback prints a traceback per failed (re)connect attempt.
    log.debug("nats: %s", exc)


async def connect(url: str, **callbacks: Callable[..., Any]) -> nats.NATS:
    """Connect once (fail fast with a clear error), then reconnect forever on later outages."""
    try:
        nc = await nats.connect(
            url,
            connect_timeout=2,
            allow_reconnect=True,
            max_reconnect_attempts=1,  # bounds the first connect; raised to "forever" below
            reconnect_time_wait=0.25,
            error_cb=_quiet,
            **callbacks,
        )
    except (NatsError, OSError, asyncio.TimeoutError) as exc:
        raise EventError(f"nats {url}: cannot connect ({exc or type(exc).__name__}); check --nats-url") from None
    nc.options["max_reconnect_attempts"] = -1
    return nc


def _drift(spec: StreamSpec, actual: StreamConfig) -> list[str]:
    want = spec.to_nats_config()
    fields = ("storage", "retention", "num_replicas", "duplicate_window", "max_age", "deny_delete", "deny_purge")
    drift = [f"{f}: server has {getattr(actual, f)!r}, spec says {getattr(want, f)!r}" for f in fields
             if getattr(actual, f) != getattr(want, f)]  # fmt: skip
    if sorted(actual.subjects or []) != sorted(want.subjects or []):
        drift.append(f"subjects: server has {actual.subjects}, spec says {want.subjects}")
    return drift


async def ensure_stream(js: Any, spec: StreamSpec, create: bool = True) -> Any:
    """Create the stream from its spec if missing; refuse to write into a stream that drifted.
    Returns the server's StreamInfo."""
    try:
        info = await js.stream_info(spec.name)
    except NotFoundError:
        if not create:
            raise EventError(f"stream {spec.name}: not found on the server; create it (NACK) first") from None
        await js.add_stream(spec.to_nats_config())
        return await js.stream_info(spec.name)
    drift = _drift(spec, info.config)
    if drift:
        raise EventError(f"stream {spec.name} differs from its StreamSpec ({'; '.join(drift)}); reconcile it first")
    return info


@dataclass(frozen=True, slots=True)
class Limits:
    """The largest message the server (max_payload) and the stream (max_msg_size) accept."""

    max_payload: int
    max_msg_size: int  # -1: no stream limit

    @property
    def largest(self) -> int:
        return min(self.max_payload, self.max_msg_size) if self.max_msg_size > 0 else self.max_payload

    def what(self) -> str:
        if 0 < self.max_msg_size < self.max_payload:
            return f"the stream's max_msg_size of {self.max_msg_size} bytes"
        return f"the server's max_payload of {self.max_payload} bytes"


def message_size(subject: str, payload: bytes, headers: dict[str, str]) -> int:
    """Bytes the server counts against both limits: payload plus the NATS/1.0 header block."""
    header_block = 10 + sum(len(k) + len(v) + 4 for k, v in headers.items()) + 2
    return len(payload) + header_block


@dataclass(frozen=True, slots=True)
class StoredMessage:
    seq: int
    subject: str
    stored: datetime
    data: bytes
    headers: dict[str, str] | None


async def read_stream(
    nc: Any,
    stream: str,
    *,
    start_seq: int | None = None,
    start_time: datetime | None = None,
    subject: str | None = None,
    limit: int | None = None,
    until_seq: int | None = None,
) -> AsyncIterator[StoredMessage]:
    """Messages of `stream` in sequence order, from a sequence or a time, optionally filtered,
    up to the last sequence at the start of the read (or `until_seq`)."""
    js = nc.jetstream()
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        raise EventError(f"stream {stream!r}: not found on the server; check --stream") from None
    last_seq = info.state.last_seq if until_seq is None else min(until_seq, info.state.last_seq)
    if last_seq == 0 or (start_seq is not None and start_seq > last_seq):
        return
    config = ConsumerConfig(
        name=f"cdb-read-{uuid.uuid4().hex}",
        ack_policy=AckPolicy.NONE,
        deliver_policy=DeliverPolicy.ALL,
        inactive_threshold=30.0,
        filter_subject=subject,
    )
    if start_seq is not None:
        config.deliver_policy, config.opt_start_seq = DeliverPolicy.BY_START_SEQUENCE, max(1, start_seq)
    elif start_time is not None:
        config.deliver_policy, config.opt_start_time = DeliverPolicy.BY_START_TIME, start_time
    consumer = await js.add_consumer(stream, config)
    puller = _Puller(nc, f"{API_PREFIX}.CONSUMER.MSG.NEXT.{stream}.{consumer.name}")
    await puller.start()
    sent = 0
    try:
        # Pending at creation counts the window's messages; asking for no more than remain keeps
        # the last pull from waiting out its expiry for messages that will never come.
        remaining = consumer.num_pending or 0
        while remaining > 0:
            batch = await puller.pull(min(_PULL, remaining))
            if not batch:
                raise EventError(f"stream {stream}: replay stalled with {remaining} messages left; retry")
            remaining -= len(batch)
            for msg in batch:
                meta = msg.metadata  # nats-py parses both forms of the ack subject
                seq = meta.sequence.stream
                if seq > last_seq:
                    return
                yield StoredMessage(seq, msg.subject, meta.timestamp, msg.data, msg.headers)
                sent += 1
                if seq == last_seq or meta.num_pending == 0 or (limit is not None and sent >= limit):
                    return
    finally:
        await puller.stop()
        with contextlib.suppress(NatsError, asyncio.TimeoutError):
            await js.delete_consumer(stream, consumer.name)


class _Puller:
    """Pull requests answered into one inbox with a callback subscription.

    nats-py's `fetch` waits for each message with a task of its own (about 90 us per message here);
    a callback subscription reads the same messages at a fraction of that, which keeps a compare
    of 100,000 events within its 10 s budget.
    """

    def __init__(self, nc: Any, api_subject: str) -> None:
        self.nc, self.api_subject = nc, api_subject
        self.inbox = nc.new_inbox()
        self._batch: list[Any] = []
        self._want = 0
        self._done = asyncio.Event()
        self._sub: Any = None

    async def start(self) -> None:
        self._sub = await self.nc.subscribe(self.inbox, cb=self._on_msg)

    async def _on_msg(self, msg: Any) -> None:
        if msg.headers and msg.headers.get("Status"):  # 404/408: the request ended without (more) messages
            self._done.set()
            return
        self._batch.append(msg)
        if len(self._batch) >= self._want:
            self._done.set()

    async def pull(self, count: int) -> list[Any]:
        self._batch, self._want = [], count
        self._done.clear()
        request = {"batch": count, "expires": int(_EXPIRES * 1e9)}
        await self.nc.publish(self.api_subject, json.dumps(request).encode(), reply=self.inbox)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._done.wait(), _EXPIRES + 1)
        return self._batch

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(NatsError):
                await self._sub.unsubscribe()


@dataclass(frozen=True, slots=True)
class Ack:
    seq: int
    duplicate: bool


class AckInbox:
    """Publishes to JetStream with reply subjects of our own and settles each publish by its PubAck.

    nats-py's `publish_async` raises a refused publish's error inside its own reply handler, so the
    caller only ever sees a timeout for an event JetStream refused (e.g. too large): an outage and a
    refusal look the same. Here the error reply settles the publish as the APIError it is. It also
    costs less per publish (no random token, no semaphore), and the caller bounds what is in flight.
    """

    def __init__(self, nc: Any) -> None:
        self.nc = nc
        self.prefix = nc.new_inbox()
        self._pending: dict[str, asyncio.Future[Ack]] = {}
        self._count = 0
        self._sub: Any = None

    async def start(self) -> None:
        self._sub = await self.nc.subscribe(self.prefix + ".*", cb=self._on_reply)

    async def publish(self, subject: str, payload: bytes, headers: dict[str, str]) -> asyncio.Future[Ack]:
        self._count += 1
        token = str(self._count)
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._pending[token] = future
        await self.nc.publish(subject, payload, reply=f"{self.prefix}.{token}", headers=headers)
        return future

    def forget(self) -> None:
        """Drop publishes that will not be waited for any more (after an outage)."""
        self._pending = {t: f for t, f in self._pending.items() if not f.done()}

    async def _on_reply(self, msg: Any) -> None:
        future = self._pending.pop(msg.subject[len(self.prefix) + 1 :], None)
        if future is None or future.done():
            return
        if msg.headers and msg.headers.get("Status") == "503":  # no responders: JetStream is not there
            future.set_exception(NoStreamResponseError())
            return
        try:
            reply = json.loads(msg.data)
            error = reply.get("error")
            if error:
                future.set_exception(APIError(code=error.get("code"), err_code=error.get("err_code"),
                                              description=error.get("description")))  # fmt: skip
            else:
                future.set_result(Ack(int(reply["seq"]), bool(reply.get("duplicate"))))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            future.set_exception(APIError(description=f"unreadable PubAck ({exc!r})"))

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(NatsError):
                await self._sub.unsubscribe()
