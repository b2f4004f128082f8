"""Serves the pack over the Analyzer protocol exactly as `PolicyPack(...)` does, with a faster Analyze.

The SDK's servicer re-decodes a resource's properties and rebuilds its unknown-checking proxy once per
policy, which makes the cost per resource grow with the size of the pack (about 0.6 ms per policy here).
This servicer decodes once per request and shares the result between policies; everything else (the
verdicts, the advisory "can't run policy" diagnostics for unknown values, not-applicable reports, the
metadata) comes from the SDK's own code paths. When a resource holds no unknown value the proxy could
never raise, so the plain decoded mapping is shared instead (read-only by contract: rules are pure).

Whatever of the SDK is private is reached through sdk_adapter.py only. At start-up `make_servicer` asks
the adapter whether the installed SDK is one it was proven with; if not, it serves with the SDK's own
servicer (StockServicer) and says so in one line on stderr, which the Pulumi CLI keeps in its log.

Imported as `server` by the pack's __main__.py under the Pulumi CLI and as `policy_pack.server` elsewhere.
"""

from __future__ import annotations

import asyncio
import re
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent import futures
from inspect import isawaitable
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar, cast, runtime_checkable

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2 as proto
from pulumi.runtime.proto import analyzer_pb2_grpc
from pulumi.runtime.rpc import UNKNOWN
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

# The type checker reads the package form; the Pulumi CLI runs the pack from its directory.
if TYPE_CHECKING or __package__:
    from . import sdk_adapter as sdk
    from .rules.helpers.access import SecretText
else:  # run by the Pulumi CLI from the pack directory
    import sdk_adapter as sdk
    from rules.helpers.access import SecretText

SPECIAL_SIG_KEY, SPECIAL_SECRET_SIG = sdk.SPECIAL_SIG_KEY, sdk.SPECIAL_SECRET_SIG
UnknownValueError = sdk.UnknownValueError

_PACK_NAME = re.compile(r"^[a-zA-Z0-9-_.]{1,100}$")

# A value as it travels in a google.protobuf.Struct (numbers as floats), before the SDK's decoding.
Json: TypeAlias = str | float | bool | None | dict[str, "Json"] | list["Json"]
# A resource's properties as a policy reads them: RequestProps, or the SDK's unknown-checking proxy.
# Their values are whatever the SDK decoded (JSON data, secrets, assets), which it types as Any.
Props: TypeAlias = Mapping[str, Any]
Context: TypeAlias = sdk.Context
P = TypeVar("P", bound=Policy)
Request = TypeVar("Request", proto.AnalyzeRequest, proto.AnalyzeStackRequest)
# A resource policy that is active, its level, and its not-applicable reason (None: run it).
_Planned: TypeAlias = tuple[ResourceValidationPolicy, EnforcementLevel, str | None]


class RequestProps(dict[str, Any]):
    """A request's decoded properties, with a memo that lives exactly as long as the request.

    Every policy of one request sees this same read-only object, so what they all derive from it (the
    pod template, its containers) is worked out once and kept in `memo` (see rules/helpers/podspec.py).
    """

    __slots__ = ("memo",)

    def __init__(self, *args: Mapping[str, Any]) -> None:
        super().__init__(*args)
        self.memo: dict[str, object] = {}


def struct_to_python(struct: struct_pb2.Struct) -> dict[str, Json]:
    """google.protobuf.Struct -> dict, as json_format.MessageToDict does (numbers as floats), faster."""
    return _plain_struct(struct.fields, [])


