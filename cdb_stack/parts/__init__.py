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

    def api_server_egress(self, who: str) -> tuple[Any, ...]:
        """Egress destinations to the API server, from the one `apiServer` setting (endpoints and port,
        never the Service ClusterIP). Raises ValueError naming `who` when the setting is missing."""
        from components.network import Destination

        api = getattr(self.settings, "api_server", None)
        if api is None:
            raise ValueError(f"{who} talks to the Kubernetes API server: set cdb-infra:apiServer.endpoints to the "
                             "API server's endpoint addresses (kubectl get endpointslices -l kubernetes.io/service-name=kubernetes)")
        return tuple(Destination(cidr=cidr, ports=(api.port,)) for cidr in api.cidrs())


@dataclass
class BuildContext:
    plan: PlanContext
    zones: dict[str, Any] = field(default_factory=dict)  # name -> components.zone.Zone
    services: dict[str, Any] = field(default_factory=dict)  # name -> StatelessService
    published: dict[str, Any] = field(default_factory=dict)  # what a part offers later parts
    _flux_provider: Any = None

    def flux_owned(self, opts: Any = None) -> Any:
        """`opts` for a component whose objects Flux applies (cdb_stack.ownership): Pulumi registers them
        through the render-mode provider, so it judges them but never applies them."""
        import pulumi

        from cdb_stack.ownership import flux_provider, retain_on_handover

        if self._flux_provider is None:
            self._flux_provider = flux_provider(self.plan.stack)
        return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
            providers={"kubernetes": self._flux_provider}, transformations=[retain_on_handover]))


def parts() -> list[ModuleType]:
    return [importlib.import_module(name) for name in PART_MODULES]
