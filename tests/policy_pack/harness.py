"""Run the pack's policies the way the engine does: AnalyzeRequest / AnalyzeStackRequest through the
servicer the pack serves (policy_pack/server.py: its own when the SDK is one sdk_adapter.py was proven
with, else the SDK's own servicer, exactly as the pack chooses at start-up).

Properties go through a protobuf Struct, so numbers arrive as floats and unknown sentinels reach the
SDK's unknown-checking proxy, exactly as from `pulumi preview`. Stack requests carry parents and
dependencies by URN, as the engine sends them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel
from policy_pack.rules import PACK_NAME, POLICIES

# The pack serves through policy_pack/server.py; tests go the same way, and
# tests/policy_pack/test_server.py proves its own servicer answers exactly as the SDK's servicer does.
from policy_pack import server
from policy_pack.pack import PackServicer, StockPackServicer

PACK_VERSION = "0.1.0"
_DESCRIPTIONS = {policy.name: policy.description for policy in POLICIES}


@dataclass(frozen=True)
class Finding:
    policy: str
    message: str  # the rule's own text, without the policy description the SDK puts in front
    enforcement: str  # "mandatory" | "advisory"
    severity: str  # "high", "critical", ... ("unspecified" when the SDK sets none)
    urn: str = ""  # the resource a stack violation blames ("" for the stack as a whole)


@dataclass(frozen=True)
class Outcome:
    findings: list[Finding]
    not_applicable: dict[str, str]

    def messages(self, policy: str) -> list[str]:
        return [finding.message for finding in self.findings if finding.policy == policy]

    def policies(self) -> set[str]:
        return {finding.policy for finding in self.findings}


def servicer() -> PackServicer | StockPackServicer:
    """What policy_pack/__main__.py serves (with the version of PulumiPolicy.yaml, as the CLI shows it)."""
    return server.make_servicer(PACK_NAME, POLICIES, EnforcementLevel.MANDATORY, servicer_class=PackServicer,
                                stock_class=StockPackServicer, version=PACK_VERSION)


def to_struct(props: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(props)
    return struct


def _strip_description(policy: str, message: str) -> str:
    description = _DESCRIPTIONS.get(policy, "")
    if message.startswith(description + "\n"):
        return message[len(description) + 1:]
    return message


def analyze(resource_type: str, props: dict[str, Any], name: str = "subject") -> Outcome:
    request = analyzer_pb2.AnalyzeRequest(
        type=resource_type,
        properties=to_struct(props),
        urn=f"urn:pulumi:test::cdb-infra::{resource_type}::{name}",
        name=name,
    )
    return _outcome(servicer().Analyze(request, None))


def _outcome(response: Any) -> Outcome:
    findings = [
        Finding(
            policy=diagnostic.policyName,
            message=_strip_description(diagnostic.policyName, diagnostic.message),
            enforcement=analyzer_pb2.EnforcementLevel.Name(diagnostic.enforcementLevel).lower(),
            severity=analyzer_pb2.PolicySeverity.Name(diagnostic.severity).removeprefix("POLICY_SEVERITY_").lower(),
            urn=diagnostic.urn,
        )
        for diagnostic in response.diagnostics
    ]
    not_applicable = {entry.policy_name: entry.reason for entry in response.not_applicable}
    return Outcome(findings=findings, not_applicable=not_applicable)


@dataclass
class Node:
    """One resource of a stack graph; parent and dependencies name other nodes by `name`."""

    type: str
    props: dict[str, Any]
    name: str
    parent: str = ""
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)

    @property
    def urn(self) -> str:
        return urn_of(self.type, self.name)


def urn_of(resource_type: str, name: str) -> str:
    return f"urn:pulumi:test::cdb-infra::{resource_type}::{name}"


def node(resource: tuple[str, dict[str, Any]], name: str | None = None, **links: Any) -> Node:
    """A graph node from a (type, props) pair; the name defaults to metadata.name or the kind."""
    resource_type, props = resource
    default = (props.get("metadata") or {}).get("name") or resource_type.rsplit(":", 1)[-1].lower()
    return Node(resource_type, props, name or default, **links)


def configured(config: dict[str, dict[str, Any]]) -> PackServicer | StockPackServicer:
    """A servicer after a Configure request carrying policy config properties (levels stay mandatory)."""
    pack = servicer()
    pack.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={
        name: analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.MANDATORY, properties=to_struct(props))
        for name, props in config.items()}), None)
    return pack


def analyze_stack(nodes: list[Node], config: dict[str, dict[str, Any]] | None = None) -> Outcome:
    """AnalyzeStack over a graph, with parents and dependencies as URNs like the engine sends them."""
    by_name = {n.name: n for n in nodes}
    assert len(by_name) == len(nodes), "node names must be unique"
    request = analyzer_pb2.AnalyzeStackRequest(resources=[
        analyzer_pb2.AnalyzerResource(
            type=n.type, properties=to_struct(n.props), urn=n.urn, name=n.name,
            parent=by_name[n.parent].urn if n.parent else "",
            dependencies=[by_name[d].urn for d in n.dependencies],
            propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=[by_name[d].urn for d in v])
                                  for k, v in n.property_dependencies.items()},
        )
        for n in nodes
    ])
    return _outcome((configured(config) if config else servicer()).AnalyzeStack(request, None))


def stack_violations(nodes: list[Node], policy: str) -> list[str]:
    outcome = analyze_stack(nodes)
    return [f.message for f in outcome.findings if f.policy == policy and f.enforcement == "mandatory"]


def violations(resource_type: str, props: dict[str, Any], policy: str) -> list[str]:
    """Mandatory messages of one policy for one resource."""
    outcome = analyze(resource_type, props)
    return [f.message for f in outcome.findings if f.policy == policy and f.enforcement == "mandatory"]
