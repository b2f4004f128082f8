# A compliant service placed in a namespace it creates: reading ns.metadata.name must stay known.
# expect: exit 0
import pulumi
import pulumi_kubernetes as k8s
from _common import deployment_spec, meta

ns = k8s.core.v1.Namespace("apps", metadata={k: v for k, v in meta("apps").items() if k != "namespace"})
dep_meta = meta("web")
dep_meta["namespace"] = ns.metadata.name
k8s.apps.v1.Deployment("web", metadata=dep_meta, spec=deployment_spec("web"))
k8s.core.v1.Service("web", metadata={**meta("web"), "namespace": ns.metadata.apply(lambda m: m.name)},
                    spec={"selector": {"app.kubernetes.io/name": "web"}, "ports": [{"port": 80, "targetPort": 8080}]})
pulumi.export("namespace", ns.metadata.name)
