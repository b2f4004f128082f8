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
# A Pulumi program under the mocks: young collections every 200,000 allocations, the middle generation in
# practice never. What survives a young collection there is the SDK's resources and outputs, alive until
# the program ends, so walking them again is wasted. Measured on the program of the 1,000-service preview
# (benchmarks/preview_bench.py): the collector's time fell from 7.1 s to 3.0 s against RARE, peak memory
# +3 MB. `cdb check` keeps RARE: its parse is short-lived data, and it measured no faster this way.
PROGRAM = (200_000, 1_000, 100)


@contextmanager
def rare_collections(thresholds: tuple[int, int, int] | None = None) -> Iterator[None]:
    """The block with the collector's `thresholds` (default RARE), under frozen()."""
    rare = RARE if thresholds is None else thresholds
    with frozen():
        before = gc.get_threshold()
        gc.set_threshold(*rare)
        try:
            yield
        finally:
            gc.set_threshold(*before)


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
