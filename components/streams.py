"""The one typed source of truth for a JetStream stream (CDB_INFRA_POLICY clause 4).

A `StreamSpec` feeds three consumers that must never disagree: the NATS component (it emits a NACK
`jetstream.nats.io/v1beta2` Stream custom resource from `to_nack_spec()`), the event tools (they create
or check the stream through nats-py with `to_nats_config()`), and the stack settings (a list of specs).

Subjects carry the schema version (`<domain>.v<N>.<type>` or `<domain>.v<N>.>`), so a breaking schema
change gets new subjects and readers of the old version keep reading theirs. Storage is always file
and retention always limits: a memory stream or a work-queue/interest stream deletes events, and the
migration is accepted by replaying the bus, so neither can be declared here.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from components.errors import ComponentArgsError, args_error

if TYPE_CHECKING:  # nats-py is only needed by callers that talk to a server
    from nats.js.api import StreamConfig

NACK_API_VERSION = "jetstream.nats.io/v1beta2"
NACK_KIND = "Stream"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TOKEN = r"[a-z][a-z0-9_-]*"
# `<domain>.v<N>.<type>` names one event type at one version; `<domain>.v<N>.>` every type of it.
SUBJECT_PATTERN = re.compile(rf"^(?P<domain>{_TOKEN})\.v(?P<version>[1-9][0-9]*)\.(?P<type>{_TOKEN}|>)$")


def parse_subject(subject: str) -> tuple[str, int, str]:
    """(domain, version, type) of a versioned subject; type is '>' for a wildcard subject."""
    match = SUBJECT_PATTERN.match(subject)
    if match is None:
        raise ValueError(
            f"subject {subject!r} carries no version token; use '<domain>.v<N>.<type>' or "
            "'<domain>.v<N>.>' with lower-case tokens, e.g. 'orders.v1.created'"
        )
    return match["domain"], int(match["version"]), match["type"]


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS wildcard match: '*' is one token, a trailing '>' one or more tokens."""
    want, have = pattern.split("."), subject.split(".")
    for index, token in enumerate(want):
        if token == ">":
            return len(have) > index
        if index >= len(have) or (token != "*" and token != have[index]):
            return False
    return len(want) == len(have)


def go_duration(value: timedelta) -> str:
    """A Go `time.Duration` string (what NACK's duration fields parse), e.g. '2m', '168h', '1h30m'."""
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    return "".join(parts) or "0s"


class StreamSpec(BaseModel):
    """A persistent, replayable JetStream stream of versioned events."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="stream name: letters, digits, '-' and '_' (no '.', '*', '>')")
    subjects: tuple[str, ...] = Field(
        min_length=1, description="versioned subjects, '<domain>.v<N>.<type>' or '<domain>.v<N>.>'"
    )
    description: str = Field(default="", description="what the stream carries, for operators")
    storage: Literal["file"] = Field(default="file", description="always file: memory loses events")
    retention: Literal["limits"] = Field(
        default="limits", description="always limits: interest/workqueue delete events and break replay"
    )
    replicas: int = Field(default=3, ge=1, le=5, description="copies of each message (1-5; 3 in production)")
    duplicate_window: timedelta = Field(
        default=timedelta(minutes=2), description="how long a Nats-Msg-Id is remembered for de-duplication"
    )
    max_age: timedelta | None = Field(default=None, description="oldest event kept; None keeps events forever")
    max_bytes: int = Field(default=-1, ge=-1, description="size limit in bytes, -1 for unlimited")
    max_msgs: int = Field(default=-1, ge=-1, description="message limit, -1 for unlimited")
    deny_delete: bool = Field(default=True, description="refuse deleting single events (audit trail)")
    deny_purge: bool = Field(default=True, description="refuse purging the stream (audit trail)")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"name {value!r} is not a stream name; use 1-64 letters, digits, '-' or '_'")
        return value

    @field_validator("subjects")
    @classmethod
    def _subjects(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for subject in value:
            parse_subject(subject)
        if len(set(value)) != len(value):
            raise ValueError(f"subjects {list(value)} repeat a subject; list each subject once")
        for subject in value:
            for other in value:
                if other != subject and subject_matches(other, subject):
                    raise ValueError(f"subject {subject!r} is already covered by {other!r}; drop one of them")
        return value

    @field_validator("duplicate_window", "max_age")
    @classmethod
    def _whole_seconds(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and (value.total_seconds() < 1 or value.microseconds):
            raise ValueError(f"duration {value} must be a whole number of seconds, at least 1s")
        return value

    @model_validator(mode="after")
    def _window_within_age(self) -> StreamSpec:
        if self.max_age is not None and self.duplicate_window > self.max_age:
            raise ValueError(
                f"duplicate_window {go_duration(self.duplicate_window)} exceeds max_age "
                f"{go_duration(self.max_age)}; JetStream refuses that, shorten the window"
            )
        return self

    def covers(self, subject: str) -> bool:
        """Whether an event published on `subject` is stored by this stream."""
        return any(subject_matches(pattern, subject) for pattern in self.subjects)

    def to_nats_config(self) -> StreamConfig:
        """The nats-py StreamConfig (durations in seconds, as nats-py expects)."""
        from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

        return StreamConfig(
            name=self.name,
            description=self.description or None,
            subjects=list(self.subjects),
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            num_replicas=self.replicas,
            duplicate_window=self.duplicate_window.total_seconds(),
            max_age=self.max_age.total_seconds() if self.max_age else 0,
            max_bytes=self.max_bytes,
            max_msgs=self.max_msgs,
            discard=DiscardPolicy.OLD,
            deny_delete=self.deny_delete,
            deny_purge=self.deny_purge,
        )

    def to_nack_spec(self) -> dict[str, Any]:
        """`spec` of a NACK Stream CR (field names from nats-io/nack deploy/crds.yml, v1beta2).

        storage is always written out: the CRD's default is memory.
        """
        spec: dict[str, Any] = {
            "name": self.name,
            "subjects": list(self.subjects),
            "storage": self.storage,
            "retention": self.retention,
            "replicas": self.replicas,
            "discard": "old",
            "duplicateWindow": go_duration(self.duplicate_window),
            "maxAge": go_duration(self.max_age) if self.max_age else "",
            "maxBytes": self.max_bytes,
            "maxMsgs": self.max_msgs,
            "denyDelete": self.deny_delete,
            "denyPurge": self.deny_purge,
        }
        if self.description:
            spec["description"] = self.description
        return spec


def stream_spec(**kwargs: Any) -> StreamSpec:
    """Build a StreamSpec; invalid arguments raise ComponentArgsError with a one-line message."""
    try:
        return StreamSpec(**kwargs)
    except ValidationError as exc:
        raise args_error(f"StreamSpec {kwargs.get('name', '?')}", StreamSpec, exc) from None


__all__ = [
    "NACK_API_VERSION",
    "NACK_KIND",
    "SUBJECT_PATTERN",
    "ComponentArgsError",
    "StreamSpec",
    "go_duration",
    "parse_subject",
    "stream_spec",
    "subject_matches",
]
