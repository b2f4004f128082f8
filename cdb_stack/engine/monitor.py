"""The resource monitor a program talks to offline: Pulumi's MockMonitor, recording every registration.

A preview of a create answers each registration with the inputs as outputs (no id yet). The mock gets
there by decoding the inputs to Python and encoding them again on a private event loop, which is half
the cost of a preview. For inputs that are plain wire data that round trip is a copy with the null map
entries dropped, so the monitor answers with exactly that. Inputs holding secrets, assets or resource
references (the signature key), and the root stack, take the mock's own path; a test holds the answer
equal to the mock's for every shape of value.
"""

from __future__ import annotations

from typing import Any, Callable

from pulumi.runtime import mocks, rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.rpc import _special_sig_key as SIG_KEY  # noqa: N812 - the SDK's own constant

from cdb_stack.engine.model import Resource
from cdb_stack.engine.urns import STACK_TYPE, make_urn

# Flags the walk below raises: a null map entry (the round trip drops it), the signature key.
_NULL, _SIGNED = 1, 2


def plain_struct(struct) -> tuple[dict[str, Any], int]:
    """A Struct as JSON data (numbers as floats, as json_format gives them) and the flags seen on the way."""
    flags = [0]
    return _fields(struct.fields, flags), flags[0]


def _fields(fields, flags: list[int]) -> dict[str, Any]:
    out = {}
    for key, v in fields.items():
        value = out[key] = _value(v, flags)
        if value is None:
            flags[0] |= _NULL
    if SIG_KEY in out:
        flags[0] |= _SIGNED
    return out


def _value(v, flags: list[int]) -> Any:
    kind = v.WhichOneof("kind")
    if kind == "string_value":
        return v.string_value
    if kind == "struct_value":
        return _fields(v.struct_value.fields, flags)
    if kind == "list_value":
        return [_value(x, flags) for x in v.list_value.values]
    if kind == "number_value":
        return v.number_value
    if kind == "bool_value":
        return v.bool_value
    return None


class PreviewMocks(mocks.Mocks):
    def new_resource(self, args: mocks.MockResourceArgs):
        # A preview of a create: no id yet, and the outputs are what the program asked for.
        return None, dict(args.inputs)

    def call(self, args: mocks.MockCallArgs):
        return {}


class RecordingMonitor(mocks.MockMonitor):
    """MockMonitor with engine-style URNs that records each registration as a Resource.

    `describe(request, urn, properties)` turns a request into the recorded Resource (the caller knows
    the project directory for source positions). Registrations answered by echo are kept as Structs and
    decoded only if the program asks the mock for them (getResource, ExistsResource).
    """

    def __init__(self, project: str, stack: str, describe: Callable[[Any, str, dict], Resource]) -> None:
        super().__init__(PreviewMocks())
        self._project, self._stack, self._describe = project, stack, describe
        self.recorded: list[Resource] = []
        self._echoed: dict[str, Any] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        return make_urn(self._project, self._stack, parent or None, type_, name)

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        properties, flags = plain_struct(request.object)
        if request.type == STACK_TYPE or flags & _SIGNED:
            response = super().RegisterResource(request)
        else:
            urn = self.make_urn(request.parent, request.type, request.name)
            response = resource_pb2.RegisterResourceResponse(urn=urn, object=request.object)
            if flags & _NULL:
                _drop_nulls(response.object)
            self._echoed[urn] = response.object
        self.recorded.append(self._describe(request, response.urn, properties))
        return response

    def _materialise(self) -> None:
        for urn, obj in self._echoed.items():
            self.resources[urn] = mocks.MockMonitor.ResourceRegistration(urn, None, rpc.deserialize_properties(obj))
        self._echoed.clear()

    def Invoke(self, request):  # noqa: N802
        self._materialise()
        return super().Invoke(request)

    def ExistsResource(self, request):  # noqa: N802
        self._materialise()
        return super().ExistsResource(request)

    def get_registered_resources(self):
        self._materialise()
        return super().get_registered_resources()


def _drop_nulls(struct) -> None:
    """What the mock's decode and encode do to a Struct: map entries holding null disappear, at any
    depth; nulls inside lists stay."""
    fields = struct.fields
    for key in [k for k, v in fields.items() if v.WhichOneof("kind") in (None, "null_value")]:
        del fields[key]
    for v in fields.values():
        _drop_nulls_value(v)


def _drop_nulls_value(v) -> None:
    kind = v.WhichOneof("kind")
    if kind == "struct_value":
        _drop_nulls(v.struct_value)
    elif kind == "list_value":
        for item in v.list_value.values:
            _drop_nulls_value(item)
