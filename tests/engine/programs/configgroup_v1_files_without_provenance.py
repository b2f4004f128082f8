# yaml.ConfigGroup (v1) over files: an object without provenance fails; the group and its ConfigFiles don't.
# expect: exit 1
# expect: violation k8s-provenance-metadata kubernetes:core/v1:ConfigMap apps/bare
import pulumi_kubernetes as k8s

k8s.yaml.ConfigGroup("mixed", files=["manifests/good-app.yaml", "manifests/no-provenance.yaml"])
