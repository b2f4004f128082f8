"""The recording monitor answers every registration exactly as Pulumi's MockMonitor does."""

from __future__ import annotations

import asyncio

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime import mocks, rpc
from pulumi.runtime.proto import resource_pb2

from cdb_engine.preview import server_fields
from cdb_engine.preview.monitor import PreviewMocks, RecordingMonitor, plain_struct

pytestmark = pytest.mark.sdk_equality

SIG = rpc._special_sig_key

SHAPES = {
    "plain": {"metadata": {"name": "web", "labels": {"a": "b"}}, "spec": {"replicas": 2, "ports": [80, 443.5]}},
    "null-entries": {"a": None, "b": {"c": None, "d": [None, 1, {"e": None}]}, "f": []},
    "empty": {},
    "unknowns": {"a": rpc.UNKNOWN, "b": [rpc.UNKNOWN, {"c": rpc.UNKNOWN}]},
    "secret": {"data": {SIG: rpc._special_secret_sig, "value": "hunter2"}},
    "nested-secret": {"spec": {"list": [{SIG: rpc._special_secret_sig, "value": {"k": "v"}}]}},
    "booleans-and-text": {"t": True, "f": False, "s": "", "n": 0},
}


@pytest.fixture
def monitors():
    asyncio.set_event_loop(asyncio.new_event_loop())
    mocks.set_mocks(PreviewMocks(), project="p", stack="s", preview=True)
    ours = RecordingMonitor("p", "s", lambda request, urn, props: (urn, props))
    theirs = mocks.MockMonitor(PreviewMocks())
    theirs.make_urn = ours.make_urn
    return ours, theirs


@pytest.mark.parametrize("shape", list(SHAPES))
def test_each_registration_gets_the_mocks_own_answer(monitors, shape):
    ours, theirs = monitors
    struct = struct_pb2.Struct()
    struct.update(SHAPES[shape])
    request = resource_pb2.RegisterResourceRequest(type="test:index:Thing", name="cm", object=struct, custom=True)
    assert ours.RegisterResource(request) == theirs.RegisterResource(request)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_kubernetes_object_gets_the_mocks_answer_with_the_server_filled_fields_unknown(monitors, shape):
    ours, theirs = monitors
    struct = struct_pb2.Struct()
    struct.update(SHAPES[shape])
    request = resource_pb2.RegisterResourceRequest(type="kubernetes:core/v1:Service", name="svc", object=struct,
                                                   custom=True)
    expected = theirs.RegisterResource(request)
    server_fields.mark_unknown(expected.object,
                               server_fields.server_filled(request.type, plain_struct(request.object)[0]))
    answer = ours.RegisterResource(request)
    assert answer == expected
    metadata = answer.object.fields["metadata"]
    assert rpc.UNKNOWN in (metadata.string_value, metadata.struct_value.fields["uid"].string_value)
    assert answer.object.fields["status"].string_value == rpc.UNKNOWN


def test_the_recording_keeps_the_inputs_as_wire_data(monitors):
    ours, _ = monitors
    struct = struct_pb2.Struct()
    struct.update(SHAPES["null-entries"])
    request = resource_pb2.RegisterResourceRequest(type="kubernetes:core/v1:ConfigMap", name="cm", object=struct)
    ours.RegisterResource(request)
    [(urn, props)] = ours.recorded
    assert props == {"a": None, "b": {"c": None, "d": [None, 1.0, {"e": None}]}, "f": []}
    assert plain_struct(struct)[0] == props


def test_a_program_asking_the_mock_for_a_resource_still_finds_it(monitors):
    ours, _ = monitors
    struct = struct_pb2.Struct()
    struct.update({"data": {"k": "v"}})
    response = ours.RegisterResource(resource_pb2.RegisterResourceRequest(type="a:b:C", name="x", object=struct))
    registered = ours.get_registered_resources()
    assert registered[response.urn].state == {"data": {"k": "v"}}
