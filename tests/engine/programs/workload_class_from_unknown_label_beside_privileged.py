# Resource rules judge each resource alone: one workload whose labels hold an unknown value does not
# hide a privileged one next to it.
# expect: exit 1
# expect: violation k8s-pss-no-privilege kubernetes:apps/v1:Deployment root
import pulumi_kubernetes as k8s
from _common import container, deployment_spec, meta

svc = k8s.core.v1.Service("api", metadata=meta("api"), spec={"selector": {"app.kubernetes.io/name": "api"}, "ports": [{"port": 80}]})
spec = deployment_spec("api")
spec["template"]["metadata"]["labels"]["api-ip"] = svc.spec.cluster_ip
k8s.apps.v1.Deployment("api", metadata=meta("api"), spec=spec)
bad = container("root")
bad["securityContext"] = {**bad["securityContext"], "privileged": True}
k8s.apps.v1.Deployment("root", metadata=meta("root"), spec=deployment_spec("root", "service", bad))
