"""Event backbone migration (CDB_INFRA_POLICY clause 4): versioned event schemas, the dual-write
publisher (JetStream authoritative, Redis alongside), replay, and replay comparison.

Python API:
    registry = SchemaRegistry()                          # schemas/events/ of the repository
    event = registry.validate(new_event("orders.created", 1, {...}, source="shop"))
    async with DualWritePublisher(spec, nats_url=..., redis=RedisTarget(url=...), spool_path=...) as pub:
        outcome = await pub.publish(event)               # outcome.acked only after JetStream acked
    report = await compare_window(nats_url=..., stream=spec.name, redis_url=..., redis_keys=[...])
"""

from cdb_ops.events.envelope import Event, EventError, new_event
from cdb_ops.events.publisher import DualWritePublisher, Outcome, PublisherStats
from cdb_ops.events.redis_side import PubSubTap, RedisTarget
from cdb_ops.events.replay import compare_window, replay
from cdb_ops.events.schemas import SchemaRegistry

__all__ = [
    "DualWritePublisher",
    "Event",
    "EventError",
    "Outcome",
    "PubSubTap",
    "PublisherStats",
    "RedisTarget",
    "SchemaRegistry",
    "compare_window",
    "new_event",
    "replay",
]
