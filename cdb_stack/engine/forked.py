"""A share of the work done by a forked copy of this process, on the machine's other core.

The copy inherits everything already in memory (the parsed resources, the configured servicer: no
start-up, nothing to send), does its share and writes each result, as bytes, to a file the two
processes share. Results come back in order. Used for `cdb check`'s parsing and judging. Fail closed: an
exception in the copy, a copy that dies, and a copy that makes no progress within the deadline each
raise, and the copy never outlives the call.
"""

from __future__ import annotations

import gc
import os
import signal
import tempfile
import time
from collections.abc import Callable, Iterable

from cdb_stack.engine import collector, pack_process
from cdb_stack.errors import PackError

# Below this many resources a second process saves less than its fork and page copies cost.
MIN_RESOURCES = 400
# The parent judges this fraction; it also decodes the rest for the stack policies and runs those.
PARENT_SHARE = 0.3
_ERROR = 0xFFFFFFFF  # length prefix that marks an error record instead of an answer
_POLL_S = 0.005


def available() -> bool:
    """A second core and fork() to reach it."""
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1


def can_fork(count: int) -> bool:
    return count >= MIN_RESOURCES and available()


def split_point(count: int) -> int:
    return int(count * PARENT_SHARE) if can_fork(count) else count


class ForkedError(Exception):
    """The copy's work raised; the message is what `describe` made of the exception."""


class ForkedShare:
    """Run `work()` (an iterable of bytes results) in a forked copy; collect the results with `results()`."""

    def __init__(self, work: Callable[[], Iterable[bytes]], describe: Callable[[BaseException], str] = repr):
        self._file = tempfile.TemporaryFile()
        self._done = False
        self._frozen = collector.frozen()  # the copy shares these pages instead of touching them in a collection
        self._frozen.__enter__()
        try:
            self.pid = os.fork()
        except OSError:  # no process to spare: the caller does the work itself
            self._frozen.__exit__(None, None, None)
            self._file.close()
            raise
        if self.pid == 0:  # pragma: no cover - runs in the copy, which leaves through os._exit
            self._child(work, describe)

    def _child(self, work, describe) -> None:
        gc.disable()
        code = 0
        fd = self._file.fileno()
        try:
            for data in work():
                os.write(fd, len(data).to_bytes(4, "little") + data)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails closed
            text = describe(exc).encode("utf-8", "replace")
            os.write(fd, _ERROR.to_bytes(4, "little") + text)
            code = 3
        finally:
            os._exit(code)

    def results(self, deadline_s: float | None = None) -> list[bytes]:
        """Wait for the copy and read its results.

        Raises ForkedError when its work raised, ChildProcessError when it died, and TimeoutError when
        it wrote nothing new for `deadline_s` seconds.
        """
        status = self._wait(deadline_s)
        self._file.seek(0)
        blob = self._file.read()
        results, offset = [], 0
        while offset < len(blob):
            size = int.from_bytes(blob[offset:offset + 4], "little")
            offset += 4
            if size == _ERROR:
                raise ForkedError(blob[offset:].decode("utf-8", "replace"))
            results.append(blob[offset:offset + size])
            offset += size
        if status != 0:
            raise ChildProcessError(f"the forked process ended with status {status}")
        return results

    def answers(self, message_type: type, count: int, method: str = "Analyze") -> list:
        """Analyzer answers of a judging share; every failure is the pack's (PackError)."""
        try:
            results = self.results(pack_process.CALL_TIMEOUT_S)
        except (ForkedError, ChildProcessError) as exc:
            raise PackError(f"policy pack: {method} failed: {exc}") from None
        except TimeoutError:
            raise PackError(f"policy pack: {method} did not answer within {pack_process.CALL_TIMEOUT_S:.0f}s") from None
        if len(results) != count:
            raise PackError(f"policy pack: {method} failed: the judging process gave {len(results)} of {count} answers")
        return [message_type.FromString(data) for data in results]

    def _wait(self, deadline_s: float | None) -> int:
        seen, since = -1, time.monotonic()
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self._done = True
                return os.waitstatus_to_exitcode(status)
            size = os.fstat(self._file.fileno()).st_size
            if size != seen:
                seen, since = size, time.monotonic()
            elif deadline_s is not None and time.monotonic() - since > deadline_s:
                raise TimeoutError
            time.sleep(_POLL_S)

    def close(self) -> None:
        if not self._done:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self._done = True
        self._frozen.__exit__(None, None, None)
        self._file.close()
