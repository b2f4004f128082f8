"""Every policy accepts its passing case and rejects its failing case, through the engine's path."""

from __future__ import annotations

import pytest
from pulumi.runtime.proto import analyzer_pb2

from policy_pack.rules import PACK_NAME, POLICIES

from policy_pack.rules import RULES

from .cases import CASES
from .fixtures import TYPES, workload
from .harness import analyze, analyze_stack, servicer, to_struct
from .objects import obj
from .stack_cases import STACK_CASES

POLICY_NAMES = [policy.name for policy in POLICIES]
STACK_POLICIES = {rule.name for rule in RULES if rule.kind == "stack"}
PASSING = [(name, case) for name, table in CASES.items() for case in table["pass"]]
FAILING = [(name, case) for name, table in CASES.items() for case in table["fail"]]
STACK_PASSING = [(name, *case) for name, table in STACK_CASES.items() for case in table["pass"]]
STACK_FAILING = [(name, *case) for name, table in STACK_CASES.items() for case in table["fail"]]


def test_every_policy_has_a_passing_and_a_failing_case():
    assert set(CASES) | set(STACK_CASES) == set(POLICY_NAMES)
    assert set(STACK_CASES) == STACK_POLICIES, "stack policies are exercised through AnalyzeStack"
    for name in POLICY_NAMES:
        table = CASES.get(name) or STACK_CASES[name]
        assert table["pass"], f"{name} has no passing case"
        assert table["fail"], f"{name} has no failing case"


@pytest.mark.parametrize(("policy", "label", "build", "expect"), STACK_PASSING,
                         ids=[f"{n}-{label}" for n, label, *_ in STACK_PASSING])
def test_passing_stack_has_no_violation_of_any_policy(policy, label, build, expect):
    outcome = analyze_stack(build())
    assert [(f.policy, f.message) for f in outcome.findings] == []


@pytest.mark.parametrize(("policy", "label", "build", "expect"), STACK_FAILING,
                         ids=[f"{n}-{label}" for n, label, *_ in STACK_FAILING])
def test_failing_stack_is_rejected_as_mandatory_with_a_message_naming_the_object(policy, label, build, expect):
    outcome = analyze_stack(build())
    mine = [finding for finding in outcome.findings if finding.policy == policy]
    assert mine, f"{policy} did not reject {label}"
    assert all(finding.enforcement == "mandatory" for finding in mine)
    assert any(expect in finding.message for finding in mine), [f.message for f in mine]


@pytest.mark.parametrize(("policy", "case"), PASSING, ids=[f"{n}-{c.label}" for n, c in PASSING])
def test_passing_case_has_no_violation_of_its_policy(policy, case):
    outcome = analyze(*case.resource)
    assert outcome.messages(policy) == []


@pytest.mark.parametrize(("policy", "case"), FAILING, ids=[f"{n}-{c.label}" for n, c in FAILING])
def test_failing_case_is_rejected_as_mandatory_with_a_message_naming_the_field(policy, case):
    outcome = analyze(*case.resource)
    mine = [finding for finding in outcome.findings if finding.policy == policy]
    assert mine, f"{policy} did not reject {case.label}"
    assert all(finding.enforcement == "mandatory" for finding in mine)
    assert any(case.expect in finding.message for finding in mine), [f.message for f in mine]


EVERY_OBJECT = {"k8s-provenance-metadata", "gitops-no-reconcile-opt-out", "break-glass-marker-complete"}
POD_TEMPLATE = {rule.name for rule in RULES if rule.kind == "resource"
                and rule.not_applicable_reason == "not a workload with a pod template"} | {"no-plaintext-secrets"}


@pytest.mark.parametrize("kind", list(TYPES))
def test_compliant_workload_of_every_kind_passes_the_whole_pack(kind):
    outcome = analyze(*workload(kind))
    assert outcome.findings == []
    resource_policies = {rule.name for rule in RULES if rule.kind == "resource"}
    assert set(outcome.not_applicable) == resource_policies - POD_TEMPLATE - EVERY_OBJECT


def test_resources_without_a_pod_template_are_reported_not_applicable():
    outcome = analyze(*obj("Service", "web", spec={"type": "ClusterIP"}))
    assert outcome.findings == []
    resource_policies = {rule.name for rule in RULES if rule.kind == "resource"}
    assert set(outcome.not_applicable) == resource_policies - EVERY_OBJECT
    pod_rules = POD_TEMPLATE - {"no-plaintext-secrets"}
    assert all(outcome.not_applicable[name] == "not a workload with a pod template" for name in pod_rules)


def test_violation_carries_the_policy_description_first_like_the_engine_shows_it():
    name, case = FAILING[0]
    response = servicer().Analyze(analyzer_pb2.AnalyzeRequest(
        type=case.resource[0], properties=to_struct(case.resource[1]), urn="urn:x", name="x"), None)
    description = next(policy.description for policy in POLICIES if policy.name == name)
    diagnostic = next(d for d in response.diagnostics if d.policyName == name)
    assert diagnostic.message.startswith(description + "\n")
    assert diagnostic.policyPackName == PACK_NAME
