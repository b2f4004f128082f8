"""The schema registry: JSON Schemas per event type and version, kept in the repository.

Layout under the schema root (default `schemas/events/` of the repository):
    envelope.schema.json                      the envelope every event has
    <domain>/<name>.v<N>.schema.json          the `data` of type <domain>.<name>, version N
    published.lock.json                       what has been published (see `compat.lock`)

A file that does not fit the layout is an error, not something to skip: a mistyped file name would
otherwise silently leave an event type without validation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, best_match

from cdb_ops.events.envelope import Event, EventError, parse_time

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "schemas" / "events"
ENVELOPE_FILE = "envelope.schema.json"
LOCK_FILE = "published.lock.json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
_SCHEMA_FILE = re.compile(r"^(?P<name>[a-z][a-z0-9_-]*)\.v(?P<version>[1-9][0-9]*)\.schema\.json$")
_DOMAIN = re.compile(r"^[a-z][a-z0-9_-]*$")

# Own date-time check: jsonschema's needs an optional package and silently passes without it.
_FORMATS = FormatChecker()


@_FORMATS.checks("date-time", raises=EventError)
def _is_date_time(value: object) -> bool:
    if isinstance(value, str):
        parse_time(value)
    return True


class SchemaFileError(EventError):
    """A schema file that is missing, unreadable, misplaced or not a valid JSON Schema."""


@dataclass(frozen=True)
class SchemaKey:
    type: str
    version: int

    def __str__(self) -> str:
        return f"{self.type} v{self.version}"

    @property
    def subject(self) -> str:
        domain, name = self.type.split(".", 1)
        return f"{domain}.v{self.version}.{name}"


def read_schema(path: Path) -> dict[str, Any]:
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SchemaFileError(f"{path}: cannot read ({exc.strerror}); check the schema root") from None
    except ValueError as exc:
        raise SchemaFileError(f"{path}: not JSON ({exc}); fix the file") from None
    except RecursionError:
        raise SchemaFileError(f"{path}: JSON nested too deeply to be an event schema; flatten it") from None
    if not isinstance(schema, dict) or schema.get("$schema") != DRAFT:
        raise SchemaFileError(f"{path}: must be a JSON object with \"$schema\": \"{DRAFT}\"")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise SchemaFileError(f"{path}: {where}: not a valid JSON Schema: {exc.message}") from None
    return schema


def load_schema_files(root: Path) -> dict[SchemaKey, dict[str, Any]]:
    """Every data schema under `root`, keyed by (type, version)."""
    if not root.is_dir():
        raise SchemaFileError(f"{root}: schema root not found; pass --schemas DIR (default schemas/events)")
    found: dict[SchemaKey, dict[str, Any]] = {}
    for path in sorted(root.rglob("*.json")):
        relative = path.relative_to(root)
        if relative.parts in ((ENVELOPE_FILE,), (LOCK_FILE,)):
            continue
        match = _SCHEMA_FILE.match(path.name)
        if len(relative.parts) != 2 or not _DOMAIN.match(relative.parts[0]) or match is None:
            raise SchemaFileError(
                f"{path}: not in the layout <domain>/<name>.v<N>.schema.json (lower-case tokens); "
                "move or rename it"
            )
        found[SchemaKey(f"{relative.parts[0]}.{match['name']}", int(match["version"]))] = read_schema(path)
    return found


class SchemaRegistry:
    """Validates events against the envelope schema and the data schema of their type and version."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else DEFAULT_ROOT
        self.schemas = load_schema_files(self.root)
        self.envelope = read_schema(self.root / ENVELOPE_FILE)
        self._envelope = _Checker(self.envelope)
        self._checkers = {key: _Checker(schema) for key, schema in self.schemas.items()}

    @cached_property
    def types(self) -> dict[str, tuple[int, ...]]:
        versions: dict[str, list[int]] = {}
        for key in self.schemas:
            versions.setdefault(key.type, []).append(key.version)
        return {name: tuple(sorted(v)) for name, v in sorted(versions.items())}

    def stream_subjects(self) -> tuple[str, ...]:
        """One wildcard subject per domain and version, e.g. ('orders.v1.>', 'orders.v2.>')."""
        pairs = sorted({(key.type.split(".", 1)[0], key.version) for key in self.schemas})
        return tuple(f"{domain}.v{version}.>" for domain, version in pairs)

    def validate(self, event: Event) -> Event:
        """Return the event if it fits its schemas; raise EventError naming the failing field."""
        where = f"event {event.id!r}"
        problem = self._envelope.problem(event.to_dict(), "$")
        if problem:
            raise EventError(f"{where}: {problem}")
        key = SchemaKey(event.type, event.schema_version)
        checker = self._checkers.get(key)
        if checker is None:
            known = self.types.get(event.type)
            hint = f"known versions: {', '.join(map(str, known))}" if known else "add its schema first"
            raise EventError(f"{where}: no schema for {key} under {self.root}; {hint}")
        problem = checker.problem(event.data, "$.data")
        if problem:
            raise EventError(f"{where} ({key}): {problem}")
        return event


def _date_time_text(value: str) -> bool:
    try:
        parse_time(value)
    except EventError:
        return False
    return True


class _Checker:
    """jsonschema-rs answers "valid?" (a few microseconds an event, compiled once per schema); only for
    an event it refuses does jsonschema name the field (its best_match message, one line)."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.validator = Draft202012Validator(schema, format_checker=_FORMATS)
        # The same date-time check as jsonschema's (RFC 3339 via parse_time), formats asserted as there.
        self.fast = jsonschema_rs.Draft202012Validator(
            schema, formats={"date-time": _date_time_text}, validate_formats=True).is_valid

    def problem(self, instance: Any, prefix: str) -> str | None:
        if self.fast(instance):
            return None
        error = best_match(self.validator.iter_errors(instance))
        # Both validators are held equal by tests/events/test_validators_agree.py; should they ever differ, the
        # event is still refused (fail closed), naming the validator that refused it.
        path = prefix + ("" if error is None else
                         "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path))
        message = "refused by jsonschema-rs" if error is None else error.message
        return f"{path}: {message}; refused (fix the event or publish it under a schema it fits)"
