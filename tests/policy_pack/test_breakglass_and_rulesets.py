"""Clause 2.4: a break-glass marker lives hours, not years, and exempts from the RBAC rule only while it is
valid. Clause 7: GitHub rulesets count as branch protection and their rules are judged."""

from __future__ import annotations

from datetime import timedelta

import pytest

from .harness import Node, analyze_stack, stack_violations, violations
from .objects import break_glass, iso, obj
from .stack_cases import GITHUB_REPO, rbac_stack

MARKER = "break-glass-marker-complete"
HUMAN_WRITE = "k8s-no-human-write-rbac"
GOVERNED = "github-repository-governed"
REPOSITORY_RULESET = "github:index/repositoryRuleset:RepositoryRuleset"
ORGANIZATION_RULESET = "github:index/organizationRuleset:OrganizationRuleset"


@pytest.mark.parametrize(("start", "end"), [
    (timedelta(hours=-1), timedelta(days=365 * 5)),
    (timedelta(hours=-1), timedelta(days=30)),
    (timedelta(hours=-2), timedelta(hours=71)),  # 73 hours in all
])
def test_a_marker_living_longer_than_the_maximum_lifetime_is_refused(start, end):
    marker = break_glass(time=iso(start), expiry=iso(end))
    messages = violations(*obj("ConfigMap", "patched", annotations=marker), MARKER)
    assert any("an emergency marker lives at most 72h" in m for m in messages), messages


def test_a_marker_within_the_lifetime_passes():
    marker = break_glass(time=iso(-timedelta(hours=10)), expiry=iso(timedelta(hours=60)))
    assert violations(*obj("ConfigMap", "patched", annotations=marker), MARKER) == []


def test_a_long_lived_marker_grants_no_standing_rbac_exemption():
    edit = {"kind": "ClusterRole", "name": "edit"}
    short = break_glass(time=iso(-timedelta(hours=1)), expiry=iso(timedelta(hours=24)))
    assert stack_violations(rbac_stack(role_ref=edit, annotations=short), HUMAN_WRITE) == []
    standing = break_glass(time=iso(-timedelta(hours=1)), expiry="2099-12-31T00:00:00Z")
    assert stack_violations(rbac_stack(role_ref=edit, annotations=standing), HUMAN_WRITE)
    expired = break_glass(time=iso(-timedelta(hours=30)), expiry=iso(-timedelta(hours=1)))
    assert stack_violations(rbac_stack(role_ref=edit, annotations=expired), HUMAN_WRITE)


def test_the_lifetime_comes_from_pack_config_within_its_bounds():
    edit = {"kind": "ClusterRole", "name": "edit"}
    marker = break_glass(time=iso(-timedelta(hours=1)), expiry=iso(timedelta(hours=47)))
    graph = rbac_stack(role_ref=edit, annotations=marker)
    assert analyze_stack(graph).messages(HUMAN_WRITE) == []
    assert analyze_stack(graph, config={HUMAN_WRITE: {"maxLifetimeHours": 24}}).messages(HUMAN_WRITE)
    from policy_pack.rules import POLICIES

    schema = next(p for p in POLICIES if p.name == MARKER).config_schema.properties["maxLifetimeHours"]
    assert schema["default"] == 72 and schema["maximum"] == 168


def repository(auto_merge: bool = False) -> Node:
    return Node(GITHUB_REPO, {"name": "cdb-infra", "visibility": "private", "allowAutoMerge": auto_merge}, "repo")


def ruleset(**overrides) -> Node:
    props = {
        "name": "main-protection", "repository": "cdb-infra", "target": "branch", "enforcement": "active",
        "conditions": {"refName": {"includes": ["~DEFAULT_BRANCH"], "excludes": []}},
        "rules": {"pullRequest": {"requiredApprovingReviewCount": 1, "dismissStaleReviewsOnPush": True},
                  "requiredStatusChecks": {"requiredChecks": [{"context": "tests"}, {"context": "policy-preview"}],
                                           "strictRequiredStatusChecksPolicy": True},
                  "nonFastForward": True, "deletion": True},
    }
    props.update(overrides)
    return Node(REPOSITORY_RULESET, props, "ruleset")


def org_ruleset(**overrides) -> Node:
    node = ruleset(**overrides)
    node.props.pop("repository", None)
    node.props["conditions"] = {**node.props["conditions"],
                                "repositoryName": {"includes": ["cdb-*"], "excludes": ["cdb-sandbox"]}}
    node.props.update(overrides)
    return Node(ORGANIZATION_RULESET, node.props, "org-ruleset")


def test_a_repository_protected_by_an_active_ruleset_passes():
    assert stack_violations([repository(), ruleset()], GOVERNED) == []
    assert stack_violations([repository(), org_ruleset()], GOVERNED) == []


def test_rulesets_in_list_form_as_some_sdks_send_them_are_read_too():
    listed = ruleset(rules=[{"pullRequest": [{"requiredApprovingReviewCount": 2}],
                             "requiredStatusChecks": [{"requiredChecks": [{"context": "tests"},
                                                                          {"context": "policy-preview"}]}],
                             "nonFastForward": True}],
                     conditions=[{"refName": [{"includes": ["refs/heads/main"]}]}])
    assert stack_violations([repository(), listed], GOVERNED) == []


@pytest.mark.parametrize(("node", "fragment"), [
    (ruleset(enforcement="evaluate"), 'enforcement is "evaluate" (need active)'),
    (ruleset(rules={"nonFastForward": True, "requiredStatusChecks": {"requiredChecks": [
        {"context": "tests"}, {"context": "policy-preview"}]}}), "rules.pullRequest.requiredApprovingReviewCount"),
    (ruleset(rules={"pullRequest": {"requiredApprovingReviewCount": 1}, "nonFastForward": True}),
     "rules.requiredStatusChecks lacks tests, policy-preview"),
    (ruleset(bypassActors=[{"actorId": 5, "actorType": "RepositoryRole", "bypassMode": "always"}]),
     "bypassActors lets 1 actor(s) bypass"),
    (ruleset(conditions={"refName": {"includes": ["refs/heads/release/*"]}}), "has no BranchProtection or active ruleset"),
    (ruleset(repository="other-repo"), "has no BranchProtection or active ruleset"),
    (org_ruleset(conditions={"refName": {"includes": ["~ALL"]},
                             "repositoryName": {"includes": ["~ALL"], "excludes": ["cdb-infra"]}}),
     "has no BranchProtection or active ruleset"),
])
def test_rulesets_that_do_not_protect_the_default_branch_are_refused(node, fragment):
    messages = stack_violations([repository(), node], GOVERNED)
    assert any(fragment in m for m in messages), messages


def test_rules_of_several_rulesets_add_up_as_github_applies_them():
    reviews = ruleset(rules={"pullRequest": {"requiredApprovingReviewCount": 1}, "nonFastForward": True})
    checks = Node(REPOSITORY_RULESET, {**ruleset().props, "name": "checks", "rules": {"requiredStatusChecks": {
        "requiredChecks": [{"context": "tests"}, {"context": "policy-preview"}]}}}, "ruleset-checks")
    assert stack_violations([repository(), reviews, checks], GOVERNED) == []
    assert stack_violations([repository(), reviews], GOVERNED)
