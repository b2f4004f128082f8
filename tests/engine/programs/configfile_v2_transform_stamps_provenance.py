# A transform on a yaml/v2 ConfigFile stamps provenance on its children (the engine runs the parent's
# transforms on a remote component's children): no false alarm offline either.
# expect: exit 0
import pulumi
import pulumi_kubernetes as k8s

def stamp(args: pulumi.ResourceTransformArgs):
    if not args.type_.startswith("kubernetes:core/v1:"):
        return None
    props = dict(args.props)
    md = dict(props.get("metadata") or {})
    md["labels"] = {**(md.get("labels") or {}), "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/component": "vendored"}
    md["annotations"] = {**(md.get("annotations") or {}), "cdb-infra.io/git-revision": "0123456789abcdef0123456789abcdef01234567"}
    props["metadata"] = md
    return pulumi.ResourceTransformResult(props, args.opts)

k8s.yaml.v2.ConfigFile("vendored", file="manifests/no-provenance.yaml", opts=pulumi.ResourceOptions(transforms=[stamp]))
