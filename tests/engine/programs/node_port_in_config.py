# A NodePort the program leaves out is allocated by the server: f-strings over it are unknown.
# expect: exit 3
# expect: not-checked no-plaintext-secrets
import pulumi
import pulumi_kubernetes as k8s
from _common import meta

svc = k8s.core.v1.Service("np", metadata=meta("np"), spec={"type": "NodePort", "selector": {"app.kubernetes.io/name": "np"},
                                                         "ports": [{"port": 80}]})
k8s.core.v1.ConfigMap("np-url", metadata=meta("np-url"),
                      data={"url": pulumi.Output.concat("http://node:", svc.spec.ports[0].node_port.apply(str))})
