"""RepositoryGovernance: change control (CDB_INFRA_POLICY clause 7) as code with pulumi-github.

A repository with auto-merge off, and its default branch protected: at least one approving review,
the required status checks (tests and the policy preview by default, strict: the branch is up to date),
no force push, no deletion, admins included. The pack's github-repository-governed policy checks the
same on any repository in a stack, so a repository built another way is held to it too.
"""

from typing import Annotated, Any

import pulumi
import pulumi_github as github
from pydantic import AfterValidator, Field, field_validator

from components import conventions
from components.intent import Intent
from components.base import Component, require_args

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def _repository_name(value: str) -> str:
    if not value or set(value) - _NAME_CHARS or value in (".", ".."):
        raise ValueError(f"repository name {value!r} may use only letters, digits, '-', '_' and '.'")
    return value


class RepositoryGovernanceArgs(Intent):
    """Arguments of a RepositoryGovernance; everything but the name has the policy's value by default."""

    repository: Annotated[str, AfterValidator(_repository_name)] = Field(description="GitHub repository name")
    description: str = Field(default="", description="Repository description")
    visibility: str = Field(default="private", pattern="^(private|internal|public)$",
                            description="private, internal or public")
    default_branch: str = Field(default="main", min_length=1, description="Branch that is protected")
    required_reviews: int = Field(default=1, ge=1, le=6, description="Approving reviews a merge needs (1-6)")
    required_checks: tuple[str, ...] = Field(
        default=conventions.REQUIRED_STATUS_CHECKS,
        description="Status checks that must pass; must include 'tests' and 'policy-preview'",
    )

    @field_validator("required_checks")
    @classmethod
    def _gates(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        missing = [check for check in conventions.REQUIRED_STATUS_CHECKS if check not in value]
        if missing:
            raise ValueError(f"required checks lack {', '.join(missing)}; clause 7 gates every merge on them")
        return value


class RepositoryGovernance(Component):
    """A governed GitHub repository: auto-merge off, protected default branch."""

    TYPE = conventions.GOVERNANCE_TYPE

    repository: github.Repository
    protection: github.BranchProtection

    def __init__(self, name: str, args: RepositoryGovernanceArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        args = require_args(RepositoryGovernanceArgs, args, owner=f"RepositoryGovernance {name!r}")
        super().__init__(name, args.to_plain(), opts)
        child = pulumi.ResourceOptions(parent=self)
        self.repository = github.Repository(
            name,
            name=args.repository,
            description=args.description,
            visibility=args.visibility,
            allow_auto_merge=False,
            delete_branch_on_merge=True,
            vulnerability_alerts=True,
            opts=child,
        )
        self.protection = github.BranchProtection(
            f"{name}-{args.default_branch}",
            repository_id=self.repository.node_id,
            pattern=args.default_branch,
            enforce_admins=True,
            allows_force_pushes=False,
            allows_deletions=False,
            required_linear_history=True,
            require_conversation_resolution=True,
            required_pull_request_reviews=[github.BranchProtectionRequiredPullRequestReviewArgs(
                required_approving_review_count=args.required_reviews,
                dismiss_stale_reviews=True,
                require_last_push_approval=True,
            )],
            required_status_checks=[github.BranchProtectionRequiredStatusCheckArgs(
                strict=True, contexts=list(args.required_checks),
            )],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.repository]),
        )
        self.register_outputs({"repository": args.repository, "defaultBranch": args.default_branch})
