# A Helm v4 Chart is a remote component: not expanded offline.
# expect: exit 3
# expect: unexpanded kubernetes:helm.sh/v4:Chart
import pulumi_kubernetes as k8s

k8s.helm.v4.Chart("podinfo", chart="oci://ghcr.io/stefanprodan/charts/podinfo", version="6.7.1", namespace="apps")
