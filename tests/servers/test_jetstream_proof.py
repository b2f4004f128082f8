"""Proof on a real nats-server: the streams the dev stack declares, created from the very StreamSpec
objects the NATS component turns into NACK CRs, store to file, keep the audit trail, de-duplicate
and replay in order; and the server config the component renders runs."""

from __future__ import annotations

import asyncio
import json
import os
import urllib.request
from pathlib import Path

import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import APIError

from cdb_ops.events.localservers import NatsServer
from components.nats import config
from tests.servers.nats_fixtures import ConfiguredNats, declared_plan, dev_streams, jetstream  # noqa: F401 (fixture)

pytestmark = pytest.mark.servers


def run(coro):
    """Run a scenario on its own loop; asyncio.run would leave the thread without a current loop,
    which Pulumi's mock runtime (used by other tests in the same session) still asks for."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()
AUDIT_SUBJECT = declared_plan("dev").audit_subject


async def _declare(url: str):
    nc = await nats.connect(url)
    js = nc.jetstream()
    for spec in dev_streams().values():
        await js.add_stream(spec.to_nats_config())
    return nc, js


def test_the_declared_streams_store_to_file_and_survive_a_crash(jetstream: NatsServer):
    async def before_crash() -> None:
        nc, js = await _declare(jetstream.url)
        for spec in dev_streams().values():
            info = await js.stream_info(spec.name)
            assert info.config.storage == StorageType.FILE and info.config.retention == RetentionPolicy.LIMITS
            assert info.config.subjects == list(spec.subjects) and info.config.duplicate_window == 120
        await js.publish(AUDIT_SUBJECT, b'{"reason":"ReconciliationSucceeded"}')
        await js.publish("orders.v1.created", b'{"order_id":"o-1"}')
        await nc.close()

    async def after_restart() -> dict[str, int]:
        nc = await nats.connect(jetstream.url)
        js = nc.jetstream()
        counts = {name: (await js.stream_info(name)).state.messages for name in dev_streams()}
        await nc.close()
        return counts

    run(before_crash())
    jsz = json.load(urllib.request.urlopen(f"http://127.0.0.1:{jetstream.monitor}/jsz", timeout=5))
    assert jsz["storage"] > 0 and jsz["memory"] == 0
    assert (jetstream.store / "jetstream" / "$G" / "streams" / "AUDIT").is_dir()
    jetstream.kill()  # SIGKILL: only what reached the file store survives
    jetstream.start()
    assert run(after_restart()) == {"AUDIT": 1, "CDB_EVENTS": 1}


def test_the_audit_stream_refuses_delete_and_purge(jetstream: NatsServer):
    assert dev_streams()["AUDIT"].covers(AUDIT_SUBJECT)

    async def scenario() -> list[str]:
        nc, js = await _declare(jetstream.url)
        ack = await js.publish(AUDIT_SUBJECT, b'{"reason":"DriftDetected"}')
        refused = []
        for attempt in (lambda: js.delete_msg("AUDIT", ack.seq), lambda: js.purge_stream("AUDIT")):
            try:
                await attempt()
            except APIError as exc:
                refused.append(exc.description or "")
        assert (await js.stream_info("AUDIT")).state.messages == 1
        assert (await js.get_msg("AUDIT", ack.seq)).data == b'{"reason":"DriftDetected"}'
        await nc.close()
        return refused

    refused = run(scenario())
    assert refused == ["message delete not permitted", "stream purge not permitted"]


def test_a_duplicate_within_the_window_is_dropped(jetstream: NatsServer):
    async def scenario() -> tuple[bool, bool, bool, int]:
        nc, js = await _declare(jetstream.url)
        first = await js.publish("orders.v1.created", b"one", headers={"Nats-Msg-Id": "evt-000001"})
        again = await js.publish("orders.v1.created", b"one", headers={"Nats-Msg-Id": "evt-000001"})
        other = await js.publish("orders.v1.created", b"two", headers={"Nats-Msg-Id": "evt-000002"})
        stored = (await js.stream_info("CDB_EVENTS")).state.messages
        await nc.close()
        return first.duplicate or False, again.duplicate or False, other.duplicate or False, stored

    assert run(scenario()) == (False, True, False, 2)


def test_messages_replay_in_publish_order(jetstream: NatsServer):
    subjects = ["orders.v1.created", "payments.v1.captured", "orders.v2.created", "orders.v1.cancelled"]
    sent = [(subjects[n % len(subjects)], f"event-{n:03d}".encode()) for n in range(40)]

    async def scenario() -> list[tuple[str, bytes, int]]:
        nc, js = await _declare(jetstream.url)
        for subject, body in sent:
            await js.publish(subject, body)
        sub = await js.pull_subscribe(
            "", stream="CDB_EVENTS",
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.EXPLICIT),
        )  # fmt: skip
        got = []
        while len(got) < len(sent):
            for msg in await sub.fetch(10, timeout=5):
                got.append((msg.subject, msg.data, msg.metadata.sequence.stream))
                await msg.ack()
        await nc.close()
        return got

    replayed = run(scenario())
    assert [(subject, body) for subject, body, _ in replayed] == sent
    assert [seq for _, _, seq in replayed] == list(range(1, len(sent) + 1))


def _rendered(tmp_path: Path, stack: str) -> ConfiguredNats:
    args = declared_plan(stack).args
    text = config.render("nats", args.namespace, args.replicas, args.max_file_store_bytes,
                         store_dir=str(tmp_path / "data"), pid_file=str(tmp_path / "nats.pid"))  # fmt: skip
    conf = tmp_path / f"{stack}.conf"
    conf.write_text(text)
    return ConfiguredNats(conf, {**os.environ, config.SERVER_NAME_ENV: "nats-0"})


def test_the_rendered_prod_config_with_cluster_routes_is_valid_for_nats_server(tmp_path: Path):
    checked = _rendered(tmp_path, "prod").check()
    assert checked.returncode == 0, checked.stderr
    missing_env = ConfiguredNats(tmp_path / "prod.conf", {"PATH": os.environ.get("PATH", "")}).check()
    assert missing_env.returncode != 0 and "SERVER_NAME" in missing_env.stderr


def test_the_rendered_dev_config_runs_jetstream_on_file_and_refuses_memory_streams(tmp_path: Path):
    server = _rendered(tmp_path, "dev").start()
    try:
        async def scenario() -> None:
            nc, js = await _declare(server.url)
            with pytest.raises(APIError, match="insufficient memory resources"):
                await js.add_stream(StreamConfig(name="VOLATILE", subjects=["scratch.v1.>"], storage=StorageType.MEMORY))
            await js.publish(AUDIT_SUBJECT, b"{}")
            await nc.close()

        run(scenario())
        assert urllib.request.urlopen(server.health_url, timeout=2).status == 200
        assert (tmp_path / "data" / "jetstream" / "$G" / "streams" / "AUDIT").is_dir()
    finally:
        server.stop()
