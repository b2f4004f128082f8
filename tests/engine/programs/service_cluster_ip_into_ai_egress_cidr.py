# An AI workload's egress NetworkPolicy built from a Service's cluster IP: only the cluster assigns it,
# so the CIDR is unknown and the AI network rule cannot judge that policy (it used to read "None/32").
# expect: exit 3
# expect: not-checked ai-no-vault-network-path
import pulumi_kubernetes as k8s
from _common import deployment_spec, meta

vault_svc = k8s.core.v1.Service("vault", metadata=meta("vault", "vault", "vault"),
                                spec={"selector": {"app.kubernetes.io/name": "vault"}, "ports": [{"port": 8200}]})
k8s.apps.v1.Deployment("llm", metadata=meta("llm", "ai"), spec=deployment_spec("llm", "ai"))
k8s.networking.v1.NetworkPolicy("llm-egress", metadata=meta("llm-egress", "ai"), spec={
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "llm"}},
    "policyTypes": ["Egress"],
    "egress": [{"to": [{"ipBlock": {"cidr": vault_svc.spec.cluster_ip.apply(lambda ip: f"{ip}/32")}}]}],
})
