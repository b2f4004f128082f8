"""Parsing large manifest inputs on two cores: a forked copy parses the second half while this process
parses the first.

The halves are whole files or, for a file larger than a quarter of the input, its two halves split at a
document marker (`---` at the start of a line, which YAML forbids inside any scalar or collection). The
second half is padded with the newlines before it, so every line number stays what it is in the file.
The copy sends its objects back pickled. Anything unusual (a directive, a problem in either half) makes
`parse` return None and the caller reads everything in order, so errors are reported exactly as a
sequential read reports them.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from cdb_stack.engine import forked, pack_process
from cdb_stack.engine.manifest_yaml import read_text
from cdb_stack.errors import ManifestError

# Below this much YAML one process parses faster than two (fork, pickling, page copies).
PARALLEL_BYTES = 256 * 1024
# This process's share of the bytes when it has other work meanwhile (loading the pack costs about as
# much as parsing a third of 2,000 Deployments).
MINE_WITH_OTHER_WORK = 0.35

Objects = list[tuple[dict[str, Any], int]]
Reader = Callable[[str, str], Iterator[tuple[dict[str, Any], int]]]


def split_text(text: str, fraction: float = 0.5) -> tuple[str, str] | None:
    """The text cut at the first document marker past `fraction` of it: (head, tail padded to keep lines)."""
    if text.startswith("%") or "\n%" in text:  # a directive belongs to the document after it: keep whole
        return None
    at = text.find("\n---", int(len(text) * fraction))
    while at != -1 and text[at + 4:at + 5] not in ("", "\n", "\r", " ", "\t"):
        at = text.find("\n---", at + 1)
    if at == -1:
        return None
    head = text[:at + 1]
    return head, "\n" * head.count("\n") + text[at + 1:]


def _units(texts: Sequence[tuple[str, str]], mine_bytes: float) -> tuple[list[tuple[str, str]], int]:
    """(file, text) units in order and how many of them are this process's: about `mine_bytes` of YAML,
    cutting the file that straddles the mark when it is large enough to matter."""
    total = sum(len(text) for _, text in texts)
    units: list[tuple[str, str]] = []
    cut, done = None, 0
    for file, text in texts:
        if cut is None and done + len(text) > mine_bytes:
            fraction = (mine_bytes - done) / len(text)
            halves = split_text(text, fraction) if len(text) * 8 > total else None
            if halves:
                units.extend((file, part) for part in halves)
                cut = len(units) - 1
            else:
                units.append((file, text))
                cut = len(units) if fraction > 0.5 else len(units) - 1
        else:
            units.append((file, text))
        done += len(text)
    return units, len(units) if cut is None else cut


class Once:
    """The caller's other work, run at most once (see load_manifests' `meanwhile`)."""

    def __init__(self, work: Callable[[], None] | None) -> None:
        self._work = work

    def __call__(self) -> None:
        work, self._work = self._work, None
        if work is not None:
            work()

    @property
    def pending(self) -> bool:
        return self._work is not None


def parse(files: Sequence[str], read: Reader, meanwhile: Once) -> list[tuple[str, Objects]] | None:
    """(file, its objects) for every file in order, parsed on two cores; None when that does not pay
    or anything went wrong (then read sequentially). `meanwhile` runs here while the copy parses, and
    the copy then takes the larger share."""
    try:
        texts = [(file, read_text(file)) for file in files]
    except ManifestError:
        return None
    total = sum(len(text) for _, text in texts)
    if total < PARALLEL_BYTES or not forked.available():
        return None
    units, cut = _units(texts, total * (MINE_WITH_OTHER_WORK if meanwhile.pending else 0.5))
    if not 0 < cut < len(units):
        return None
    theirs_units = units[cut:]
    try:
        share = forked.ForkedShare(
            lambda: [pickle.dumps([list(read(f, t)) for f, t in theirs_units], pickle.HIGHEST_PROTOCOL)])
    except OSError:  # the system could not fork: the caller reads everything here
        return None
    try:
        meanwhile()
        mine = [list(read(f, t)) for f, t in units[:cut]]
        [blob] = share.results(pack_process.CALL_TIMEOUT_S)
        theirs = pickle.loads(blob)
    except (ManifestError, forked.ForkedError, ChildProcessError, TimeoutError, ValueError):
        return None
    finally:
        share.close()
    # A file cut in two appears twice in a row; the caller reads the pairs in order all the same.
    return [(file, objects) for (file, _), objects in zip(units, mine + theirs)]
