"""NATS JetStream, the primary event bus (CDB_INFRA_POLICY clauses 3 and 4).

`config` renders nats.conf, `server` and `nack` build the Kubernetes specs, `component` registers them.
"""

from components.nats.args import NACK_CRDS_VERSION, NACK_IMAGE, NATS_IMAGE, NackArgs, NatsJetStreamArgs, stream_resource_name
from components.nats.component import NATS_JETSTREAM_TYPE, NatsJetStream

__all__ = [
    "NACK_CRDS_VERSION",
    "NACK_IMAGE",
    "NATS_IMAGE",
    "NATS_JETSTREAM_TYPE",
    "NackArgs",
    "NatsJetStream",
    "NatsJetStreamArgs",
    "stream_resource_name",
]
