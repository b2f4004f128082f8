"""Offline-only speed-ups of the Pulumi SDK's registration path, for one program run under the mocks.

Never active under the Pulumi CLI, and each one gives what the SDK itself would:
- the stack walk for source positions, without reading source lines (stack_trace_from);
- the SDK's type introspection (type hints of resource, input and output classes, Optional/Input
  unwrapping) remembered per type: pure functions of classes that do not change during a run, which
  the SDK otherwise recomputes for every registration, building a class and resolving its forward
  references each time;
- debug log messages dropped before the SDK builds a request and, for messages about a resource, an
  asyncio task to send it: the offline engine keeps warnings and errors only;
- rare cycle collections (collector.py): a preview allocates ~10^4 objects per resource, mostly acyclic.
All of it is restored after the run. The recording monitor's echo of plain inputs (monitor.py) is the
fifth speed-up.

The off switch: CDB_SDK_SPEEDUPS_OFF=all, or a comma list of SPEEDUPS names, runs the SDK's own code
instead (to rule a speed-up out when a preview looks wrong, and to measure each one's gain:
benchmarks/speedups_bench.py). Each one is held equal to the SDK's original by
tests/engine/test_sdk_speedups.py and tests/engine/test_monitor.py.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import os

from cdb_engine.preview.collector import PROGRAM, rare_collections
from cdb_core.errors import CdbError

OFF_SWITCH = "CDB_SDK_SPEEDUPS_OFF"
SPEEDUPS = ("stack-walk", "type-memo", "no-debug", "rare-gc", "echo")


def switched_off(value: str | None = None) -> frozenset[str]:
    """The speed-ups CDB_SDK_SPEEDUPS_OFF (or `value`) turns off; a name it does not know is an error."""
    value = os.environ.get(OFF_SWITCH, "") if value is None else value
    names = {name.strip() for name in value.split(",") if name.strip()}
    if names == {"all"}:
        return frozenset(SPEEDUPS)
    unknown = sorted(names - set(SPEEDUPS))
    if unknown:
        raise CdbError(f"{OFF_SWITCH}: unknown speed-up {', '.join(unknown)}; use all or a comma list of "
                       f"{', '.join(SPEEDUPS)}")
    return frozenset(names)


def stack_trace_from(frame):
    """What `pulumi.runtime.resource._get_stack_trace` returns when called in place of `frame`.

    The SDK takes traceback.extract_stack(), which reads the source line of every frame of every
    registration (a fifth of the cost per resource under the mock runtime), then keeps only file and
    line. This walks the same frames for the same names, files and lines, without the source text.
    """
    from pulumi.runtime.proto import source_pb2

    stack = []  # innermost first, as sys._getframe walks
    while frame is not None:
        stack.append(frame)
        frame = frame.f_back
    seen = 0
    for i, f in enumerate(stack):  # the third __init__ from the top is the concrete resource class
        if f.f_code.co_name == "__init__":
            seen += 1
            if seen == 3:
                break
    else:
        return source_pb2.StackTrace()
    if i >= len(stack) - 1:  # the SDK's "i < 1": no frame outside the constructor
        return source_pb2.StackTrace()
    return source_pb2.StackTrace(frames=[_stack_frame(f.f_code.co_filename, f.f_lineno) for f in stack[i + 1:]])


_POSITIONS: dict[tuple[str, int | None], object] = {}


def _stack_frame(filename: str, line: int | None):
    key = (filename, line)
    frame = _POSITIONS.get(key)
    if frame is None:
        frame = _POSITIONS[key] = _new_stack_frame(filename, line)
    return frame


def _new_stack_frame(filename: str, line: int | None):
    """As the SDK's _get_source_position_for_frame: no position for frames without a file URI."""
    from pulumi.runtime.proto import source_pb2

    if filename == "" or line is None:
        return source_pb2.StackFrame()
    try:
        uri = Path(filename).as_uri()
    except BaseException:  # noqa: BLE001 - the SDK gives such frames no position, and so do we
        return source_pb2.StackFrame()
    return source_pb2.StackFrame(pc=source_pb2.SourcePosition(uri=uri, line=line))


def _fast_get_stack_trace():
    return stack_trace_from(sys._getframe())


# Functions of pulumi._types that depend on nothing but their (type) argument.
PURE_TYPE_FUNCTIONS = (
    "resource_types", "resource_pulumi_to_py_names", "resource_py_to_pulumi_names",
    "input_type_types", "input_type_py_to_pulumi_names", "output_type_types", "_py_properties",
    "unwrap_type", "unwrap_optional_type", "_is_union_type", "_is_optional_type",
)
_UNSET = object()


def remembered(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`function` with its answers kept per argument (unhashable arguments are passed straight through).

    Callers get the same dict or tuple object each time; the SDK only reads them.
    """
    answers: dict[Any, Any] = {}

    def lookup(argument: Any) -> Any:
        try:
            answer = answers.get(argument, _UNSET)
        except TypeError:
            return function(argument)
        if answer is _UNSET:
            answer = answers[argument] = function(argument)
        return answer

    lookup.__wrapped__ = function  # type: ignore[attr-defined]
    return lookup


def _no_debug(*_args: Any, **_kwargs: Any) -> None:
    """pulumi.log.debug offline: the message is dropped, as the offline engine's log collector would."""


@contextmanager
def _patched(module: Any, name: str, replacement: Any) -> Iterator[None]:
    original = getattr(module, name)
    setattr(module, name, replacement)
    try:
        yield
    finally:
        setattr(module, name, original)


@contextmanager
def offline_sdk_speedups(off: frozenset[str] = frozenset()) -> Iterator[None]:
    """The speed-ups of this module for one run, but those named in `off` (see switched_off)."""
    from pulumi import _types, log
    from pulumi.runtime import resource as sdk_resource

    with ExitStack() as stack:
        if "stack-walk" not in off and not hasattr(sys, "tracebacklimit"):  # a limit changes what traceback sees
            stack.enter_context(_patched(sdk_resource, "_get_stack_trace", _fast_get_stack_trace))
        if "type-memo" not in off:
            for name in PURE_TYPE_FUNCTIONS:
                stack.enter_context(_patched(_types, name, remembered(getattr(_types, name))))
        if "no-debug" not in off:
            stack.enter_context(_patched(log, "debug", _no_debug))
        if "rare-gc" not in off:
            stack.enter_context(rare_collections(PROGRAM))
        yield
