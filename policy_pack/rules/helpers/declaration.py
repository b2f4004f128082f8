"""The stack declaration: one ConfigMap by which a stack states its environment and migration phase.

Policies need two facts no single object shows: whether the stack is a dev stack (single-replica
streams are allowed there) and where the Redis -> JetStream migration stands. Stack settings are not
visible under `cdb check`, so the stack writes them into a ConfigMap labelled
``cdb-infra.io/stack-declaration: "true"`` (keys in conventions). Without a declaration a stack is
held to production rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .access import get, mapping
from .conventions import (
    DECLARATION_API_SERVER_ENDPOINTS, DECLARATION_API_SERVER_PORT, DECLARATION_ENVIRONMENT,
    DECLARATION_MIGRATION_PHASE, DECLARATION_REDIS_DOCS, DECLARATION_REDIS_SUNSET, DECLARATION_RETRY_HORIZON,
    ENVIRONMENT_DEV, LABEL_STACK_DECLARATION,
)
from .objects import KubeObject, objects

CONFIG_MAP = (("core", "ConfigMap"),)
KEYS = (DECLARATION_ENVIRONMENT, DECLARATION_MIGRATION_PHASE, DECLARATION_REDIS_SUNSET, DECLARATION_REDIS_DOCS,
        DECLARATION_API_SERVER_ENDPOINTS, DECLARATION_API_SERVER_PORT, DECLARATION_RETRY_HORIZON)


@dataclass(frozen=True)
class Declaration:
    values: Mapping[str, Any]
    sources: tuple[KubeObject, ...]
    conflicts: tuple[str, ...]

    def get(self, key: str) -> Any:
        return self.values.get(key)

    @property
    def is_dev(self) -> bool:
        return self.values.get(DECLARATION_ENVIRONMENT) == ENVIRONMENT_DEV

    @property
    def where(self) -> str:
        return self.sources[0].label if self.sources else "no stack declaration"


def declarations(resources: Sequence[Any]) -> list[KubeObject]:
    return [config_map for config_map in objects(resources, CONFIG_MAP)
            if get(config_map.labels, LABEL_STACK_DECLARATION) == "true"]


def read_declaration(resources: Sequence[Any]) -> Declaration:
    """The merged declaration; keys that two declarations set differently are conflicts, not values."""
    found = declarations(resources)
    values: dict[str, Any] = {}
    conflicts = []
    for config_map in found:
        data = mapping(config_map.props, "data")
        for key in KEYS:
            value = get(data, key)
            if value is None:
                continue
            if key in values and values[key] != value:
                conflicts.append(key)
            values.setdefault(key, value)
    for key in conflicts:
        values.pop(key, None)
    return Declaration(values, tuple(found), tuple(dict.fromkeys(conflicts)))
