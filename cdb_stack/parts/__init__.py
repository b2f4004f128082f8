"""The reference stack's parts (clause 3), beyond zones and services: an explicit, ordered registry.

Each part is a module with:
- `KEY`: its settings key (`cdb-infra:<KEY>` in config, a field of StackSettings),
- `Settings`: its strict settings model (defaults make a compliant part),
- `plan(settings, ctx: PlanContext) -> object`: validated component arguments; raise ValueError or
  ComponentArgsError (reported against the config key, before anything is built),
- `build(planned, ctx: BuildContext) -> dict`: builds the components; returns stack outputs.
Order matters: a later part may use what an earlier one published in `ctx.published`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

PART_MODULES: tuple[str, ...] = (
    "cdb_stack.parts.secrets",
    "cdb_stack.parts.object_storage",
    "cdb_stack.parts.event_bus",
    "cdb_stack.parts.redis",
    "cdb_stack.parts.kafka",
    "cdb_stack.parts.observability",
    "cdb_stack.parts.gitops",
)


@dataclass(frozen=True)
class PlanContext:
    project: str
    stack: str
    environment: str  # "dev" | "prod"
    provenance: Any  # components.provenance.Provenance
    settings: Any  # cdb_stack.settings.StackSettings

    @property
    def is_dev(self) -> bool:
        return self.environment == "dev"


@dataclass
class BuildContext:
    plan: PlanContext
    zones: dict[str, Any] = field(default_factory=dict)  # name -> components.zone.Zone
    services: dict[str, Any] = field(default_factory=dict)  # name -> StatelessService
    published: dict[str, Any] = field(default_factory=dict)  # what a part offers later parts


def parts() -> list[ModuleType]:
    return [importlib.import_module(name) for name in PART_MODULES]
