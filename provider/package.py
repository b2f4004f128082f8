"""What the package hosts: one entry per public component, and the package's name and version.

The version is the compatibility contract of the schema (`schema.json`): a change that breaks an
existing program (a removed or renamed input, a narrowed type, a new required input, a removed
output or component) needs a new major version, anything else that changes the schema a new minor
one (`cdb provider --check` enforces both). Releases are tagged `v<VERSION>` (CHANGELOG.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pydantic import BaseModel

from components.flux.args import FluxArgs
from components.flux.component import Flux
from components.kafka import KafkaCluster, KafkaClusterArgs
from components.minio import ObjectStore, ObjectStoreArgs
from components.nats.args import NatsJetStreamArgs
from components.nats.component import NatsJetStream
from components.observability.component import Observability, ObservabilityArgs
from components.redis import RedisTransport, RedisTransportArgs
from components.service import StatelessService, StatelessServiceArgs
from components.vault import VaultServer, VaultServerArgs
from components.zone import Zone, ZoneArgs

NAME = "cdb"
VERSION = "1.0.0"

# Fields of an Args model that are not part of the language-neutral interface.
HIDDEN_FIELDS: dict[type[BaseModel], frozenset[str]] = {
    # The date the sunset is judged against; only tests pin it, everyone else gets today.
    RedisTransportArgs: frozenset({"today"}),
}


@dataclass(frozen=True)
class Hosted:
    """A Python component and its validated Args model; the schema names it by the class name."""

    component: type[pulumi.ComponentResource]
    args: type[BaseModel]

    @property
    def name(self) -> str:
        return self.component.__name__

    @property
    def token(self) -> str:
        return f"{NAME}:index:{self.name}"


HOSTED: tuple[Hosted, ...] = (
    Hosted(Zone, ZoneArgs),
    Hosted(StatelessService, StatelessServiceArgs),
    Hosted(NatsJetStream, NatsJetStreamArgs),
    Hosted(VaultServer, VaultServerArgs),
    Hosted(ObjectStore, ObjectStoreArgs),
    Hosted(Observability, ObservabilityArgs),
    Hosted(Flux, FluxArgs),
    Hosted(RedisTransport, RedisTransportArgs),
    Hosted(KafkaCluster, KafkaClusterArgs),
)
BY_NAME: dict[str, Hosted] = {h.name: h for h in HOSTED}
