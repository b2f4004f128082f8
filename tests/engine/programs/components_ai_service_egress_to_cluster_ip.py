# An AI service built with the project's component, its egress allowed to a CIDR computed from a
# Service's cluster IP: the component is fine, the NetworkPolicy's network cannot be known offline.
# expect: exit 3
# expect: not-checked ai-no-vault-network-path
import pulumi
import pulumi_kubernetes as k8s

from components.provenance import Provenance
from components.service import StatelessService, StatelessServiceArgs
from components.types import Probe, Resources

prov = Provenance("shop", "0123456789abcdef0123456789abcdef01234567", "probe/dev")
proxy = k8s.core.v1.Service("proxy", metadata={"name": "proxy", "namespace": "edge", "labels": prov.labels(name="proxy", instance="proxy", component="proxy"),
                                               "annotations": prov.annotations()},
                            spec={"selector": {"app.kubernetes.io/name": "proxy"}, "ports": [{"port": 3128}]})
StatelessService("llm", StatelessServiceArgs(**{
    "provenance": prov, "namespace": "ai", "image": "ghcr.io/cdb/llm:0.9.0", "port": 8080, "workload_class": "ai",
    "resources": Resources(cpu_request="1", memory_request="2Gi", cpu_limit="2", memory_limit="4Gi"),
    "liveness": Probe.http_get("/healthz", 8080), "readiness": Probe.http_get("/ready", "http"),
}))
k8s.networking.v1.NetworkPolicy("llm-to-proxy", metadata={"name": "llm-to-proxy", "namespace": "ai",
                                                          "labels": prov.labels(name="llm", instance="llm", component="service"),
                                                          "annotations": prov.annotations()}, spec={
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "llm"}}, "policyTypes": ["Egress"],
    "egress": [{"to": [{"ipBlock": {"cidr": proxy.spec.cluster_ip.apply(lambda ip: f"{ip}/32")}}],
                "ports": [{"port": 3128}]}]})
