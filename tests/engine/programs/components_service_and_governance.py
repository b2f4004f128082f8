# The project's own components: a StatelessService and a governed repository are compliant by
# construction; a hand-written repository beside them with auto-merge on still fails. The service
# declares a flow to NATS pods that are not in this program: the whole-system rule cannot evaluate the
# flow at the far end, and lists it as not checked with the reason (never a violation; a stack that holds
# its bus judges it).
# expect: exit 1
# expect: not-checked system-flows-admitted
# expect: violation github-repository-governed github:index/repository:Repository scratch
import pulumi_github as github

from components.config import EnvVar
from components.governance import RepositoryGovernance, RepositoryGovernanceArgs
from components.network import Destination, Peer
from components.provenance import Provenance
from components.service import StatelessService, StatelessServiceArgs
from components.types import Probe, Resources

prov = Provenance("shop", "0123456789abcdef0123456789abcdef01234567", "probe/dev")
StatelessService("api", StatelessServiceArgs(**{
    "provenance": prov, "namespace": "apps", "image": "ghcr.io/cdb/api:1.4.2", "port": 8080,
    "resources": Resources(cpu_request="250m", memory_request="256Mi", cpu_limit="1", memory_limit="512Mi"),
    "liveness": Probe.http_get("/healthz", 8080), "readiness": Probe.http_get("/ready", "http"),
    "env": (EnvVar.literal("LOG_LEVEL", "info"), EnvVar.literal("MAX_CONNECTIONS", "200")),
    "ingress_from": (Peer(namespace="gateway", pod_labels={"app.kubernetes.io/name": "gateway"}),),
    "egress_to": (Destination(namespace="bus", pod_labels={"app.kubernetes.io/name": "nats"}, ports=(4222,)),),
}))
RepositoryGovernance("infra", RepositoryGovernanceArgs(repository="cdb-infra"))
github.Repository("scratch", name="scratch", allow_auto_merge=True, visibility="private")
