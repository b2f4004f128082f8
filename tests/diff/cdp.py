"""Headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: commands on
fd 3, answers on fd 4, NUL-separated JSON), so tests press real keys and read what has focus. No
WebSocket library and no network port: the browser talks to the test only."""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium")
KEYS = {"Tab": 9, "Enter": 13, " ": 32, "Shift": 16}


def _above(fd: int, lowest: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, lowest)
    os.close(fd)
    return moved


class Browser:
    def __init__(self, profile: Path) -> None:
        assert CHROMIUM, "chromium is missing: scripts/ensure-test-servers.sh installs the Debian package"
        to_child, self._out = os.pipe()
        self._in, from_child = os.pipe()
        # Above 4, so wiring them to 3 and 4 in the child never overwrites one with the other.
        to_child, from_child = (_above(fd, 10) for fd in (to_child, from_child))

        def wire() -> None:  # in the child: its fd 3 reads our commands, its fd 4 writes its answers
            os.dup2(to_child, 3)
            os.dup2(from_child, 4)

        self.process = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--remote-debugging-pipe",
             f"--user-data-dir={profile}", "--window-size=1280,1000", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire, close_fds=False)  # our other fds are not inheritable (PEP 446)
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []
        targets = self.call("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
        self.call("Network.enable", session=True)
        self.call("Page.enable", session=True)

    def close(self) -> None:
        os.close(self._out)
        self.process.terminate()
        self.process.wait(timeout=30)
        os.close(self._in)

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._in], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self._in, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: bool = False, **params: Any) -> dict[str, Any]:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 60
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def open(self, page: Path) -> None:
        self.call("Page.navigate", session=True, url=page.as_uri())
        deadline = time.monotonic() + 60
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(self._read(deadline))

    def js(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        return result["result"].get("value")

    def press(self, key: str, shift: bool = False) -> None:
        """A key as a keyboard sends it: down, (a character), up."""
        base = {"key": key, "code": {" ": "Space"}.get(key, key), "windowsVirtualKeyCode": KEYS.get(key, 0),
                "modifiers": 8 if shift else 0}
        text = {"Enter": "\r", " ": " "}.get(key)
        self.call("Input.dispatchKeyEvent", session=True, type="keyDown" if text else "rawKeyDown",
                  **base, **({"text": text} if text else {}))
        self.call("Input.dispatchKeyEvent", session=True, type="keyUp", **base)

    def type(self, text: str) -> None:
        for char in text:
            self.call("Input.dispatchKeyEvent", session=True, type="keyDown", key=char, text=char)
            self.call("Input.dispatchKeyEvent", session=True, type="keyUp", key=char)

    def requested(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]
