"""One running policy pack process, started the way the Pulumi CLI starts it, and a gRPC stub to it.

`python -u -m pulumi.policy <engine-address> <pack-dir>` with cwd = the pack dir and PULUMI_PROJECT,
PULUMI_STACK, PULUMI_DRY_RUN and PULUMI_CONFIG in the environment; the pack prints its port first.
A pack that does not start, dies, or does not answer in time raises PackError (never a pass).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import grpc
import yaml

from cdb_core import yaml_limits
from cdb_core.errors import PackError

# Generous: the pack imports the Pulumi SDK before it prints its port.
START_TIMEOUT_S = 60.0
CALL_TIMEOUT_S = 120.0
# What our pack says on stderr when it serves with the SDK's own servicer (policy_pack/server.py).
STOCK_PATH_NOTE = "serving with the SDK's own servicer"


def pack_version(pack_dir: Path) -> str:
    meta_file = pack_dir / "PulumiPolicy.yaml"
    try:
        meta = yaml_limits.load(meta_file.read_text(encoding="utf-8"), str(meta_file)) or {}
    except yaml_limits.YamlLimitError as exc:
        raise PackError(str(exc)) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PackError(f"{meta_file}: cannot read the pack's metadata: {' '.join(str(exc).split())}") from None
    if not isinstance(meta, dict):
        raise PackError(f"{meta_file}: the pack's metadata must be a mapping (runtime, version, description)")
    return str(meta.get("version") or "0.0.1")


# One environment string may not exceed 128 KiB on Linux (MAX_ARG_STRLEN); a stack with a thousand
# services has a larger config. The whole config still reaches the pack through ConfigureStack.
MAX_CONFIG_ENV = 96 * 1024


def _config_env(config: dict[str, str]) -> str:
    payload = json.dumps(config)
    if len(payload) <= MAX_CONFIG_ENV:
        return payload
    kept: dict[str, str] = {}
    for key, value in sorted(config.items(), key=lambda kv: len(kv[1])):
        if len(json.dumps({**kept, key: value})) > MAX_CONFIG_ENV:
            break
        kept[key] = value
    omitted = sorted(set(config) - set(kept))
    print(
        f"cdb: warning: config too large for the pack's environment; {', '.join(omitted)} reach the pack only "
        "through ConfigureStack (policies reading pulumi.Config() will not see them)",
        file=sys.stderr,
    )
    return json.dumps(kept)


def _pack_python(pack_dir: Path) -> str:
    # The CLI runs the pack in its own virtual environment when it has one.
    own = pack_dir / "venv" / "bin" / "python"
    return str(own) if own.is_file() else sys.executable


class PackProcess:
    """One running pack and a gRPC stub to it. Use as a context manager."""

    def __init__(self, pack_dir: Path, project: str, stack: str, config: dict[str, str], dry_run: bool = True):
        self.pack_dir = pack_dir.resolve()
        if not (self.pack_dir / "__main__.py").is_file():
            raise PackError(f"{self.pack_dir}: not a policy pack (no __main__.py); pass --policy-pack DIR")
        self.version = pack_version(self.pack_dir)
        env = dict(os.environ)
        env.update(
            PULUMI_PROJECT=project,
            PULUMI_STACK=stack,
            PULUMI_ORGANIZATION="organization",
            PULUMI_DRY_RUN="true" if dry_run else "false",
            PULUMI_CONFIG=_config_env(config),
        )
        self._proc = subprocess.Popen(
            [_pack_python(self.pack_dir), "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(self.pack_dir)],
            cwd=self.pack_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._stderr: list[str] = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        port = self._read_port()
        self._channel = grpc.insecure_channel(
            f"127.0.0.1:{port}",
            options=[("grpc.max_receive_message_length", 256 << 20), ("grpc.max_send_message_length", 256 << 20)],
        )
        from pulumi.runtime.proto import analyzer_pb2_grpc

        self.stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)

    def _drain_stderr(self) -> None:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            self._stderr.append(line.rstrip())
            if STOCK_PATH_NOTE in line:  # the pack serves without its SDK adapter: the user should know
                print(f"cdb: {line.rstrip()}", file=sys.stderr, flush=True)

    def stderr_tail(self, n: int = 5) -> str:
        lines = [line for line in self._stderr if line.strip()]
        return " | ".join(lines[-n:])

    def _read_port(self) -> int:
        lines: queue.Queue[str] = queue.Queue()
        assert self._proc.stdout is not None
        threading.Thread(target=lambda: lines.put(self._proc.stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            self.close()
            raise PackError(f"{self.pack_dir}: the policy pack did not report its port within {START_TIMEOUT_S:.0f}s") from None
        try:
            return int(line.strip())
        except ValueError:
            self._proc.wait(timeout=10)
            detail = self.stderr_tail() or line.strip() or "no output"
            self.close()
            raise PackError(f"{self.pack_dir}: the policy pack failed to start: {detail}") from None

    def call(self, method: str, request, timeout: float | None = None, tolerate_unimplemented: bool = False):
        timeout = CALL_TIMEOUT_S if timeout is None else timeout
        try:
            return getattr(self.stub, method)(request, timeout=timeout)
        except grpc.RpcError as exc:
            code = exc.code()
            if tolerate_unimplemented and code == grpc.StatusCode.UNIMPLEMENTED:
                return None
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise PackError(f"policy pack: {method} did not answer within {timeout:.0f}s") from None
            detail = (exc.details() or "").strip().splitlines()
            reason = detail[-1] if detail else code.name
            raise PackError(f"policy pack: {method} failed: {reason}") from None

    def close(self) -> None:
        if getattr(self, "_channel", None) is not None:
            self._channel.close()
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> PackProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
