"""Run the real `cdb` in a pseudo-terminal, as a person at a shell would, and in a pipe."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

CDB = [sys.executable, "-c", "from cdb_cli import run; run()"]


def person_env(columns: int = 110) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR")}
    return env | {"COLUMNS": str(columns), "LINES": "40"}


def in_terminal(*argv: str, env: dict[str, str] | None = None, timeout: float = 180) -> tuple[int, str]:
    """Exit code and everything the terminal showed (stdout and stderr, CR LF as LF)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([*CDB, *argv], stdin=follower, stdout=follower, stderr=follower,
                               env=env or person_env(), close_fds=True)
    os.close(follower)
    seen = b""
    try:  # read while it runs: a full pty buffer would block the program
        while chunk := os.read(leader, 65536):
            seen += chunk
    except OSError:  # EIO once the program has exited and closed its side
        pass
    finally:
        os.close(leader)
    return process.wait(timeout=timeout), seen.decode().replace("\r\n", "\n")


def in_pipe(*argv: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([*CDB, *argv], capture_output=True, text=True, env=env or person_env(), timeout=timeout)
