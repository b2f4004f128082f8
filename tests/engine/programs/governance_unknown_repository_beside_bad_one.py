# Two repositories: one named from a team's slug (judged first) (known only after the team exists), one with auto-merge
# and no protection. The unknown name makes the first "not checked"; the second is still judged.
# expect: exit 1
# expect: violation github-repository-governed github:index/repository:Repository playground
# expect: not-checked github-repository-governed
import pulumi_github as github

def protect(repo, name):
    github.BranchProtection(f"{name}-main", repository_id=repo.node_id, pattern="main", enforce_admins=True,
                            allows_force_pushes=False,
                            required_pull_request_reviews=[{"required_approving_review_count": 1}],
                            required_status_checks=[{"strict": True, "contexts": ["tests", "policy-preview"]}])

team = github.Team("payments", name="payments")
billing = github.Repository("billing", name=team.slug.apply(lambda s: f"{s}-billing"), allow_auto_merge=False,
                            visibility="private")
protect(billing, "billing")
github.Repository("playground", name="playground", allow_auto_merge=True, visibility="private")
