"""The stack's own streams for the event tools: read from `Pulumi.<stack>.yaml`, through the same settings
and StreamSpec conversion the event bus part uses, so tools and cluster agree on names, subjects and
versions."""

from __future__ import annotations

from pathlib import Path

from cdb_core.project import load_project
from cdb_core.errors import CdbError
from components.streams import StreamSpec


def stack_streams(stack: str, cwd: str | Path = ".") -> tuple[StreamSpec, ...]:
    from cdb_stack.parts.event_bus import stream_specs
    from cdb_stack.settings import parse_settings

    project = load_project(cwd, stack)
    source = project.stack_file.name if project.stack_file else f"Pulumi.{stack}.yaml"
    settings = parse_settings(project.config, source=source)
    try:
        return stream_specs(settings.event_bus, settings.environment.value == "dev")
    except ValueError as exc:
        raise CdbError(f"{source}: cdb-infra:eventBus.{exc}") from None


def stack_stream(stack: str, name: str, cwd: str | Path = ".") -> StreamSpec:
    specs = stack_streams(stack, cwd)
    for spec in specs:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in specs) or "none"
    raise CdbError(f"stack {stack!r} declares no stream {name!r}; its streams: {known} (choose one with --stream)")


def _settings(stack: str, cwd: str | Path) -> tuple[object, str]:
    from cdb_stack.settings import parse_settings

    project = load_project(cwd, stack)
    source = project.stack_file.name if project.stack_file else f"Pulumi.{stack}.yaml"
    return parse_settings(project.config, source=source), source


def migration_phase(stack: str, cwd: str | Path = ".") -> tuple[str, str]:
    """(the stack's Redis migration phase, its settings file name)."""
    settings, source = _settings(stack, cwd)
    return settings.redis.migration_phase, source  # type: ignore[attr-defined]
