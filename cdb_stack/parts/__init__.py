"""The reference stack's parts (clause 3), beyond zones and services: an explicit, ordered registry.

Each part is a module with:
- `KEY`: its settings key (`cdb-infra:<KEY>` in config, a field of StackSettings),
- `Settings`: its strict settings model (defaults make a compliant part),
- `plan(settings, ctx: PlanContext) -> object`: validated component arguments; raise ValueError or
  ComponentArgsError (reported against the config key, before anything is built),
- `build(planned, ctx: BuildContext) -> dict`: builds the components; returns stack outputs.
Order matters: a later part may use what an earlier one published in `ctx.published`, a typed record
(`Published`) with one frozen offer per part: a missing part is `None`, never a missing string key.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the parts import pulumi lazily; the names are for the type checker only
    import pulumi

    from cdb_stack.settings import StackSettings
    from components.observability.common import ScrapeTarget
    from components.provenance import Provenance
    from components.service import StatelessService
    from components.zone import Zone
    from components.vault_config import VaultClient
    from components.vault_delivery import SecretDelivery

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
    provenance: Provenance
    settings: StackSettings

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


class Deliver(Protocol):
    """The secrets part's delivery: Vault policy + role for `client`, and its VaultStaticSecrets."""

    def __call__(self, client: VaultClient, restart: str | None,
                 depends_on: list[pulumi.Resource] | None = None) -> SecretDelivery: ...


@dataclass(frozen=True)
class SecretsOffer:
    deliver: Deliver
    vault_zone: str
    vault_address: str


@dataclass(frozen=True)
class ObjectStorageOffer:
    endpoint: str
    audit_bucket: str


@dataclass(frozen=True)
class Clients:
    """The zones a backbone server admits as clients, and the flows (cdb-infra.io/flows entries) a client
    pod declares to reach it: the stack puts them on every service of those zones, so the pack's
    connectivity rule judges the application's path to the server at both ends."""

    zones: frozenset[str] = frozenset()
    flows: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def of(cls, peers: Any, flows: list[dict[str, Any]]) -> Clients:
        """From a server's client peers (components.network.Peer, one per client zone)."""
        return cls(frozenset(p.namespace for p in peers if p.namespace), tuple(flows))


@dataclass(frozen=True)
class EventBusOffer:
    url: str
    audit_subject: str
    namespace: str
    client_labels: Mapping[str, str]
    clients: Clients = Clients()


@dataclass(frozen=True)
class RedisOffer:
    url: str
    clients: Clients = Clients()


@dataclass(frozen=True)
class KafkaOffer:
    bootstrap: str
    clients: Clients = Clients()


@dataclass(frozen=True)
class PrometheusPeer:
    namespace: str
    pod_labels: Mapping[str, str]


@dataclass(frozen=True)
class ObservabilityOffer:
    namespace: str
    loki_url: str
    otlp_grpc: str
    otlp_http: str
    prometheus_peer: PrometheusPeer


@dataclass(frozen=True)
class GitOpsOffer:
    namespace: str


@dataclass
class Published:
    """What each part offers the later ones (None: the part did not run, or builds nothing)."""

    secrets: SecretsOffer | None = None
    object_storage: ObjectStorageOffer | None = None
    event_bus: EventBusOffer | None = None
    redis: RedisOffer | None = None
    kafka: KafkaOffer | None = None
    observability: ObservabilityOffer | None = None
    gitops: GitOpsOffer | None = None
    # Pods Prometheus scrapes, added by every part that runs an exporter (read by observability).
    metrics_targets: list[ScrapeTarget] = field(default_factory=list)

    def client_flows(self, zone: str) -> list[dict[str, Any]]:
        """The flows a pod in `zone` declares to every backbone server (event bus, Redis, Kafka) that
        admits the zone as a client; none for a zone that is no client (it gets no path there)."""
        offers = (self.event_bus, self.redis, self.kafka)
        return [dict(flow) for offer in offers if offer is not None and zone in offer.clients.zones
                for flow in offer.clients.flows]


@dataclass
class BuildContext:
    plan: PlanContext
    zones: dict[str, Zone] = field(default_factory=dict)
    services: dict[str, StatelessService] = field(default_factory=dict)
    published: Published = field(default_factory=Published)  # what a part offers later parts
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
