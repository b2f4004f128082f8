"""RepositoryGovernance builds what clause 7 asks, and the pack's governance policy accepts it."""

from __future__ import annotations

import pytest

from components.errors import ComponentArgsError
from components.governance import RepositoryGovernance, RepositoryGovernanceArgs
from tests.components.harness import run_program
from tests.policy_pack.harness import Node, analyze_stack

REPO = "github:index/repository:Repository"
PROTECTION = "github:index/branchProtection:BranchProtection"


def _governed(**args):
    return run_program(lambda: RepositoryGovernance("infra", RepositoryGovernanceArgs.parse({"repository": "cdb-infra", **args}, owner="RepositoryGovernance 'infra'")))


def test_repository_has_auto_merge_off():
    repo = _governed().one(REPO)
    assert repo.inputs["allowAutoMerge"] is False
    assert repo.inputs["name"] == "cdb-infra"


def test_default_branch_is_protected_with_reviews_checks_admins_and_no_force_push():
    recording = _governed()
    protection = recording.one(PROTECTION)
    inputs = protection.inputs
    assert inputs["pattern"] == "main"
    assert inputs["enforceAdmins"] is True
    assert inputs["allowsForcePushes"] is False
    assert inputs["requiredPullRequestReviews"][0]["requiredApprovingReviewCount"] == 1
    assert inputs["requiredStatusChecks"][0]["contexts"] == ["tests", "policy-preview"]
    assert recording.one(REPO).urn in protection.dependencies


def test_a_check_list_without_the_policy_preview_is_refused():
    with pytest.raises(ComponentArgsError, match="required checks lack policy-preview"):
        _governed(required_checks=("tests",))


def test_zero_required_reviews_is_refused():
    with pytest.raises(ComponentArgsError, match="required_reviews"):
        _governed(required_reviews=0)


def test_what_the_component_registers_passes_the_governance_policy():
    recording = _governed(required_reviews=2)
    nodes = [Node(r.type, r.inputs, r.name, dependencies=[d.rsplit("::", 1)[-1] for d in r.dependencies])
             for r in recording.registrations if r.type in (REPO, PROTECTION)]
    outcome = analyze_stack(nodes)
    assert [f.message for f in outcome.findings if f.policy == "github-repository-governed"] == []


def test_the_policy_rejects_the_component_output_once_force_push_is_allowed():
    recording = _governed()
    nodes = []
    for r in recording.registrations:
        if r.type in (REPO, PROTECTION):
            inputs = dict(r.inputs)
            if r.type == PROTECTION:
                inputs["allowsForcePushes"] = True
            nodes.append(Node(r.type, inputs, r.name, dependencies=[d.rsplit("::", 1)[-1] for d in r.dependencies]))
    messages = [f.message for f in analyze_stack(nodes).findings if f.policy == "github-repository-governed"]
    assert messages == ["Repository cdb-infra: protection of main: allowsForcePushes is true"]
