"""The resource monitor a program talks to offline: Pulumi's MockMonitor, recording every registration.

A preview of a create answers each registration with the inputs as outputs (no id yet). The mock gets
there by decoding the inputs to Python and encoding them again on a private event loop, which is half
the cost of a preview. For inputs that are plain wire data that round trip is a copy with the null map
entries dropped, so the monitor answers with exactly that. Inputs holding secrets, assets or resource
references (the signature key), and the root stack, take the mock's own path; a test holds the answer
equal to the mock's for every shape of value. CDB_SDK_SPEEDUPS_OFF=echo sends every registration the
mock's way (sdk_speedups.py).

Two things the mock does not do, the engine and provider do, so the monitor does them: the fields only
the API server fills in are unknown in a create's answer (server_fields.py), and the provider's YAML
components expand (the `kubernetes:yaml:decode` invoke for v1, the remote yaml/v2 components with their
transforms; yaml_components.py). Invokes it cannot answer are recorded, so the verdict says incomplete.
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import replace
from typing import Any, Callable

from google.protobuf import struct_pb2

from pulumi.runtime import mocks, rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.rpc import _special_sig_key as SIG_KEY  # noqa: N812 - the SDK's own constant

from cdb_engine.preview import server_fields, yaml_components
from cdb_engine.model import Resource
from cdb_engine.preview.urns import STACK_TYPE, make_urn
from cdb_core.errors import ManifestError

# Invokes the offline engine answers itself (the mock's own, and the provider's YAML decoder).
_ANSWERED = ("pulumi:pulumi:getResource", "kubernetes:yaml:decode")

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


def has_unknown(value: Any) -> bool:
    if isinstance(value, str):
        return value == rpc.UNKNOWN
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return False


class PreviewMocks(mocks.Mocks):
    def new_resource(self, args: mocks.MockResourceArgs):
        if args.resource_id and not args.custom:  # a read of an existing object: nothing of it is known
            return args.resource_id, {}
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

    def __init__(self, project: str, stack: str, describe: Callable[[Any, str, dict], Resource], *,
                 echo: bool = True) -> None:
        super().__init__(PreviewMocks())
        self._project, self._stack, self._describe = project, stack, describe
        self._echo = echo  # False: every registration takes the mock's own path (CDB_SDK_SPEEDUPS_OFF=echo)
        self.recorded: list[Resource] = []
        self.unanswered: list[str] = []  # invokes the offline engine could not answer
        self._echoed: dict[str, Any] = {}
        self._transforms: dict[str, tuple[str | None, list]] = {}  # urn -> (parent, its transforms)

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        return make_urn(self._project, self._stack, parent or None, type_, name)

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        properties, flags = plain_struct(request.object)
        if self._stack_transforms and request.type != STACK_TYPE and not flags & _SIGNED:
            # The engine runs the stack's transforms on every registration before the provider sees it.
            transformed = self._apply(list(self._stack_transforms), bool(request.custom), request.type,
                                      request.name, properties)
            if transformed is not properties:
                request.object.Clear()
                request.object.update(transformed)
                properties, flags = plain_struct(request.object)
        if not self._echo or request.type == STACK_TYPE or flags & _SIGNED:
            response = super().RegisterResource(request)
        else:
            urn = self.make_urn(request.parent, request.type, request.name)
            response = resource_pb2.RegisterResourceResponse(urn=urn, object=request.object)
            if flags & _NULL:
                _drop_nulls(response.object)
            self._echoed[urn] = response.object
        if request.custom:
            # What the API server fills in cannot be known without a cluster: unknown, never None.
            server_fields.mark_unknown(response.object, server_fields.server_filled(request.type, properties))
        resource = self._describe(request, response.urn, properties)
        if request.transforms or request.parent in self._transforms:
            self._transforms[resource.urn] = (request.parent or None, mocks._resolve_callbacks(request.transforms))
        if request.remote and request.type in yaml_components.V2_TYPES:
            resource = self._expand(resource, flags)
        else:
            self.recorded.append(resource)
        return response

    def _expand(self, component: Resource, flags: int) -> Resource:
        """A yaml/v2 component's objects, registered as the provider registers them, when offline can."""
        try:
            if flags & _SIGNED or has_unknown(component.properties):
                raise yaml_components.NotOffline(component.name)
            children = yaml_components.expand_v2(component.type, component.name, dict(component.properties))
        except yaml_components.NotOffline:
            self.recorded.append(component)
            return component
        except ManifestError as exc:
            raise Exception(str(exc)) from None  # the program fails, as the provider fails the deployment
        component = replace(component, expanded=True)
        self.recorded.append(component)
        for token, name, obj in children:
            obj = self._transformed(component.urn, token, name, obj)
            self.recorded.append(Resource(
                urn=self.make_urn(component.urn, token, name), type=token, name=name, custom=True,
                properties=obj, parent=component.urn, source=component.source,
            ))
        return component

    def _materialise(self) -> None:
        for urn, obj in self._echoed.items():
            self.resources[urn] = mocks.MockMonitor.ResourceRegistration(urn, None, rpc.deserialize_properties(obj))
        self._echoed.clear()

    def _transformed(self, parent: str, token: str, name: str, props: dict) -> dict:
        """What the engine does to a provider-registered child: the transforms of its parent and the
        parent's ancestors, then the stack's, each seeing what the previous one returned."""
        chain, urn = [], parent
        while urn in self._transforms:
            urn, fns = self._transforms[urn][0], self._transforms[urn][1]
            chain += fns
        return self._apply(chain + list(self._stack_transforms), True, token, name, props)

    @staticmethod
    def _apply(fns: list, custom: bool, token: str, name: str, props: dict) -> dict:
        """Each transform sees what the previous one returned; `props` itself when none changed it."""
        import pulumi

        opts = pulumi.ResourceOptions()
        for fn in fns:
            result = fn(pulumi.ResourceTransformArgs(custom, token, name, props, opts))
            if inspect.isawaitable(result):
                loop = asyncio.new_event_loop()
                try:
                    result = loop.run_until_complete(result)
                finally:
                    loop.close()
            if result is not None:
                props, opts = dict(result.props), result.opts
        return props

    def Invoke(self, request):  # noqa: N802
        if request.tok == "kubernetes:yaml:decode":
            return self._decode(request)
        if request.tok not in _ANSWERED:
            self.unanswered.append(request.tok)
        self._materialise()
        return super().Invoke(request)

    def _decode(self, request):
        """The provider's answer to `kubernetes:yaml:decode` (yaml.ConfigFile/ConfigGroup v1)."""
        args, _ = plain_struct(request.args)
        text = args.get("text")
        if not isinstance(text, str):
            raise Exception("kubernetes:yaml:decode: the YAML text is not known offline")
        try:
            objs = yaml_components.decode(text)
        except ManifestError as exc:
            raise Exception(f"kubernetes:yaml:decode: {exc}") from None
        result = struct_pb2.Struct()
        result.update({"result": objs})
        return resource_pb2.ResourceInvokeResponse(**{"return": result})

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
