"""Runs a Pulumi Python program in-process under Pulumi's mock runtime, as a preview, and records every
registration the way the engine would see it (type, name, parent, dependencies, inputs in wire form).

Only the runtime is mocked: the program, its components and the Pulumi SDK run unchanged. Mock gaps are
closed here rather than in the program: engine-style URNs, the root stack registration, remote
components kept and marked (their children cannot be expanded without the engine).
"""

from __future__ import annotations

import logging
import os
import runpy
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from cdb_stack.engine.collector import rare_collections
from cdb_stack.engine.model import Resource, SourceLocation
from cdb_stack.engine.project import Project
from cdb_stack.engine.urns import STACK_TYPE
from cdb_stack.errors import CdbError


@dataclass
class ProgramRun:
    resources: list[Resource]
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _source(request, project_dir: Path) -> SourceLocation | None:
    pos = request.sourcePosition if request.HasField("sourcePosition") else None
    if pos is None or not pos.uri:
        return None
    path = Path(unquote(urlparse(pos.uri).path))
    if path.name == "mocks.py":  # the root stack is registered by the mock runtime itself
        return None
    try:
        shown = path.resolve().relative_to(project_dir).as_posix()
    except ValueError:
        shown = path.name
    return SourceLocation(shown, max(int(pos.line), 1), max(int(pos.column), 1))


class _LogCollector(logging.Handler):
    """Collects what the program logs through pulumi.log (the engine would print it)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.warnings: list[str] = []
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            self.errors.append(record.getMessage())
        elif record.levelno >= logging.WARNING:
            self.warnings.append(record.getMessage())


def run_program(project: Project) -> ProgramRun:
    # Imported here: importing the Pulumi SDK costs time that `cdb check` and `--help` should not pay.
    import pulumi
    import pulumi.runtime
    from pulumi.runtime import mocks, settings

    from cdb_stack.engine.monitor import PreviewMocks, RecordingMonitor
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    project_dir = project.directory

    def describe(request, urn: str, properties: dict) -> Resource:
        return Resource(
            urn=urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            properties=properties,
            parent=request.parent or None,
            dependencies=tuple(request.dependencies),
            property_dependencies={k: tuple(v.urns) for k, v in request.propertyDependencies.items()},
            remote=bool(request.remote),
            transforms=len(request.transforms),
            provider=request.provider,
            source=_source(request, project_dir),
        )

    logger = logging.getLogger(f"cdb.program.{project.name}.{project.stack}")
    logger.propagate = False
    collector = _LogCollector()
    logger.handlers = [collector]
    logger.setLevel(logging.DEBUG)

    # A fresh runtime per run, so a second preview in the same process starts from nothing. The SDK
    # needs a current event loop; asyncio.run() elsewhere in the process leaves none behind.
    import asyncio

    asyncio.set_event_loop(asyncio.new_event_loop())
    settings.ROOT.set(None)
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    monitor = RecordingMonitor(project.name, project.stack, describe)
    mocks.set_mocks(
        PreviewMocks(), project=project.name, stack=project.stack, preview=True, logger=logger, monitor=monitor
    )
    pulumi.runtime.set_all_config(dict(project.config), list(project.secret_keys))

    old_cwd, old_path = os.getcwd(), list(sys.path)
    os.chdir(project_dir)
    sys.path.insert(0, str(project.main.parent))
    try:
        with offline_sdk_speedups():
            _sync_await(run_pulumi_func(lambda: runpy.run_path(str(project.main), run_name="__main__")))
    except CdbError:
        raise
    except pulumi.RunError as exc:
        raise CdbError(str(exc)) from None
    except Exception as exc:  # the user's program failed: one line, the verdict is an error
        raise CdbError(f"{project.main.name}: the program failed: {type(exc).__name__}: {exc}") from exc
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path
        settings.ROOT.set(None)

    if not any(r.type == STACK_TYPE for r in monitor.recorded):
        raise CdbError("the program registered no root stack; is it a Pulumi program?")
    return ProgramRun(tree_order(monitor.recorded), collector.warnings, collector.errors)


# --- Offline-only speed-ups of the SDK's registration path (never active under the Pulumi CLI) ----------

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


@contextmanager
def offline_sdk_speedups():
    """Faster equivalents of what the mock runtime makes every registration pay, for one program run.

    The SDK's stack walk is replaced (same result, see stack_trace_from) unless sys.tracebacklimit
    changes what traceback would see, and the cycle collector runs rarely (collector.py): a preview
    allocates ~10^4 objects per resource, mostly acyclic. All of it is restored after.
    """
    from pulumi.runtime import resource as sdk_resource

    original = sdk_resource._get_stack_trace
    if not hasattr(sys, "tracebacklimit"):
        sdk_resource._get_stack_trace = _fast_get_stack_trace
    try:
        with rare_collections():
            yield
    finally:
        sdk_resource._get_stack_trace = original


def tree_order(resources: list[Resource]) -> list[Resource]:
    """Parents before children, siblings by name and type.

    The SDK registers resources as their inputs resolve, so arrival order varies from run to run;
    reports, renders and diffs need the same order every time.
    """
    children: dict[str | None, list[Resource]] = {}
    known = {r.urn for r in resources}
    for r in resources:
        children.setdefault(r.parent if r.parent in known else None, []).append(r)
    ordered: list[Resource] = []
    stack = sorted(children.get(None, []), key=lambda r: (r.name, r.type), reverse=True)
    while stack:
        r = stack.pop()
        ordered.append(r)
        stack.extend(sorted(children.get(r.urn, []), key=lambda c: (c.name, c.type), reverse=True))
    return ordered
