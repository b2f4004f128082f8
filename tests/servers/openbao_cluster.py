"""Three `bao server` processes started from the rendered prod StatefulSet and ConfigMap (via the loopback
rewrite), with the unseal key the key ceremony would put into the Secret."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from cdb_ops.events.localservers import find_binary, free_port
from tests.servers.openbao_loopback import Ports, loopback_member, mount_dir
from tests.stack.platform_stack import CONFIG_MAP, STS, one, pod, run_stack


def http(address: str, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    req = urllib.request.Request(f"{address}{path}", data=None if body is None else json.dumps(body).encode(),
                                 method=method)
    if token:
        req.add_header("X-Vault-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:  # init is slow on a busy machine
            text = resp.read()
            return resp.status, json.loads(text) if text else None
    except urllib.error.HTTPError as err:
        text = err.read()
        try:
            return err.code, json.loads(text) if text else None
        except json.JSONDecodeError:
            return err.code, text.decode(errors="replace")


class RenderedCluster:
    """The prod stack's OpenBao members on loopback; `start(i)`/`stop(i)` run one member."""

    def __init__(self, root: Path, stack: str = "prod", ports: Ports | None = None, **overrides: Any) -> None:
        resources = run_stack(stack, **overrides)
        self.sts = one(resources, STS, "vault")
        self.container = pod(self.sts)["containers"][0]
        self.config = one(resources, CONFIG_MAP, "vault-config")["data"]["config.hcl"]
        self.replicas = int(self.sts["spec"]["replicas"])
        self.root = root
        self.ports = ports or Ports(tuple(free_port() for _ in range(self.replicas)),
                                    tuple(free_port() for _ in range(self.replicas)))
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.members = [loopback_member(self.config, self.container, "vault", i, self.ports, root)
                        for i in range(self.replicas)]

    def address(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports.api[index]}"

    def probe_path(self, kind: str) -> str:
        return self.container[f"{kind}Probe"]["httpGet"]["path"]

    def ceremony_key(self, key: bytes | None = None) -> bytes:
        """What the key ceremony puts into the Secret: 32 random bytes under the rendered current key id."""
        key_id = re.search(r'current_key_id\s*=\s*"([^"]+)"', self.config).group(1)
        key = key or secrets.token_bytes(32)
        for i in range(self.replicas):
            (mount_dir(self.root, i, "/vault/unseal") / key_id).write_bytes(key)
        return key

    def start(self, index: int) -> None:
        argv, env, _ = self.members[index]
        log = open(self.root / f"member-{index}.log", "ab")  # noqa: SIM115 (kept open for the process)
        self.procs[index] = subprocess.Popen([find_binary(argv[0]), *argv[1:]], stdout=log, stderr=subprocess.STDOUT,
                                             env={"PATH": os.environ.get("PATH", ""), **env})

    def log(self, index: int) -> str:
        return (self.root / f"member-{index}.log").read_text(errors="replace")

    def stop(self, index: int) -> None:
        proc = self.procs.pop(index, None)
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop_all(self) -> None:
        for index in list(self.procs):
            self.stop(index)

    def wait(self, what: str, check: Any, timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, proc in self.procs.items():
                assert proc.poll() is None, f"member {i} exited: {self.log(i)[-1500:]}"
            try:
                result = check()
                if result:
                    return result
            except OSError:
                pass
            time.sleep(0.3)
        logs = "\n".join(f"--- member {i}\n{self.log(i)[-1200:]}" for i in self.procs)
        raise AssertionError(f"timed out waiting for {what}\n{logs}")

    def health(self, index: int, path: str) -> int:
        return http(self.address(index), "GET", path)[0]
