# A label built from the owner's metadata.uid (an ownership marker): the provenance rule reads that
# label, the uid only exists once the API server created the owner, so the child is not checked.
# expect: exit 3
# expect: not-checked k8s-provenance-metadata
import pulumi_kubernetes as k8s
from _common import meta

owner = k8s.core.v1.ConfigMap("owner", metadata=meta("owner"), data={"mode": "primary"})
child = meta("child")
child["labels"] = {**child["labels"], "app.kubernetes.io/component": owner.metadata.uid.apply(lambda uid: f"owned-{uid}")}
k8s.core.v1.ConfigMap("child", metadata=child, data={"mode": "replica"})
