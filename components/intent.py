"""Base class of every typed intent: frozen, no unknown fields, one-line errors."""

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from components.errors import args_error


class Intent(BaseModel):
    """A frozen, strictly-shaped argument model whose validation errors read as one line."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise args_error(type(self).__name__, type(self), exc) from None

    @classmethod
    def parse(cls, data: Any, owner: str | None = None) -> Self:
        """Validate a mapping (or an instance) into this model; `owner` names the place in errors."""
        if isinstance(data, cls):
            return data
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise args_error(owner or cls.__name__, cls, exc) from None

    def to_plain(self) -> dict[str, Any]:
        """The validated arguments as plain JSON data (what a component hands to the engine)."""
        return self.model_dump(mode="json", exclude_none=True)
