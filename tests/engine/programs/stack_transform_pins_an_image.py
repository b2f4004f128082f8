# A stack transform (pulumi.runtime.register_resource_transform) rewrites every resource registered
# after it, as the engine runs it: the Deployment written with `latest` is pinned before the pack sees
# it, so the image rule does not fire. Offline the same transform runs on each registration.
# expect: exit 0
# expect: objects 1
import pulumi
import pulumi_kubernetes as k8s
from _common import container, deployment_spec, meta


def pin(args: pulumi.ResourceTransformArgs):
    if args.type_ != "kubernetes:apps/v1:Deployment":
        return None
    props = dict(args.props)
    spec = props["spec"]["template"]["spec"]
    spec["containers"] = [{**c, "image": c["image"].replace(":latest", "@sha256:" + "5" * 64)}
                          for c in spec["containers"]]
    return pulumi.ResourceTransformResult(props, args.opts)


pulumi.runtime.register_resource_transform(pin)
k8s.apps.v1.Deployment("web", metadata=meta("web"),
                       spec=deployment_spec("web", "service", container(image="registry.example/web:latest")))
