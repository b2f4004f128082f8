"""Python's cycle collector during a verdict: rare, and blind to what existed before.

A verdict allocates several objects per resource per policy, almost none of them in cycles, and with the
default thresholds the collector keeps re-walking everything the Pulumi SDK, the parsed manifests and
the pack built before: a tenth of a second per 1,000 resources, spread over every phase. Reference
counting still frees acyclic garbage at once; cycles wait for a rarer pass. All of it is restored after.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

RARE = (50_000, 20, 100)


@contextmanager
def rare_collections() -> Iterator[None]:
    with frozen():
        thresholds = gc.get_threshold()
        gc.set_threshold(*RARE)
        try:
            yield
        finally:
            gc.set_threshold(*thresholds)


_depth = 0  # frozen() blocks open; gc.get_freeze_count() would walk every frozen object to say


@contextmanager
def frozen() -> Iterator[None]:
    """gc.freeze() for the block; nested blocks leave the unfreezing to the outermost."""
    global _depth
    _depth += 1
    gc.freeze()
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            gc.unfreeze()
