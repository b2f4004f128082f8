# yaml/v2 ConfigFile from a URL: fetched only at deploy, so it stays unexpanded and the verdict is incomplete.
# expect: exit 3
# expect: unexpanded kubernetes:yaml/v2:ConfigFile
import pulumi_kubernetes as k8s

k8s.yaml.v2.ConfigFile("crds", file="https://example.invalid/releases/v1.2.3/crds.yaml")
