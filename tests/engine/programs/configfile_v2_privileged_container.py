# yaml/v2 ConfigFile is a remote component: offline it is expanded as the provider expands it, children
# named "<component>:<namespace>/<name>"; the privileged container fails the preview.
# expect: exit 1
# expect: violation k8s-pss-no-privilege kubernetes:apps/v1:Deployment legacy:apps/legacy
import pulumi_kubernetes as k8s

k8s.yaml.v2.ConfigFile("legacy", file="manifests/legacy-app.yaml")
