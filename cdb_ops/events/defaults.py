"""Defaults of the event tools: local servers, overridable by flags or CDB_* environment variables."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from components.streams import StreamSpec, stream_spec
from cdb_ops.events.schemas import SchemaRegistry

DEFAULT_STREAM = "CDB_EVENTS"


def nats_url() -> str:
    return os.environ.get("CDB_NATS_URL", "nats://127.0.0.1:4222")


def redis_url() -> str:
    return os.environ.get("CDB_REDIS_URL", "redis://127.0.0.1:6379/0")


def stack_name() -> str | None:
    """The stack whose settings the event tools follow (streams, replicas), if one is set."""
    return os.environ.get("CDB_STACK") or None


def stream_name() -> str:
    return os.environ.get("CDB_EVENTS_STREAM", DEFAULT_STREAM)


def stream_for_schemas(registry: SchemaRegistry, name: str = DEFAULT_STREAM, replicas: int = 1) -> StreamSpec:
    """A stream over every domain and version the schema registry knows ('<domain>.v<N>.>').

    For tools run without stack settings; the stack's own streams come from its settings.
    """
    return stream_spec(
        name=name,
        subjects=registry.stream_subjects(),
        description="CDB domain events (versioned subjects)",
        replicas=replicas,
    )


def redact(url: str) -> str:
    """A URL without its password, for reports that end up in the audit log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    user = f"{parts.username}:***@" if parts.username else ":***@"
    netloc = user + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
