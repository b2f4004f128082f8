"""No stack policy fails open on an unknown: one unknown makes one resource "not checked", the rest are judged."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from .harness import Node, analyze_stack, urn_of
from .stack_cases import GITHUB_PROTECTION, GITHUB_REPO, STACK_CASES, governed_repository

STACK_FAILING = [(name, *case) for name, table in STACK_CASES.items() for case in table["fail"]]


def _unknown_leaves(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _unknown_leaves(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknown_leaves(v) for v in value]
    if isinstance(value, str) and key not in ("apiVersion", "kind"):
        return UNKNOWN
    return value


def _unknown_twin(node: Node) -> Node:
    """The same resource once more, every text in it unknown at preview, with no edges to the others."""
    return replace(node, name=f"twin-{node.name}", props=_unknown_leaves(node.props), parent="", dependencies=[],
                   property_dependencies={})


@pytest.mark.parametrize(("policy", "label", "build", "expect"), STACK_FAILING,
                         ids=[f"{n}-{label}" for n, label, *_ in STACK_FAILING])
def test_a_violation_is_still_found_beside_resources_holding_unknown_values(policy, label, build, expect):
    graph = build()
    outcome = analyze_stack([_unknown_twin(n) for n in graph] + graph)
    mine = [f for f in outcome.findings if f.policy == policy]
    violations = [f.message for f in mine if f.enforcement == "mandatory"]
    assert any(expect in m for m in violations), (label, [(f.enforcement, f.urn, f.message) for f in mine])
    for finding in mine:
        if finding.enforcement == "advisory":  # not checked: always one resource, never the whole policy
            assert finding.message.startswith("can't run policy") and finding.urn, finding


def test_governance_judges_the_repository_beside_one_whose_name_is_unknown():
    unknown_name = Node(GITHUB_REPO, {"name": UNKNOWN, "allowAutoMerge": False}, "billing")
    protection = Node(GITHUB_PROTECTION, {"repositoryId": UNKNOWN, "pattern": "main", "enforceAdmins": True,
                                          "requiredPullRequestReviews": [{"requiredApprovingReviewCount": 1}],
                                          "requiredStatusChecks": [{"contexts": ["tests", "policy-preview"]}]},
                      "billing-main", dependencies=["billing"])
    careless = Node(GITHUB_REPO, {"name": "playground", "allowAutoMerge": True}, "playground")
    outcome = analyze_stack([unknown_name, protection, careless])
    mine = [f for f in outcome.findings if f.policy == "github-repository-governed"]
    assert [(f.enforcement, f.urn) for f in mine if f.enforcement == "mandatory"] == [
        ("mandatory", urn_of(GITHUB_REPO, "playground")), ("mandatory", urn_of(GITHUB_REPO, "playground"))]
    unchecked = {f.urn: f.message for f in mine if f.enforcement == "advisory"}
    assert set(unchecked) == {urn_of(GITHUB_REPO, "billing"), urn_of(GITHUB_PROTECTION, "billing-main")}
    assert all("can't be known during preview" in m for m in unchecked.values())


def test_a_protection_linked_by_the_graph_needs_no_known_repository_id():
    graph = []
    for name in ("api", "web"):  # two repositories, each protection's repositoryId unknown (repo.node_id)
        repo, guard = governed_repository()
        graph += [replace(repo, name=name, props={**repo.props, "name": name}),
                  replace(guard, name=f"{name}-main", parent=name, dependencies=[name],
                          property_dependencies={"repositoryId": [name]})]
    outcome = analyze_stack(graph)
    assert [f for f in outcome.findings if f.policy == "github-repository-governed"] == []


STACK_PASSING = [(name, *case) for name, table in STACK_CASES.items() for case in table["pass"]]


@pytest.mark.parametrize(("policy", "label", "build", "expect"), STACK_PASSING,
                         ids=[f"{n}-{label}" for n, label, *_ in STACK_PASSING])
def test_unknown_values_beside_a_compliant_stack_are_not_checked_never_violations(policy, label, build, expect):
    graph = build()
    outcome = analyze_stack([_unknown_twin(n) for n in graph] + graph)
    assert [(f.policy, f.message) for f in outcome.findings if f.enforcement == "mandatory"] == []
