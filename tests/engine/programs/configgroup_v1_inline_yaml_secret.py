# yaml.ConfigGroup (v1) with inline YAML: a Secret with literal data inside a List is still a Secret.
# expect: exit 1
# expect: violation k8s-no-literal-secret-data kubernetes:core/v1:Secret apps/db-credentials
import pathlib
import pulumi_kubernetes as k8s

k8s.yaml.ConfigGroup("inline", yaml=[pathlib.Path("manifests/secret-literal.yaml").read_text()])
