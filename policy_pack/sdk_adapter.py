"""Every use of the policy SDK's private API, in one place, and the SDK versions it was proven against.

The pack's fast servicer (server.Servicer) decodes each request once instead of once per policy. To do
that with the SDK's own code paths it has to reach into pulumi_policy's private servicer: its
name-mangled state, its underscore helpers and its private "not applicable" exception. All of that is
read here and nowhere else (tests/policy_pack/test_sdk_adapter.py checks the rest of the pack), under
names of our own, so an SDK change breaks one module and one set of tests, not the pack.

`unproven()` is asked once at start-up: when the installed SDK is not a version the adapter was proven
against (the equality tests of tests/policy_pack/test_server.py passed on it; the weekly newest-SDK lane
runs them), or a private name the adapter reads is gone, or CDB_PACK_SDK_ADAPTER=off, the pack serves
with the SDK's own servicer instead: slower, and the verdicts are the SDK's by construction.

Also imported as the top-level module `sdk_adapter` when the Pulumi CLI runs the pack from its directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import metadata
from typing import Any, Protocol, TypeAlias, TypeVar, cast, overload

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2 as proto
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy import deserialize as _deserialize
from pulumi_policy import policy as _policy
from pulumi_policy import proxy as _proxy

# Each package the adapter depends on, with the versions its equality tests passed on. pulumi-policy
# holds the servicer; pulumi holds the Analyzer protocol the servicer speaks. Add a version here only
# after `pytest -m sdk_equality` passed on it (the weekly lane says which).
PROVEN: dict[str, tuple[str, ...]] = {
    "pulumi-policy": ("1.21.0",),
    "pulumi": ("3.272.0",),
}
OFF_SWITCH = "CDB_PACK_SDK_ADAPTER"

# Names from modules pulumi_policy does not re-export: what the SDK hands to (and raises in) policies.
UnknownValueError = _proxy.UnknownValueError
unknown_checking_proxy = _proxy.unknown_checking_proxy
deserialize_properties = _deserialize.deserialize_properties
SPECIAL_SIG_KEY = _deserialize.SPECIAL_SIG_KEY
SPECIAL_SECRET_SIG = _deserialize.SPECIAL_SECRET_SIG



def is_checking_proxy(props: Any) -> bool:
    """Whether a policy was handed the SDK's unknown-checking proxy (it is, when a value is unknown)
    rather than a plain mapping."""
    return not isinstance(props, dict) and type(props).__module__.startswith("pulumi_policy")


# The SDK's own servicer: both paths serve through it (the stock path unchanged, the fast one subclassed).
SdkServicer = _policy._PolicyAnalyzerServicer
# What PolicyPack(...) gives its gRPC server (400 MB messages: a large stack fits one AnalyzeStack).
GRPC_OPTIONS = list(getattr(_policy, "_GRPC_CHANNEL_OPTIONS", [("grpc.max_receive_message_length", 400 << 20)]))


class _Gone(Exception):
    """Stands in for an SDK exception the installed SDK no longer has; never raised."""


# The exception ResourceValidationArgs.not_applicable() raises; _Gone when the SDK no longer has it
# (then `unproven()` says so and the fast servicer, the only one catching it, does not serve).
NotApplicableError: type[Exception] = getattr(_policy, "_NotApplicableError", _Gone)

_PREFIX = "_PolicyAnalyzerServicer__"
# The servicer's private state the adapter reads (set by its __init__) and its helpers it calls.
_FIELDS = ("policies", "policy_pack_name", "policy_pack_version", "policy_pack_config_enforcement_level",
           "stack_tags")
_METHODS = ("_get_enforcement_level", "_create_report_violation", "_map_enforcement_level",
            "_get_resource_options", "_get_provider_resource", "_get_policy_config", "_configure_runtime_settings")


def installed() -> dict[str, str | None]:
    """The installed version of each package in PROVEN (None when its metadata cannot be found)."""
    versions: dict[str, str | None] = {}
    for package in PROVEN:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def unproven() -> str | None:
    """Why the fast servicer must not serve (one clause, for the start-up line), or None when it may."""
    if os.environ.get(OFF_SWITCH, "").strip().lower() in ("off", "0", "false", "no"):
        return f"{OFF_SWITCH} is off"
    for package, version in installed().items():
        if version not in PROVEN[package]:
            proven = ", ".join(PROVEN[package])
            return f"{package} {version or '(version unknown)'} is not a version the SDK adapter was proven with ({proven})"
    missing = [name for name in _METHODS if not callable(getattr(SdkServicer, name, None))]
    if NotApplicableError is _Gone:
        missing.append("_NotApplicableError")
    if missing:
        return f"pulumi_policy lacks {', '.join(missing)}, which the SDK adapter reads"
    return None


def missing_fields(servicer: object) -> list[str]:
    """The private fields the adapter reads that a freshly built SDK servicer does not have."""
    return [_PREFIX + name for name in _FIELDS if not hasattr(servicer, _PREFIX + name)]


Context: TypeAlias = grpc.ServicerContext | None  # None when `cdb check` calls in-process


class AnalyzerCalls(Protocol):
    """The Analyzer methods of the SDK's servicer as the pack calls them. The SDK leaves them unannotated;
    these are the types its code takes and returns (the SDK answers synchronously, never an awaitable)."""

    def Analyze(self, request: proto.AnalyzeRequest, context: Context) -> proto.AnalyzeResponse: ...  # noqa: N802
    def AnalyzeStack(self, request: proto.AnalyzeStackRequest, context: Context) -> proto.AnalyzeResponse: ...  # noqa: N802
    def Configure(self, request: proto.ConfigureAnalyzerRequest, context: Context) -> empty_pb2.Empty: ...  # noqa: N802


S = TypeVar("S", bound="AdaptedServicer")


@overload
def sdk_servicer(cls: None = None, **arguments: Any) -> AnalyzerCalls: ...
@overload
def sdk_servicer(cls: type[S], **arguments: Any) -> S: ...
def sdk_servicer(cls: type[S] | None = None, **arguments: Any) -> AnalyzerCalls | S:
    """The SDK's servicer (or a subclass) as PolicyPack(...) builds it, from keyword arguments
    (PolicyPack's own: name, version, policies, enforcement_level and its metadata keywords)."""
    if cls is None:
        stock: AnalyzerCalls = SdkServicer(**arguments)
        return stock
    return cls(**arguments)


class AdaptedServicer(SdkServicer):
    """The SDK's servicer with the private state and helpers the fast path needs under names of our own."""

    # The casts below give the SDK's private fields the types its __init__ and Configure store in them.
    def sdk_policies(self) -> list[Policy]:
        return cast(list[Policy], getattr(self, _PREFIX + "policies"))

    def sdk_pack_name(self) -> str:
        return cast(str, getattr(self, _PREFIX + "policy_pack_name"))

    def sdk_pack_version(self) -> str:
        return cast(str, getattr(self, _PREFIX + "policy_pack_version"))

    def sdk_configured_levels(self) -> Mapping[str, EnforcementLevel]:
        """The levels of the last Configure; a new object each time Configure runs."""
        return cast(Mapping[str, EnforcementLevel], getattr(self, _PREFIX + "policy_pack_config_enforcement_level"))

    def sdk_stack_tags(self) -> Mapping[str, str]:
        return cast(Mapping[str, str], getattr(self, _PREFIX + "stack_tags"))

    def sdk_level(self, policy: Policy) -> EnforcementLevel:
        return self._get_enforcement_level(policy)

    def sdk_report(self, response: proto.AnalyzeResponse, policy: Policy, level: EnforcementLevel) -> ReportViolation:
        return self._create_report_violation(response, policy.name, policy.description, level, policy.severity)

    def sdk_advisory_level(self) -> proto.EnforcementLevel.ValueType:
        return self._map_enforcement_level(EnforcementLevel.ADVISORY)

    def sdk_options(self, request: proto.AnalyzeRequest | proto.AnalyzerResource) -> PolicyResourceOptions:
        return self._get_resource_options(request)

    def sdk_provider(self, request: proto.AnalyzeRequest | proto.AnalyzerResource) -> PolicyProviderResource | None:
        return self._get_provider_resource(request)

    def sdk_policy_config(self, name: str) -> dict[str, Any] | None:
        return self._get_policy_config(name)

    def sdk_runtime_settings(self) -> None:
        self._configure_runtime_settings()  # type: ignore[no-untyped-call]  # the SDK leaves it unannotated


def resource_args(*, resource_type: str, props: Mapping[str, Any], urn: str, name: str, opts: PolicyResourceOptions,
                  provider: PolicyProviderResource | None, config: Mapping[str, Any] | None,
                  stack_tags: Mapping[str, str]) -> ResourceValidationArgs:
    return ResourceValidationArgs(resource_type=resource_type, props=props, urn=urn, name=name, opts=opts,
                                  provider=provider, config=config, stack_tags=stack_tags)


def stack_args(*, resources: list[PolicyResource], config: Mapping[str, Any] | None,
               stack_tags: Mapping[str, str]) -> StackValidationArgs:
    return StackValidationArgs(resources=resources, config=config, stack_tags=stack_tags)


def policy_resource(*, resource_type: str, props: Mapping[str, Any], urn: str, name: str, opts: PolicyResourceOptions,
                    provider: PolicyProviderResource | None) -> PolicyResource:
    """A stack resource without links yet (the caller sets parent and dependencies, as the SDK does)."""
    return PolicyResource(resource_type=resource_type, props=props, urn=urn, name=name, opts=opts, provider=provider,
                          parent=None, dependencies=[], property_dependencies={})
