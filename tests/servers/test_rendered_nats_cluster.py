"""The rendered prod NATS config drives three real nats-server processes: they form one cluster through
the rendered routes and accept the rendered Stream CRs at their replica counts; the audit stream keeps
what is published, replays it and refuses delete and purge. Only addresses and paths are rewritten
(tests.servers.loopback.to_loopback); the server name comes from $SERVER_NAME as in the pod."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import APIError

from cdb_ops.events.localservers import ServerMissing, find_binary, free_port
from cdb_stack.parts.event_bus import parse_duration
from components.nats import config
from tests.servers.loopback import to_loopback
from tests.servers.rendered import manifest, manifests

pytestmark = pytest.mark.servers
NS = "event-bus"


def run(coro):
    loop = asyncio.new_event_loop()  # not asyncio.run: Pulumi's mocks in the same session want a loop
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def stream_config(spec: dict) -> StreamConfig:
    """A rendered NACK Stream CR's spec as the JetStream API takes it (what NACK sends)."""
    seconds = lambda text: parse_duration(text, "spec").total_seconds() if text else 0.0  # noqa: E731
    return StreamConfig(
        name=spec["name"], subjects=spec["subjects"], description=spec["description"],
        retention=RetentionPolicy(spec["retention"]), storage=StorageType(spec["storage"]),
        discard=DiscardPolicy(spec["discard"]), num_replicas=spec["replicas"],
        duplicate_window=seconds(spec["duplicateWindow"]), max_age=seconds(spec["maxAge"]),
        max_bytes=spec["maxBytes"], max_msgs=spec["maxMsgs"],
        deny_delete=spec["denyDelete"], deny_purge=spec["denyPurge"],
    )  # fmt: skip


class Member:
    """One nats-server process of the cluster, started from the rewritten rendered config only."""

    def __init__(self, workdir: Path, name: str, text: str) -> None:
        self.binary = find_binary("nats-server")
        self.name, self.workdir = name, workdir
        workdir.mkdir(parents=True)
        self.conf, self.log = workdir / "nats.conf", workdir / "nats.log"
        self.conf.write_text(text)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {"PATH": os.environ.get("PATH", ""), config.SERVER_NAME_ENV: self.name}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([self.binary, "-c", str(self.conf)], env=env, stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-1500:]


@pytest.fixture
def prod_cluster(tmp_path: Path) -> Iterator[list[tuple[Member, int, int]]]:
    text = manifest("prod", NS, "ConfigMap", "nats-config")["data"][config.CONFIG_FILE]
    routes = re.findall(r'"nats://([^"]+)"', text)
    replicas = manifest("prod", NS, "StatefulSet", "nats")["spec"]["replicas"]
    assert len(routes) == replicas == 3
    ports = [(free_port(), free_port(), free_port()) for _ in routes]  # client, monitor, cluster
    members = []
    for index, (client, monitor, cluster) in enumerate(ports):
        rewrites = {
            f"0.0.0.0:{config.CLIENT_PORT}": f"127.0.0.1:{client}",
            f"0.0.0.0:{config.MONITOR_PORT}": f"127.0.0.1:{monitor}",
            f"0.0.0.0:{config.CLUSTER_PORT}": f"127.0.0.1:{cluster}",
            **{route: f"127.0.0.1:{ports[peer][2]}" for peer, route in enumerate(routes)},
            config.DATA_DIR: str(tmp_path / f"nats-{index}" / "data"),
            config.PID_FILE: str(tmp_path / f"nats-{index}" / "nats.pid"),
        }
        try:
            members.append((Member(tmp_path / f"nats-{index}", f"nats-{index}", to_loopback(text, rewrites)), client, monitor))
        except ServerMissing as exc:
            pytest.fail(str(exc), pytrace=False)
    for member, _, _ in members:
        member.start()  # together, as podManagementPolicy: Parallel starts the pods
    try:
        deadline = time.monotonic() + 30
        for member, _, monitor in members:
            while True:
                assert member.proc is not None and member.proc.poll() is None, f"{member.name} exited: {member.tail()}"
                try:
                    # The readiness probe of the rendered StatefulSet: JetStream up and the meta group formed.
                    if urllib.request.urlopen(f"http://127.0.0.1:{monitor}/healthz?js-server-only=true", timeout=1).status == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, f"{member.name} never became ready: {member.tail()}"
                time.sleep(0.1)
        yield members
    finally:
        for member, _, _ in members:
            member.stop()


