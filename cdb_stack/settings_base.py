"""Building blocks shared by every settings model (the stack's and each part's)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

Name = Annotated[str, Field(pattern=DNS_LABEL, max_length=63)]


class Strict(BaseModel):
    """Frozen, unknown keys refused, camelCase keys in config (snake_case accepted too)."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)
