# metadata.uid is assigned by the API server: a ConfigMap carrying it cannot be judged offline.
# expect: exit 3
# expect: not-checked no-plaintext-secrets
import pulumi_kubernetes as k8s
from _common import meta

owner = k8s.core.v1.ConfigMap("owner", metadata=meta("owner"), data={"mode": "primary"})
k8s.core.v1.ConfigMap("ref", metadata=meta("ref"), data={
    "owner-uid": owner.metadata.uid,
    "owner": owner.metadata.apply(lambda m: f"{m.namespace}/{m.name}@{m.resource_version}"),
})
