# Protected repositories; the protection's repositoryId is the repository's node id (unknown at
# preview, but the dependency says which repository it protects): compliant and complete.
# expect: exit 0
import pulumi_github as github

for name in ("api", "web"):
    repo = github.Repository(name, name=name, allow_auto_merge=False, visibility="private")
    github.BranchProtection(f"{name}-main", repository_id=repo.node_id, pattern="main", enforce_admins=True,
                            allows_force_pushes=False,
                            required_pull_request_reviews=[{"required_approving_review_count": 2}],
                            required_status_checks=[{"strict": True, "contexts": ["tests", "policy-preview"]}])
