# A Helm v3 Release is installed as one object by the provider: its chart is not expanded offline.
# expect: exit 3
# expect: unexpanded kubernetes:helm.sh/v3:Release
import pulumi_kubernetes as k8s

k8s.helm.v3.Release("ingress", chart="ingress-nginx", version="4.11.3", namespace="ingress",
                    repository_opts={"repo": "https://kubernetes.github.io/ingress-nginx"})
