# A compliant service placed in a namespace it creates: reading ns.metadata.name must stay known (the
# Deployment is judged in full). The Service's namespace comes from an apply over the whole metadata,
# which holds server-filled fields and so is unknown at preview: the whole-system rules that must know
# which namespace the Service is in list it as not checked, and the verdict is incomplete.
# expect: exit 3
# expect: not-checked system-flows-admitted
# expect: not-checked system-references-resolve
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
