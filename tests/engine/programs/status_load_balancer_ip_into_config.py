# status is the server's: an address read from it is unknown, the ConfigMap built from it not checked.
# expect: exit 3
# expect: not-checked no-plaintext-secrets
import pulumi_kubernetes as k8s
from _common import meta

svc = k8s.core.v1.Service("edge", metadata=meta("edge"), spec={"type": "ClusterIP", "selector": {"app.kubernetes.io/name": "edge"},
                                                             "ports": [{"port": 443}]})
k8s.core.v1.ConfigMap("edge-address", metadata=meta("edge-address"),
                      data={"url": svc.status.apply(lambda s: f"https://{s.load_balancer.ingress[0].ip}" if s else "none")})
