"""Clause 7: change control is code. A governed GitHub repository allows no auto-merge, and its default
branch is protected: reviews, the tests and policy-preview checks, no force push, admins included.

pulumi-github types: Repository, BranchProtection (GraphQL; repositoryId is the node id or the name,
lists for reviews and checks) and BranchProtectionV3 (REST; repository name, objects for reviews and
checks, force pushes not allowed by the resource), and the newer rulesets (RepositoryRuleset,
OrganizationRuleset; see rulesets.py). A protection belongs to a repository when it depends on it in the
graph (repositoryId from repo.node_id is unknown at preview) or names it. GitHub applies every
protection and active ruleset of a branch together, so a requirement is met when any of them meets it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

from pulumi_policy import Severity

from .helpers.access import get, is_mapping, items, number, shown, text
from .helpers.conventions import REQUIRED_STATUS_CHECKS
from .helpers.metadata import StackRule
from .helpers.objects import of_type
from .helpers.rulesets import RULESET_TYPES, ruleset_belongs, ruleset_covers, ruleset_gaps

REPOSITORY = "github:index/repository:Repository"
PROTECTION = "github:index/branchProtection:BranchProtection"
PROTECTION_V3 = "github:index/branchProtectionV3:BranchProtectionV3"
BRANCH_DEFAULT = "github:index/branchDefault:BranchDefault"
DEFAULT_BRANCH = "main"


def _first(value: Any) -> Mapping[str, Any]:
    """BranchProtection keeps reviews and checks as one-element lists, V3 as objects."""
    if is_mapping(value):
        return value
    found = items({"v": value}, "v")
    return found[0] if found and is_mapping(found[0]) else {}


def _depends_on(resource: Any, target: Any) -> bool:
    if target in resource.dependencies or resource.parent is target:
        return True
    return any(target in deps for deps in resource.property_dependencies.values())


def _repo_name(repository: Any) -> str | None:
    return text(repository.props, "name") or repository.name


def _belongs(protection: Any, repository: Any, repositories: Sequence[Any]) -> bool:
    # A protection built from a repository's output (repositoryId=repo.node_id, unknown at preview)
    # belongs to the repository it depends on; its repositoryId is read only when no edge says.
    linked = [r for r in repositories if _depends_on(protection, r)]
    if linked:
        return repository in linked
    if protection.resource_type in RULESET_TYPES:
        return ruleset_belongs(protection, _repo_name(repository))
    key = "repository" if protection.resource_type == PROTECTION_V3 else "repositoryId"
    return bool(get(protection.props, key) == _repo_name(repository))


def _default_branch(repository: Any, resources: Sequence[Any]) -> str:
    for branch_default in of_type(resources, BRANCH_DEFAULT):
        if _depends_on(branch_default, repository) or get(branch_default.props, "repository") == _repo_name(repository):
            return text(branch_default.props, "branch") or DEFAULT_BRANCH
    return text(repository.props, "defaultBranch") or DEFAULT_BRANCH


def _covers(protection: Any, branch: str) -> bool:
    if protection.resource_type in RULESET_TYPES:
        return ruleset_covers(protection, branch)
    if protection.resource_type == PROTECTION_V3:
        return text(protection.props, "branch") == branch
    pattern = text(protection.props, "pattern")
    return pattern is not None and fnmatchcase(branch, pattern)


def protection_gaps(protection: Any) -> dict[str, str]:
    """Requirement -> what this protection lacks of it (reviews, checks, force, admins)."""
    if protection.resource_type in RULESET_TYPES:
        return ruleset_gaps(protection)
    props = protection.props
    gaps = {}
    reviews = _first(get(props, "requiredPullRequestReviews"))
    count = number(get(reviews, "requiredApprovingReviewCount"))
    if not reviews or (count is not None and count < 1):
        gaps["reviews"] = f"requiredPullRequestReviews.requiredApprovingReviewCount is {shown(get(reviews, 'requiredApprovingReviewCount'))} (need >= 1)"
    checks = _first(get(props, "requiredStatusChecks"))
    contexts = [str(c).split(":", 1)[0] for c in items(checks, "contexts") + items(checks, "checks")]
    missing = [name for name in REQUIRED_STATUS_CHECKS if name not in contexts]
    if missing:
        gaps["checks"] = "requiredStatusChecks lacks " + ", ".join(missing)
    if protection.resource_type == PROTECTION and get(props, "allowsForcePushes") is True:
        gaps["force"] = "allowsForcePushes is true"
    if get(props, "enforceAdmins") is not True:
        gaps["admins"] = f"enforceAdmins is {shown(get(props, 'enforceAdmins'))} (admins must be included)"
    return gaps


def check_governance(resources: Sequence[Any]) -> Iterator[tuple[str, str | None]]:
    repositories = list(of_type(resources, REPOSITORY))
    if not repositories:
        return
    protections = list(of_type(resources, PROTECTION, PROTECTION_V3, *RULESET_TYPES))
    for repository in repositories:
        label = f"Repository {_repo_name(repository)}"
        auto_merge = get(repository.props, "allowAutoMerge")
        if auto_merge is not False:
            yield f"{label}: allowAutoMerge is {shown(auto_merge)}; set allowAutoMerge: false", repository.urn
        branch = _default_branch(repository, resources)
        mine = [p for p in protections if _belongs(p, repository, repositories) and _covers(p, branch)]
        if not mine:
            yield (f"{label}: default branch {branch} has no BranchProtection or active ruleset; protect it "
                   "(RepositoryGovernance component)", repository.urn)
            continue
        each = [protection_gaps(p) for p in mine]
        # A requirement is unmet only when no protection or ruleset of the branch meets it.
        unmet = [gap for key, gap in each[0].items() if all(key in gaps for gaps in each)]
        if unmet:
            yield f"{label}: protection of {branch}: " + "; ".join(unmet), repository.urn


GOVERNANCE = StackRule(
    name="github-repository-governed",
    description="Governed repositories forbid auto-merge and protect their default branch with reviews and CI gates.",
    clause="7",
    specification="Branch-Protection. CI-Gates. Kein Auto-Merge.",
    severity=Severity.HIGH,
    remediation=(
        "Build repositories with the RepositoryGovernance component, or set allowAutoMerge: false on the "
        "github Repository and protect its default branch with BranchProtection: requiredPullRequestReviews "
        "requiredApprovingReviewCount >= 1, requiredStatusChecks contexts including "
        + " and ".join(REQUIRED_STATUS_CHECKS) + ", allowsForcePushes false and enforceAdmins true, or with an "
        "active RepositoryRuleset/OrganizationRuleset on the default branch (rules pullRequest, "
        "requiredStatusChecks, nonFastForward, no bypassActors)."
    ),
    tags=("change-control", "github"),
    check=check_governance,
)

RULES = [GOVERNANCE]
