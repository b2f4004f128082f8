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
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from cdb_engine.preview import sdk_speedups
from cdb_engine.model import Resource, SourceLocation
from cdb_core.project import Project
from cdb_engine.preview.urns import STACK_TYPE
from cdb_core.errors import CdbError


@dataclass
class ProgramRun:
    resources: list[Resource]
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)  # invokes answered with nothing offline


_SHOWN_LOCK = threading.Lock()


def _source(request, project_dir: Path, shown: dict[str, str | None]) -> SourceLocation | None:
    """Where the registration was made; `shown` keeps each file's shown path for the run (resolving a
    path stats every folder of it, and a preview registers hundreds of resources from each file)."""
    pos = request.sourcePosition if request.HasField("sourcePosition") else None
    if pos is None or not pos.uri:
        return None
    try:
        path = shown[pos.uri]
    except KeyError:
        # The monitor answers registrations on several threads: the first of a file resolves it, the
        # others wait for that answer instead of resolving it again.
        with _SHOWN_LOCK:
            if pos.uri not in shown:
                shown[pos.uri] = _shown_path(pos.uri, project_dir)
            path = shown[pos.uri]
    if path is None:
        return None
    return SourceLocation(path, max(int(pos.line), 1), max(int(pos.column), 1))


def _shown_path(uri: str, project_dir: Path) -> str | None:
    """A source file as reports show it: relative to the project, or its name; None for the mocks."""
    path = Path(unquote(urlparse(uri).path))
    if path.name == "mocks.py":  # the root stack is registered by the mock runtime itself
        return None
    try:
        return path.resolve().relative_to(project_dir).as_posix()
    except ValueError:
        return path.name


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

    from cdb_engine.preview.monitor import PreviewMocks, RecordingMonitor
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    project_dir = project.directory
    off = sdk_speedups.switched_off()
    shown: dict[str, str | None] = {}

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
            source=_source(request, project_dir, shown),
            wire=request.object.SerializeToString(),
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
    monitor = RecordingMonitor(project.name, project.stack, describe, echo="echo" not in off)
    mocks.set_mocks(
        PreviewMocks(), project=project.name, stack=project.stack, preview=True, logger=logger, monitor=monitor
    )
    pulumi.runtime.set_all_config(dict(project.config), list(project.secret_keys))

    old_cwd, old_path = os.getcwd(), list(sys.path)
    os.chdir(project_dir)
    sys.path.insert(0, str(project.main.parent))
    try:
        with sdk_speedups.offline_sdk_speedups(off):
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
    return ProgramRun(tree_order(monitor.recorded), collector.warnings, collector.errors, list(monitor.unanswered))


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
