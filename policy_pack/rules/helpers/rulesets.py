"""GitHub rulesets read as branch protection (clause 7).

pulumi-github RepositoryRuleset (one repository, by name) and OrganizationRuleset (repositories picked
by conditions.repositoryName include/exclude patterns, "~ALL" for all) protect the branches their
conditions.refName includes ("~DEFAULT_BRANCH", "~ALL", "refs/heads/<pattern>"), when enforcement is
"active". Their rules meet the same requirements as a BranchProtection: pullRequest reviews, required
status checks, nonFastForward (no force push), and no bypassActors (admins included).
Nested blocks arrive as objects or one-element lists depending on the SDK; both are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from .access import get, is_mapping, items, number, shown, text
from .conventions import REQUIRED_STATUS_CHECKS

REPOSITORY_RULESET = "github:index/repositoryRuleset:RepositoryRuleset"
ORGANIZATION_RULESET = "github:index/organizationRuleset:OrganizationRuleset"
RULESET_TYPES = (REPOSITORY_RULESET, ORGANIZATION_RULESET)


def _block(value: Any) -> Mapping[str, Any]:
    if is_mapping(value):
        return value
    found = items({"v": value}, "v")
    return found[0] if found and is_mapping(found[0]) else {}


def _included(patterns: Mapping[str, Any], name: str, everything: str, extra: tuple[str, ...] = ()) -> bool:
    includes = [p for p in items(patterns, "includes") if isinstance(p, str)]
    excludes = [p for p in items(patterns, "excludes") if isinstance(p, str)]

    def matches(pattern: str) -> bool:
        return pattern == everything or pattern in extra or fnmatchcase(name, pattern)

    return any(matches(p) for p in includes) and not any(matches(p) for p in excludes)


def ruleset_belongs(ruleset: Any, repository: str | None) -> bool:
    if ruleset.resource_type == REPOSITORY_RULESET:
        return repository is not None and get(ruleset.props, "repository") == repository
    names = _block(get(_block(get(ruleset.props, "conditions")), "repositoryName"))
    return repository is not None and _included(names, repository, "~ALL")


def ruleset_covers(ruleset: Any, branch: str) -> bool:
    if text(ruleset.props, "target") not in (None, "branch"):
        return False
    refs = _block(get(_block(get(ruleset.props, "conditions")), "refName"))
    return _included(refs, f"refs/heads/{branch}", "~ALL", ("~DEFAULT_BRANCH",))


def ruleset_gaps(ruleset: Any) -> dict[str, str]:
    """Requirement -> what the ruleset lacks of it, keyed as governance.protection_gaps keys them."""
    props = ruleset.props
    enforcement = get(props, "enforcement")
    if enforcement != "active":
        why = f"ruleset {shown(text(props, 'name'))} enforcement is {shown(enforcement)} (need active)"
        return {key: why for key in ("reviews", "checks", "force", "admins")}
    rules = _block(get(props, "rules"))
    gaps: dict[str, str] = {}
    reviews = _block(get(rules, "pullRequest"))
    count = number(get(reviews, "requiredApprovingReviewCount"))
    if count is None or count < 1:
        gaps["reviews"] = (f"rules.pullRequest.requiredApprovingReviewCount is "
                           f"{shown(get(reviews, 'requiredApprovingReviewCount'))} (need >= 1)")
    checks = _block(get(rules, "requiredStatusChecks"))
    contexts = [text(c, "context") for c in items(checks, "requiredChecks") if is_mapping(c)]
    missing = [name for name in REQUIRED_STATUS_CHECKS if name not in contexts]
    if missing:
        gaps["checks"] = "rules.requiredStatusChecks lacks " + ", ".join(missing)
    if get(rules, "nonFastForward") is not True:
        gaps["force"] = "rules.nonFastForward is not true (force pushes allowed)"
    bypass = items(props, "bypassActors")
    if bypass:
        gaps["admins"] = f"bypassActors lets {len(bypass)} actor(s) bypass the ruleset (admins must be included)"
    return gaps