def routes_of(monitor: int) -> set[str]:
    routez = json.load(urllib.request.urlopen(f"http://127.0.0.1:{monitor}/routez", timeout=5))
    return {route["remote_name"] for route in routez["routes"] if route.get("remote_name")}


def meta_leader(monitor: int) -> str:
    jsz = json.load(urllib.request.urlopen(f"http://127.0.0.1:{monitor}/jsz", timeout=5))
    return (jsz.get("meta_cluster") or {}).get("leader") or ""


def test_three_servers_from_the_rendered_prod_config_form_one_cluster_and_keep_the_rendered_streams(prod_cluster):
    names = {member.name for member, _, _ in prod_cluster}
    deadline = time.monotonic() + 30
    while any(routes_of(monitor) != names - {member.name} for member, _, monitor in prod_cluster):
        assert time.monotonic() < deadline, "the servers never routed to each other"
        time.sleep(0.2)
    # One JetStream meta group over the three servers, with an elected leader all of them agree on.
    while len({meta_leader(monitor) for _, _, monitor in prod_cluster} - {""}) != 1 or not all(
            meta_leader(monitor) for _, _, monitor in prod_cluster):
        assert time.monotonic() < deadline, "the JetStream meta group elected no leader"
        time.sleep(0.2)
    assert {meta_leader(monitor) for _, _, monitor in prod_cluster} <= names

    crs = {cr["spec"]["name"]: cr for cr in manifests("prod", NS, "Stream")}
    audit = [cr["spec"] for cr in crs.values() if cr["metadata"]["labels"].get("cdb-infra.io/stream-class") == "audit"]
    assert len(audit) == 1 and {cr["spec"]["replicas"] for cr in crs.values()} == {3}
    audit_subject = audit[0]["subjects"][0].replace(">", "flux")
    urls = [f"nats://127.0.0.1:{client}" for _, client, _ in prod_cluster]

    async def scenario() -> tuple[dict, list[bytes], list[str], int]:
        nc = await nats.connect(urls[0])
        js = nc.jetstream()
        placed = {}
        for name, cr in crs.items():
            info = await js.add_stream(stream_config(cr["spec"]))
            placed[name] = (info.config.num_replicas, 1 + len(info.cluster.replicas or []), info.config.storage)
        sent = [f'{{"seq":{n}}}'.encode() for n in range(20)]
        acks = [await js.publish(audit_subject, body) for body in sent]
        await nc.close()
        # Replay through another server: the stream's replicas serve the same sequence.
        nc = await nats.connect(urls[2])
        js = nc.jetstream()
        sub = await js.pull_subscribe("", stream=audit[0]["name"],
                                      config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.EXPLICIT))
        got: list[bytes] = []
        while len(got) < len(sent):
            for msg in await sub.fetch(10, timeout=5):
                got.append(msg.data)
                await msg.ack()
        refused = []
        for attempt in (lambda: js.delete_msg(audit[0]["name"], acks[3].seq), lambda: js.purge_stream(audit[0]["name"])):
            try:
                await attempt()
            except APIError as exc:
                refused.append(exc.description or "")
        kept = (await js.stream_info(audit[0]["name"])).state.messages
        await nc.close()
        assert got == sent
        return placed, got, refused, kept

    placed, _, refused, kept = run(scenario())
    assert placed == {name: (3, 3, StorageType.FILE) for name in crs}  # every rendered stream on all three servers
    assert refused == ["message delete not permitted", "stream purge not permitted"]
    assert kept == 20


def test_the_rendered_config_has_exactly_the_addresses_and_paths_the_loopback_rewrite_knows():
    """If the rendering grows another address or path, the cluster test would run it unchanged against
    something else; this names the tokens so a change is a deliberate edit of both."""
    text = manifest("prod", NS, "ConfigMap", "nats-config")["data"][config.CONFIG_FILE]
    addresses = set(re.findall(r'"(?:nats://)?([\w.-]+:\d+)"', text))
    paths = set(re.findall(r'"(/[^"]*)"', text))
    assert addresses == {"0.0.0.0:4222", "0.0.0.0:8222", "0.0.0.0:6222",
                         *(f"nats-{i}.nats-headless.event-bus.svc.cluster.local:6222" for i in range(3))}
    assert paths == {config.DATA_DIR, config.PID_FILE}
