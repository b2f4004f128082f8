# yaml/v2 ConfigGroup: a glob of files, literal YAML and objects; an explicit resource prefix.
# expect: exit 1
# expect: violation k8s-no-literal-secret-data kubernetes:core/v1:Secret platform:apps/db-credentials
# expect: violation k8s-provenance-metadata kubernetes:core/v1:ConfigMap platform:apps/bare
# expect: violation k8s-image-pinned kubernetes:core/v1:Pod platform:apps/debug
import pathlib
import pulumi_kubernetes as k8s
from _common import container, meta, pod_spec

k8s.yaml.v2.ConfigGroup(
    "group", files=["manifests/no-*.yaml", "manifests/good-app.yaml"], resource_prefix="platform",
    yaml=pathlib.Path("manifests/secret-literal.yaml").read_text(),
    objs=[{"apiVersion": "v1", "kind": "Pod", "metadata": meta("debug"),
           "spec": pod_spec(container("debug", image="busybox:latest"))}],
)
