# A Helm v3 Chart expands in the program through `helm template`, which needs the chart: offline it has
# no children, so it is listed as not expanded (and the component is never judged as an object).
# expect: exit 3
# expect: unexpanded kubernetes:helm.sh/v3:Chart
import pulumi_kubernetes as k8s

k8s.helm.v3.Chart("redis", k8s.helm.v3.ChartOpts(chart="redis", version="19.6.4", namespace="cache",
                  fetch_opts=k8s.helm.v3.FetchOpts(repo="https://charts.bitnami.com/bitnami")))
