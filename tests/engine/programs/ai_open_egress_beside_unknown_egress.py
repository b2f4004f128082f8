# Two AI workloads in two namespaces: one's egress CIDR is built from a cluster IP (unknown), the
# other's egress is open to the world. The unknown one is not checked; the open one fails.
# expect: exit 1
# expect: violation ai-no-vault-network-path
# expect: not-checked ai-no-vault-network-path
import pulumi_kubernetes as k8s
from _common import deployment_spec, meta

proxy = k8s.core.v1.Service("proxy", metadata=meta("proxy", "edge", "proxy"),
                            spec={"selector": {"app.kubernetes.io/name": "proxy"}, "ports": [{"port": 3128}]})
for ns, cidr in (("ai-a", proxy.spec.cluster_ip.apply(lambda ip: f"{ip}/32")), ("ai-b", "0.0.0.0/0")):
    k8s.apps.v1.Deployment(f"llm-{ns}", metadata=meta("llm", ns), spec=deployment_spec("llm", "ai"))
    k8s.networking.v1.NetworkPolicy(f"llm-egress-{ns}", metadata=meta("llm-egress", ns), spec={
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "llm"}}, "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": cidr}}]}]})
