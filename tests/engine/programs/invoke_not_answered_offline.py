# A data source (an invoke) the offline engine cannot answer: what the program built from it was never
# seen as the engine would see it, so the verdict is incomplete.
# expect: exit 3
# expect: unanswered github:index/getRepository:getRepository
import pulumi_github as github
import pulumi_kubernetes as k8s
from _common import meta

repo = github.get_repository_output(full_name="example/app")
k8s.core.v1.ConfigMap("app-repo", metadata=meta("app-repo"), data={"repo": repo.apply(lambda r: str(r.html_url))})
