# Typed argument classes instead of dicts: the same privileged container fails the same way.
# expect: exit 1
# expect: violation k8s-pss-no-privilege kubernetes:apps/v1:Deployment typed
import pulumi_kubernetes as k8s
from _common import container, deployment_spec, meta

c = container("typed")
c["securityContext"] = {**c["securityContext"], "privileged": True}
spec = deployment_spec("typed", "service", c)
k8s.apps.v1.Deployment(
    "typed",
    metadata=k8s.meta.v1.ObjectMetaArgs(**{"name": "typed", "namespace": "apps", "labels": meta("typed")["labels"],
                                           "annotations": meta("typed")["annotations"]}),
    spec=k8s.apps.v1.DeploymentSpecArgs(
        replicas=2, selector=k8s.meta.v1.LabelSelectorArgs(match_labels=spec["selector"]["matchLabels"]),
        template=k8s.core.v1.PodTemplateSpecArgs(
            metadata=k8s.meta.v1.ObjectMetaArgs(labels=spec["template"]["metadata"]["labels"]),
            spec=k8s.core.v1.PodSpecArgs(
                automount_service_account_token=False,
                security_context=k8s.core.v1.PodSecurityContextArgs(run_as_non_root=True, run_as_user=10001,
                                                                    seccomp_profile={"type": "RuntimeDefault"}),
                containers=[k8s.core.v1.ContainerArgs(
                    name="typed", image=c["image"], ports=[{"container_port": 8080}],
                    liveness_probe={"http_get": {"path": "/healthz", "port": 8080}},
                    readiness_probe={"http_get": {"path": "/ready", "port": 8080}},
                    resources={"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
                    security_context=k8s.core.v1.SecurityContextArgs(
                        privileged=True, allow_privilege_escalation=False, read_only_root_filesystem=True,
                        run_as_non_root=True, capabilities={"drop": ["ALL"]}),
                )],
            ),
        ),
    ),
)
