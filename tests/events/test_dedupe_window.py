"""The fault tests wait for JetStream's duplicate window by asking the server (dedupe_window.py): the
probe must store nothing, must see a remembered id, and must end only once every earlier id is new."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from components.streams import stream_spec
from cdb_ops.events import DualWritePublisher
from cdb_ops.events.jetstream import connect

from .conftest import order_created
from .dedupe_window import MSG_ID, remembers, wait_until_jetstream_forgets_every_msg_id

pytestmark = pytest.mark.servers


def publish(spec, url, spool, events) -> None:
    async def run():
        async with DualWritePublisher(spec, nats_url=url, spool_path=spool) as pub:
            assert all(o.acked for o in await pub.publish_many(events))

    asyncio.run(run())


def test_the_probe_sees_remembered_ids_and_stores_nothing(nats_server, spec, tmp_path):
    events = [order_created(n) for n in range(5)]
    publish(spec, nats_server.url, tmp_path / "spool", events)  # TEST_EVENTS keeps ids for two minutes

    async def probe():
        nc = await connect(nats_server.url)
        js = nc.jetstream()
        answers = [await remembers(js, e.subject, e.id) for e in events]
        answers.append(await remembers(js, events[0].subject, "never-published"))
        last_seq = (await js.stream_info("TEST_EVENTS")).state.last_seq
        await nc.close()
        return answers, last_seq

    answers, last_seq = asyncio.run(probe())
    assert answers == [True] * 5 + [False]
    assert last_seq == 5, "a probe was stored"


def test_after_the_wait_jetstream_takes_every_earlier_id_as_new(nats_server, registry, tmp_path):
    short = stream_spec(name="SHORT", subjects=registry.stream_subjects(), replicas=1, duplicate_window=timedelta(seconds=1))
    events = [order_created(n) for n in range(50)]
    publish(short, nats_server.url, tmp_path / "spool", events)
    wait_until_jetstream_forgets_every_msg_id(nats_server.url, "SHORT")

    async def republish():
        nc = await connect(nats_server.url)
        js = nc.jetstream()
        acks = [await js.publish(e.subject, e.to_json(), headers={MSG_ID: e.id}) for e in events]
        await nc.close()
        return acks

    acks = asyncio.run(republish())
    assert [bool(a.duplicate) for a in acks] == [False] * 50, "JetStream still deduplicated an id after the wait"
    assert [a.seq for a in acks] == list(range(51, 101))
