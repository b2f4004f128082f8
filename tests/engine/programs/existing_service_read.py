# A Service read from the cluster (`get`) is entirely the cluster's: what is built from it is unknown.
# expect: exit 3
# expect: not-checked no-plaintext-secrets
import pulumi_kubernetes as k8s
from _common import meta

existing = k8s.core.v1.Service.get("db", "data/postgres")
k8s.core.v1.ConfigMap("db-endpoint", metadata=meta("db-endpoint"),
                      data={"host": existing.spec.apply(lambda s: s.cluster_ip if s else "postgres.data")})
