"""StreamSpec: the one typed source of truth for a JetStream stream."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from nats.js.errors import ServerError

from components.errors import ComponentArgsError
from components.streams import NACK_API_VERSION, StreamSpec, go_duration, stream_spec, subject_matches
from cdb_ops.events.jetstream import connect, ensure_stream
from cdb_ops.events.envelope import EventError

# Stream.spec property names of NACK's jetstream.nats.io/v1beta2 CRD (nats-io/nack deploy/crds.yml,
# commit f6dad096, 2026-04-29). Facts, not code: the emitted spec may use these names only.
NACK_STREAM_FIELDS = frozenset(
    "name description subjects retention maxConsumers maxMsgs maxBytes discard discardPerSubject maxAge "
    "maxMsgsPerSubject maxMsgSize storage replicas noAck duplicateWindow placement mirror sources sealed "
    "denyDelete denyPurge allowRollup compression firstSequence subjectTransform republish allowDirect "
    "mirrorDirect allowMsgTtl subjectDeleteMarkerTtl allowMsgCounter allowAtomicPublish allowMsgSchedules "
    "persistMode consumerLimits metadata account creds nkey preventDelete preventUpdate servers tls "
    "tlsFirst jsDomain".split()
)


def test_subjects_without_a_version_token_are_refused():
    with pytest.raises(ComponentArgsError, match=r"subjects: subject 'orders\.created' carries no version token"):
        stream_spec(name="ORDERS", subjects=["orders.created"])
    with pytest.raises(ComponentArgsError, match="carries no version token"):
        stream_spec(name="ORDERS", subjects=["orders.v0.created"])


def test_versioned_subjects_with_a_type_or_a_wildcard_are_accepted():
    spec = stream_spec(name="ORDERS", subjects=["orders.v1.>", "orders.v2.created"])
    assert spec.covers("orders.v1.cancelled") and spec.covers("orders.v2.created")
    assert not spec.covers("orders.v2.cancelled") and not spec.covers("payments.v1.captured")


def test_overlapping_subjects_are_refused():
    with pytest.raises(ComponentArgsError, match=r"'orders\.v1\.created' is already covered by 'orders\.v1\.>'"):
        stream_spec(name="ORDERS", subjects=["orders.v1.>", "orders.v1.created"])


def test_memory_storage_and_workqueue_retention_cannot_be_declared():
    with pytest.raises(ComponentArgsError, match="storage"):
        stream_spec(name="ORDERS", subjects=["orders.v1.>"], storage="memory")
    with pytest.raises(ComponentArgsError, match="retention"):
        stream_spec(name="ORDERS", subjects=["orders.v1.>"], retention="workqueue")


def test_duplicate_window_longer_than_max_age_is_refused():
    with pytest.raises(ComponentArgsError, match="duplicate_window 2m exceeds max_age 1m"):
        stream_spec(name="ORDERS", subjects=["orders.v1.>"], max_age=timedelta(minutes=1))


def test_stream_name_with_a_dot_is_refused():
    with pytest.raises(ComponentArgsError, match="name 'orders.all' is not a stream name"):
        stream_spec(name="orders.all", subjects=["orders.v1.>"])


def test_spec_is_frozen():
    spec = stream_spec(name="ORDERS", subjects=["orders.v1.>"])
    with pytest.raises(ValueError):
        spec.replicas = 1  # type: ignore[misc]


def test_go_durations_are_what_nack_parses():
    assert go_duration(timedelta(minutes=2)) == "2m"
    assert go_duration(timedelta(days=7)) == "168h"
    assert go_duration(timedelta(hours=1, minutes=30, seconds=5)) == "1h30m5s"


def test_nack_spec_uses_only_crd_field_names_and_always_writes_file_storage():
    spec = StreamSpec(name="ORDERS", subjects=("orders.v1.>",), description="orders", max_age=timedelta(days=30))
    nack = spec.to_nack_spec()
    assert set(nack) <= NACK_STREAM_FIELDS, set(nack) - NACK_STREAM_FIELDS
    assert nack == {
        "name": "ORDERS", "subjects": ["orders.v1.>"], "description": "orders", "storage": "file",
        "retention": "limits", "replicas": 3, "discard": "old", "duplicateWindow": "2m", "maxAge": "720h",
        "maxBytes": -1, "maxMsgs": -1, "denyDelete": True, "denyPurge": True,
    }  # fmt: skip
    assert NACK_API_VERSION == "jetstream.nats.io/v1beta2"


def test_subject_wildcards_match_like_nats():
    assert subject_matches("orders.v1.>", "orders.v1.created")
    assert not subject_matches("orders.v1.>", "orders.v1")
    assert subject_matches("orders.*.created", "orders.v2.created")
    assert not subject_matches("orders.*", "orders.v1.created")


def test_stream_for_schemas_covers_every_schema_subject(registry, spec):
    for key in registry.schemas:
        assert spec.covers(key.subject), key


@pytest.mark.servers
def test_real_server_creates_the_stream_from_the_spec_and_refuses_purge_and_delete(nats_server):
    spec = stream_spec(name="AUDIT", subjects=["audit.v1.>"], replicas=1, duplicate_window=timedelta(seconds=30))

    async def run():
        nc = await connect(nats_server.url)
        js = nc.jetstream()
        await ensure_stream(js, spec)
        await ensure_stream(js, spec)  # idempotent: an unchanged stream is accepted as is
        ack = await js.publish("audit.v1.login", b"{}", headers={"Nats-Msg-Id": "a-1"})
        again = await js.publish("audit.v1.login", b"{}", headers={"Nats-Msg-Id": "a-1"})
        assert again.duplicate and again.seq == ack.seq
        with pytest.raises(ServerError):
            await js.purge_stream("AUDIT")
        with pytest.raises(ServerError):
            await js.delete_msg("AUDIT", ack.seq)
        drifted = stream_spec(name="AUDIT", subjects=["audit.v1.>", "audit.v2.>"], replicas=1,
                              duplicate_window=timedelta(seconds=30))  # fmt: skip
        with pytest.raises(EventError, match="stream AUDIT differs from its StreamSpec .*subjects"):
            await ensure_stream(js, drifted)
        await nc.close()

    asyncio.run(run())
