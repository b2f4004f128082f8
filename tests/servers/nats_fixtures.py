"""Real nats-server processes for the JetStream proofs, and the streams the dev stack declares.

The plain JetStream server is the event tools' `NatsServer` (cdb_ops.events.localservers, reused
by import); `ConfiguredNats` runs nats-server from the config file the NATS component renders. A
missing binary fails the test with the fix, it never skips.
"""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from cdb_ops.events.localservers import NatsServer, ServerMissing, find_binary, free_port
from cdb_stack.parts import PlanContext, event_bus
from cdb_stack.settings import parse_settings
from components.provenance import Provenance
from components.streams import StreamSpec

ROOT = Path(__file__).resolve().parents[2]


def declared_plan(stack: str) -> event_bus.Planned:
    """The event bus exactly as `Pulumi.<stack>.yaml` plans it (the component gets these args)."""
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    settings = parse_settings(config, source=f"Pulumi.{stack}.yaml")
    provenance = Provenance("cdb", "unknown", f"cdb-infra/{stack}")
    return event_bus.plan(settings.event_bus, PlanContext("cdb-infra", stack, settings.environment.value, provenance, settings))


def dev_streams() -> dict[str, StreamSpec]:
    return {spec.name: spec for spec in declared_plan("dev").args.streams}


@pytest.fixture
def jetstream(tmp_path: Path) -> Iterator[NatsServer]:
    try:
        server = NatsServer(tmp_path / "nats")
    except ServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    server.start()
    yield server
    server.stop()


class ConfiguredNats:
    """nats-server started from a rendered config file; loopback ports override the file's."""

    def __init__(self, conf: Path, env: dict[str, str]) -> None:
        self.binary = find_binary("nats-server")
        self.conf, self.env = conf, env
        self.port, self.monitor = free_port(), free_port()
        self.log = conf.with_suffix(".log")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def check(self) -> subprocess.CompletedProcess[str]:
        """`nats-server -t`: parse and validate the config without starting."""
        return subprocess.run([self.binary, "-t", "-c", str(self.conf)], env=self.env, capture_output=True, text=True, timeout=30)

    def start(self) -> ConfiguredNats:
        args = [self.binary, "-c", str(self.conf), "-a", "127.0.0.1", "-p", str(self.port), "-m", str(self.monitor)]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"nats-server exited: {self.log.read_text(errors='replace')[-800:]}")
            try:
                if urllib.request.urlopen(self.health_url, timeout=1).status == 200:
                    return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"nats-server not ready: {self.log.read_text(errors='replace')[-800:]}")

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.monitor}/healthz?js-enabled-only=true"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