def has_unknowns(value: object) -> bool:
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, dict):
        return any(has_unknowns(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknowns(v) for v in value)
    return False


# What makes a decoded value more than plain JSON data: the engine's unknown sentinel, and the signature
# key of secrets, assets and archives (which deserialize_properties turns into other values).
_UNKNOWN, _SIGNED = 1, 2


def _plain_struct(fields: Mapping[str, struct_pb2.Value], flags: list[int]) -> dict[str, Json]:
    """struct_to_python and, in the same walk, a note in `flags` of anything that is not plain data."""
    out = {k: _plain_value(v, flags) for k, v in fields.items()}
    if SPECIAL_SIG_KEY in out:
        flags.append(_SIGNED)
    return out


def _plain_value(v: struct_pb2.Value, flags: list[int]) -> Json:
    kind = v.WhichOneof("kind")
    if kind == "string_value":
        text = v.string_value
        if text == UNKNOWN:
            flags.append(_UNKNOWN)
        return text
    if kind == "struct_value":
        return _plain_struct(v.struct_value.fields, flags)
    if kind == "list_value":
        return [_plain_value(x, flags) for x in v.list_value.values]
    if kind == "number_value":
        return v.number_value
    if kind == "bool_value":
        return v.bool_value
    return None


def _plain_data(value: object, flags: list[int]) -> Json:
    """JSON data as it comes out of a Struct: numbers as floats, tuples as lists, and the same flags."""
    if isinstance(value, str):
        if value == UNKNOWN:
            flags.append(_UNKNOWN)
        return value
    if isinstance(value, dict):
        out = {str(k): _plain_data(v, flags) for k, v in value.items()}
        if SPECIAL_SIG_KEY in out:
            flags.append(_SIGNED)
        return out
    if isinstance(value, (list, tuple)):
        return [_plain_data(v, flags) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON data and cannot travel in a Struct")


def _mark_secrets(value: Json) -> Json:
    """Secret strings become SecretText, so rules can tell a secret from config from a literal."""
    if isinstance(value, dict):
        if value.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG and isinstance(value.get("value"), str):
            return SecretText(value["value"])
        return {k: _mark_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark_secrets(v) for v in value]
    return value


def _from_plain(raw: dict[str, Json], flags: list[int]) -> Props:
    if not flags:
        return RequestProps(raw)
    # A mapping stays a mapping under _mark_secrets (resource properties are never a secret themselves).
    plain = sdk.deserialize_properties(cast(dict[str, Json], _mark_secrets(raw)) if _SIGNED in flags else raw)
    return sdk.unknown_checking_proxy(plain) if has_unknowns(plain) else RequestProps(plain)


def decode_data(data: Mapping[str, object]) -> Props:
    """JSON data (a manifest, say) exactly as a policy would see it after a trip through a Struct."""
    flags: list[int] = []
    plain = _plain_data(data, flags)
    if not isinstance(plain, dict):  # cannot happen: _plain_data keeps a dict a dict
        raise TypeError("JSON data to decode must be a mapping")
    return _from_plain(plain, flags)


def _decode(properties: struct_pb2.Struct) -> Props:
    """The properties as the SDK's servicer gives them to a policy, decoded in one walk.

    Plain data (the usual case) is returned as RequestProps: deserialize_properties would only copy it
    and the unknown-checking proxy could never raise. Anything else takes the SDK's own path.
    """
    flags: list[int] = []
    return _from_plain(_plain_struct(properties.fields, flags), flags)


@runtime_checkable
class _Scoped(Protocol):
    """What the servicer reads of a rule (rules.helpers.metadata.Rule), matched by shape: a pack copied
    into a project imports its rules under another name."""

    applies_to: Callable[[str], bool] | None
    not_applicable_reason: str


def _out_of_scope(policy: Policy, resource_type: str) -> str | None:
    """The not-applicable reason of a rule-built policy for a type it does not look at, else None."""
    rule = getattr(policy, "rule", None)  # set by build_policy; other policies have none
    if not isinstance(rule, _Scoped) or rule.applies_to is None or rule.applies_to(resource_type):
        return None
    return rule.not_applicable_reason or f"{resource_type} is out of scope"


def _run(result: Awaitable[object] | None) -> None:
    if isawaitable(result):
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(result)
        finally:
            loop.close()


def _not_checked(error: BaseException) -> list[tuple[str, str]] | None:
    """rules.helpers.unknowns.NotChecked's (urn, reason) pairs, matched by shape: under the Pulumi CLI the pack
    imports as `rules`, so the class is not policy_pack.rules.helpers.unknowns.NotChecked there."""
    found: list[tuple[str, str]] | None = getattr(error, "not_checked", None)
    return found


class Servicer(sdk.AdaptedServicer):
    """The SDK's servicer with Analyze and AnalyzeStack decoding each resource once.

    It reads the SDK's private state only through sdk_adapter.AdaptedServicer's accessors.
    """

    _local = threading.local()
    # The plans of `_plan`, for the levels of the Configure they were made under.
    _plans: tuple[Mapping[str, EnforcementLevel], dict[str, list[_Planned]]] | None = None

    def __init__(self, **arguments: Any) -> None:
        super().__init__(**arguments)
        self.policy_names = tuple(policy.name for policy in arguments["policies"])

    @staticmethod
    def decode_data(data: Mapping[str, Json]) -> Props:
        return decode_data(data)

    def in_process(self) -> None:
        """Called by `cdb check`, which runs the pack inside its own process: the Pulumi runtime settings
        the pack process would take from its environment must not overwrite cdb's, and no rule reads them."""
        self._local.configured = True

    def _runtime_once(self) -> None:
        # The SDK re-applies the same environment settings on every call; once per thread suffices
        # (the values live in context variables, which are per thread).
        if not getattr(self._local, "configured", False):
            self.sdk_runtime_settings()
            self._local.configured = True

    def _unknown(self, response: proto.AnalyzeResponse, policy: Policy, error: BaseException | str,
                 urn: str = "") -> None:
        name, version = self.sdk_pack_name(), self.sdk_pack_version()
        reason = error if isinstance(error, str) else getattr(error, "message", str(error))
        response.diagnostics.append(
            proto.AnalyzeDiagnostic(
                policyName=policy.name,
                policyPackName=name,
                policyPackVersion=version,
                message=f"can't run policy '{policy.name}' from policy pack '{name}@v{version}' during preview: {reason}",
                urn=urn,
                description=policy.description,
                enforcementLevel=self.sdk_advisory_level(),
            )
        )

    def _active(self, kind: type[P]) -> list[tuple[P, EnforcementLevel]]:
        active: list[tuple[P, EnforcementLevel]] = []
        for policy in self.sdk_policies():
            level = self.sdk_level(policy)
            if level == EnforcementLevel.DISABLED or not isinstance(policy, kind):
                continue
            active.append((policy, EnforcementLevel.MANDATORY if level == EnforcementLevel.REMEDIATE else level))
        return active

    def _plan(self, resource_type: str) -> list[_Planned]:
        """The active resource policies for a type, each with its not-applicable reason or None to run it.

        Kept per type until Configure replaces the levels: with thousands of resources of a few types,
        working out levels and scopes for every request costs more than most policies do.
        """
        levels = self.sdk_configured_levels()
        cache = self._plans
        if cache is None or cache[0] is not levels:
            cache = self._plans = (levels, {})
        plan = cache[1].get(resource_type)
        if plan is None:
            plan = []
            for policy, level in self._active(ResourceValidationPolicy):
                if not policy.has_validation():
                    plan.append((policy, level, "Policy does not implement validate"))
                else:
                    # A rule out of scope would only call args.not_applicable(reason): answer that directly.
                    plan.append((policy, level, _out_of_scope(policy, resource_type)))
            cache[1][resource_type] = plan
        return plan

    def Analyze(self, request: proto.AnalyzeRequest, _context: Context) -> proto.AnalyzeResponse:  # noqa: N802
        return self.analyze_decoded(request, None)

    def analyze_decoded(self, request: proto.AnalyzeRequest, props: Props | None = None) -> proto.AnalyzeResponse:
        """Analyze, with the properties already decoded (`decode_data`) or, when None, from the request."""
        self._runtime_once()
        response = proto.AnalyzeResponse()
        shared: tuple[Props, PolicyResourceOptions, PolicyProviderResource | None] | None = None
        for policy, level, skipped in self._plan(request.type):
            if skipped is not None:
                response.not_applicable.add(policy_name=policy.name, reason=skipped)
                continue
            if shared is None:
                decoded = _decode(request.properties) if props is None else props
                shared = (decoded, self.sdk_options(request), self.sdk_provider(request))
            decoded, opts, provider = shared
            report = self.sdk_report(response, policy, level)
            args = sdk.resource_args(
                resource_type=request.type, props=decoded, urn=request.urn, name=request.name, opts=opts,
                provider=provider, config=self.sdk_policy_config(policy.name), stack_tags=self.sdk_stack_tags(),
            )
            try:
                _run(policy.validate(args, report))
            except UnknownValueError as error:
                self._unknown(response, policy, error)
            except sdk.NotApplicableError as error:
                response.not_applicable.add(policy_name=policy.name, reason=getattr(error, "reason", None) or "")
        return response

    def AnalyzeStack(self, request: proto.AnalyzeStackRequest, _context: Context) -> proto.AnalyzeResponse:  # noqa: N802
        return self.analyze_stack_decoded(request, None)

    def analyze_stack_decoded(self, request: proto.AnalyzeStackRequest,
                              props: Sequence[Props] | None = None) -> proto.AnalyzeResponse:
        """AnalyzeStack, with each resource's properties already decoded (in request order) or from the request."""
        self._runtime_once()
        response = proto.AnalyzeResponse()
        active = self._active(StackValidationPolicy)
        if not active:
            return response
        resources = self._graph(request, props)
        for policy, level in active:
            report = self.sdk_report(response, policy, level)
            args = sdk.stack_args(resources=resources, config=self.sdk_policy_config(policy.name),
                                  stack_tags=self.sdk_stack_tags())
            try:
                _run(policy.validate(args, report))
            except sdk.NotApplicableError as error:
                response.not_applicable.append(
                    proto.PolicyNotApplicable(policy_name=policy.name, reason=getattr(error, "reason", None) or ""))
            except Exception as error:
                # The policy judged the rest; these resources it could not (rules.helpers.unknowns.NotChecked).
                not_checked = _not_checked(error)
                if not_checked is not None:
                    for urn, reason in not_checked:
                        self._unknown(response, policy, reason, urn)
                elif isinstance(error, UnknownValueError):
                    self._unknown(response, policy, error)
                else:
                    raise
        return response

    def _graph(self, request: proto.AnalyzeStackRequest, props: Sequence[Props] | None) -> list[PolicyResource]:
        """Every resource once, with parents and dependencies linked as the SDK links them."""
        by_urn: dict[str, PolicyResource] = {}
        pending: list[tuple[PolicyResource, proto.AnalyzerResource]] = []
        for i, r in enumerate(request.resources):
            resource = sdk.policy_resource(
                resource_type=r.type, props=_decode(r.properties) if props is None else props[i], urn=r.urn,
                name=r.name, opts=self.sdk_options(r), provider=self.sdk_provider(r),
            )
            by_urn[r.urn] = resource
            pending.append((resource, r))
        for resource, r in pending:
            if r.parent in by_urn:
                resource.parent = by_urn[r.parent]
            resource.dependencies.extend(by_urn[d] for d in r.dependencies if d in by_urn)
            for key, deps in r.propertyDependencies.items():
                resource.property_dependencies[key] = [by_urn[d] for d in deps.urns if d in by_urn]
        return [resource for resource, _ in pending]


class StockServicer:
    """The SDK's own servicer, unchanged, for an SDK the adapter was not proven with.

    Composition, not a subclass: every Analyzer call goes to the SDK's code as PolicyPack(...) would
    serve it. Only Configure passes through here first, so that clause 8's refusal (a mixin in front of
    this class) sees it; PolicyPack itself offers no such hook. The in-process entry points `cdb check`
    uses hand the data to the SDK the way a request would carry it, as a Struct.
    """

    def __init__(self, **arguments: Any) -> None:
        self.policy_names = tuple(policy.name for policy in arguments["policies"])
        self._sdk: sdk.AnalyzerCalls = sdk.sdk_servicer(**arguments)

    def __getattr__(self, name: str) -> Any:  # every other Analyzer method: the SDK's own
        if name == "_sdk":
            raise AttributeError(name)
        return getattr(self._sdk, name)

    def Configure(self, request: proto.ConfigureAnalyzerRequest, context: Context) -> empty_pb2.Empty:  # noqa: N802
        return self._sdk.Configure(request, context)

    @staticmethod
    def decode_data(data: Mapping[str, Json]) -> struct_pb2.Struct:
        struct = struct_pb2.Struct()
        struct.update(data)
        return struct

    def in_process(self) -> None:
        """The SDK applies the runtime settings of the environment on every call; the stock path lets it."""

    def analyze_decoded(self, request: proto.AnalyzeRequest,
                        props: struct_pb2.Struct | None = None) -> proto.AnalyzeResponse:
        if props is not None:
            request = _with_properties(proto.AnalyzeRequest, request, [props])
        return self._sdk.Analyze(request, None)

    def analyze_stack_decoded(self, request: proto.AnalyzeStackRequest,
                              props: Sequence[struct_pb2.Struct] | None = None) -> proto.AnalyzeResponse:
        if props is not None:
            request = _with_properties(proto.AnalyzeStackRequest, request, props)
        return self._sdk.AnalyzeStack(request, None)


def _with_properties(kind: type[Request], request: Request, structs: Sequence[struct_pb2.Struct]) -> Request:
    copy = kind()
    copy.CopyFrom(request)
    targets: Sequence[proto.AnalyzeRequest | proto.AnalyzerResource] = (
        [copy] if isinstance(copy, proto.AnalyzeRequest) else list(copy.resources))
    for target, struct in zip(targets, structs, strict=True):
        target.properties.CopyFrom(struct)
    return copy


_said: list[str] = []


def _say_once(line: str) -> None:
    """One line on stderr per process: the Pulumi CLI keeps a pack's stderr in the analyzer's log."""
    if line not in _said:
        _said.append(line)
        print(line, file=sys.stderr, flush=True)


def make_servicer(name: str, policies: list[Policy], enforcement_level: EnforcementLevel, *,
                  servicer_class: type[Servicer] | None = None, stock_class: type[StockServicer] | None = None,
                  version: str = "0.0.1", **metadata: Any) -> Servicer | StockServicer:
    """The servicer `PolicyPack(...)` would build, after the same checks of name and policies: the fast
    one when the installed SDK is one the adapter was proven with, else the SDK's own (and a line saying so)."""
    if not _PACK_NAME.match(name):
        raise TypeError(f"invalid policy pack name {name!r}")
    if not policies or not all(isinstance(p, Policy) for p in policies):
        raise TypeError("a policy pack needs a non-empty list of policies")
    names = [p.name for p in policies]
    if len(set(names)) != len(names):
        raise TypeError("policy names must be unique within the pack")
    # PolicyPack(...) always says 0.0.1: the CLI shows the version of PulumiPolicy.yaml instead.
    arguments = dict(name=name, version=version, policies=policies, enforcement_level=enforcement_level, **metadata)
    reason = sdk.unproven()
    if reason is None:
        servicer = sdk.sdk_servicer(servicer_class or Servicer, **arguments)
        missing = sdk.missing_fields(servicer)
        if not missing:
            return servicer
        reason = f"pulumi_policy's servicer lacks {', '.join(missing)}, which the SDK adapter reads"
    _say_once(f"policy pack {name}: {reason}; serving with the SDK's own servicer (slower, same verdicts)")
    return (stock_class or StockServicer)(**arguments)


def serve(name: str, policies: list[Policy], enforcement_level: EnforcementLevel, *,
          servicer_class: type[Servicer] | None = None, stock_class: type[StockServicer] | None = None,
          **metadata: Any) -> None:
    """What `PolicyPack(...)` does: validate, serve on a loopback port, print the port, wait."""
    servicer = make_servicer(name, policies, enforcement_level, servicer_class=servicer_class,
                             stock_class=stock_class, **metadata)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=sdk.GRPC_OPTIONS)
    # grpc looks each Analyzer method up by name; StockServicer answers them by delegation to the SDK's
    # servicer (__getattr__), so it is an AnalyzerServicer in all but its base class, which the stub names.
    analyzer_pb2_grpc.add_AnalyzerServicer_to_server(cast(analyzer_pb2_grpc.AnalyzerServicer, servicer), server)
    port = server.add_insecure_port(address="127.0.0.1:0")
    server.start()
    sys.stdout.buffer.write(f"{port}\n".encode())
    sys.stdout.flush()
    try:
        while True:
            time.sleep(86400)
    except KeyboardInterrupt:
        server.stop(0)
