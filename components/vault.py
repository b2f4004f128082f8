"""VaultServer: HA Vault (or OpenBao) with integrated Raft storage, declared platform state `secret-store`.

It runs alone in its own zone; ingress is an allow-list (the secret operator and named peers only),
the Raft peers talk to each other, and Vault itself reaches only the Kubernetes API (to review the
clients' tokens) and the cluster DNS. Init and unseal stay an operator task unless a `seal` stanza is
given (auto-unseal); the probes keep sealed pods out of the Service without restarting them.
"""

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, model_validator

from components import conventions, defaults, platform
from components.intent import Intent
from components.kube import child_opts, metadata
from components.network import Destination, Peer
from components.platform import Volume
from components.provenance import Provenance
from components.types import Image, Probe, Resources

VAULT_SERVER_TYPE = "cdb:index:VaultServer"
ROLE = "secret-store"
API_PORT = 8200
CLUSTER_PORT = 8201
# Vault answers 429 on an unsealed standby; standbyok turns that into 200 so standbys serve (they
# forward to the active node). Liveness treats sealed/uninitialised as alive: a restart cannot unseal.
READY_PATH = "/v1/sys/health?standbyok=true&perfstandbyok=true"
LIVE_PATH = "/v1/sys/health?standbyok=true&perfstandbyok=true&sealedcode=204&uninitcode=204"


class VaultServerArgs(Intent):
    provenance: Provenance = Field(description="Ownership and origin labels/annotations of every object")
    namespace: str = Field(description="The vault zone's namespace (nothing else runs there)")
    image: Image = Field(description="Pinned Vault or OpenBao image, e.g. 'hashicorp/vault:2.0.4'")
    binary: str = Field(default="vault", pattern=r"^(vault|bao)$", description="'vault', or 'bao' for OpenBao images")
    replicas: int = Field(default=3, ge=1, description="Raft members; 3 or 5 outside dev, 1 in dev")
    resources: Resources = Field(description="Requests and limits of the server container")
    data: Volume = Field(description="Raft storage claim (mounted at /vault/data)")
    audit: Volume = Field(description="Audit device claim (mounted at /vault/audit)")
    tls_secret: str | None = Field(default=None, description="kubernetes.io/tls Secret (cert-manager) to serve HTTPS")
    seal: str | None = Field(default=None, description="HCL seal stanza for auto-unseal, e.g. a transit seal")
    ingress_from: tuple[Peer, ...] = Field(min_length=1, description="The only pods that may call the API (allow-list)")
    kubernetes_api: tuple[Destination, ...] = Field(min_length=1, description="API server address(es) for TokenReview")

    @model_validator(mode="after")
    def _quorum(self) -> "VaultServerArgs":
        if self.replicas > 1 and self.replicas % 2 == 0:
            raise ValueError(f"replicas {self.replicas} is even; Raft needs an odd member count (1, 3 or 5)")
        if self.data.mount_path != "/vault/data" or self.audit.mount_path != "/vault/audit":
            raise ValueError("data must mount at /vault/data and audit at /vault/audit (the config names them)")
        return self

    @property
    def scheme(self) -> str:
        return "https" if self.tls_secret else "http"


def server_config(args: VaultServerArgs, name: str) -> str:
    """The server's HCL: TCP listener, Raft storage joining every member, Prometheus telemetry."""
    tls = ('  tls_cert_file = "/vault/tls/tls.crt"\n  tls_key_file  = "/vault/tls/tls.key"\n'
           if args.tls_secret else "  tls_disable   = 1\n")
    joins = "".join(
        f'  retry_join {{\n    leader_api_addr = "{args.scheme}://{name}-{i}.{name}-internal.{args.namespace}'
        f'.svc.cluster.local:{API_PORT}"\n' + ('    leader_ca_cert_file = "/vault/tls/ca.crt"\n' if args.tls_secret else "")
        + "  }\n"
        for i in range(args.replicas)
    )
    return (
        "ui = false\ndisable_mlock = true\n"
        f'listener "tcp" {{\n  address = "[::]:{API_PORT}"\n  cluster_address = "[::]:{CLUSTER_PORT}"\n{tls}'
        "  telemetry {\n    unauthenticated_metrics_access = true\n  }\n}\n"
        f'storage "raft" {{\n  path = "/vault/data"\n{joins}}}\n'
        'telemetry {\n  prometheus_retention_time = "30s"\n  disable_hostname = true\n}\n'
        + (f"{args.seal.strip()}\n" if args.seal else "")
    )


def _env(args: VaultServerArgs, name: str) -> list[dict[str, Any]]:
    env = [
        platform.field_env("POD_IP", "status.podIP"),
        platform.field_env("HOSTNAME", "metadata.name"),
        {"name": "VAULT_ADDR", "value": f"{args.scheme}://127.0.0.1:{API_PORT}"},
        {"name": "VAULT_API_ADDR", "value": f"{args.scheme}://$(POD_IP):{API_PORT}"},
        {"name": "VAULT_CLUSTER_ADDR", "value": f"https://$(HOSTNAME).{name}-internal:{CLUSTER_PORT}"},
        {"name": "VAULT_RAFT_NODE_ID", "value": "$(HOSTNAME)"},
        {"name": "SKIP_SETCAP", "value": "true"},
        {"name": "SKIP_CHOWN", "value": "true"},
        {"name": "HOME", "value": "/home/vault"},
    ]
    if args.tls_secret:
        env.append({"name": "VAULT_CACERT", "value": "/vault/tls/ca.crt"})
    return env


class VaultServer(pulumi.ComponentResource):
    """ServiceAccount (+ TokenReview delegation), config, Services, StatefulSet, PDB and NetworkPolicy."""

    def __init__(self, name: str, args: VaultServerArgs | dict[str, Any], opts: pulumi.ResourceOptions | None = None):
        args = VaultServerArgs.parse(args, owner=f"VaultServer {name!r}")
        super().__init__(VAULT_SERVER_TYPE, name, args.to_plain(), opts)
        ns, prov = args.namespace, args.provenance
        labels = platform.state_labels(prov, name, name, ROLE)
        state_annotations = platform.state_annotations(prov, ROLE)
        selector = {conventions.LABEL_NAME: name, conventions.LABEL_INSTANCE: name}
        meta = lambda object_name, namespace=ns: metadata(object_name, namespace, labels, prov.annotations())  # noqa: E731

        # Vault reviews client tokens with its own token, so it (and only it) mounts one.
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa", metadata=meta(name), automount_service_account_token=True, opts=child_opts(self))
        self.token_review = k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-auth-delegator", metadata=meta(f"{ns}-{name}-auth-delegator", None),
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:auth-delegator"},
            subjects=[{"kind": "ServiceAccount", "name": name, "namespace": ns}], opts=child_opts(self))
        self.config = k8s.core.v1.ConfigMap(
            f"{name}-config", metadata=meta(f"{name}-config"), data={"config.hcl": server_config(args, name)},
            opts=child_opts(self))
        ports = {"http": API_PORT, "https-internal": CLUSTER_PORT}
        self.service = k8s.core.v1.Service(
            f"{name}-svc", metadata=meta(name),
            spec={"type": "ClusterIP", "selector": dict(selector), "ports": platform.service_ports(ports)},
            opts=child_opts(self))
        self.headless = k8s.core.v1.Service(
            f"{name}-internal", metadata=meta(f"{name}-internal"),
            spec={"clusterIP": "None", "publishNotReadyAddresses": True, "selector": dict(selector),
                  "ports": platform.service_ports(ports)},
            opts=child_opts(self))

        volumes, mounts = [], [{"name": args.data.name, "mountPath": "/vault/data"},
                               {"name": args.audit.name, "mountPath": "/vault/audit"}]
        for vol, mount in (platform.config_volume("config", f"{name}-config", "/vault/config"),
                           platform.scratch("home", "/home/vault"), platform.scratch("tmp", "/tmp")):
            volumes.append(vol)
            mounts.append(mount)
        if args.tls_secret:
            volumes.append({"name": "tls", "secret": {"secretName": args.tls_secret, "defaultMode": defaults.SECRET_FILE_MODE}})
            mounts.append({"name": "tls", "mountPath": "/vault/tls", "readOnly": True})
        scheme = args.scheme.upper()
        server = platform.container(
            name, args.image.ref, ports, args.resources,
            liveness=Probe.http_get(LIVE_PATH, "http", scheme=scheme, initial_delay_seconds=60, period_seconds=5),
            readiness=Probe.http_get(READY_PATH, "http", scheme=scheme, period_seconds=5),
            command=[args.binary], args=["server", "-config=/vault/config/config.hcl"],
            env=_env(args, name), mounts=mounts,
        )
        pod = platform.pod_spec(name, [server], volumes, automount_token=True, grace_seconds=60,
                                affinity=platform.pod_anti_affinity(selector))
        # pulumi-kubernetes awaits a StatefulSet until every pod runs the new revision, which OnDelete
        # never does by itself (and a sealed member is never Ready): Pulumi must not wait on it.
        self.stateful_set = k8s.apps.v1.StatefulSet(
            name, metadata=metadata(name, ns, labels, {**state_annotations, "pulumi.com/skipAwait": "true"}),
            spec={
                "replicas": args.replicas,
                "serviceName": f"{name}-internal",
                "podManagementPolicy": "Parallel",
                # Each restarted member must be unsealed; OnDelete lets the operator roll one at a time.
                "updateStrategy": {"type": "OnDelete"},
                "selector": {"matchLabels": dict(selector)},
                # Kubernetes auth reviews client tokens at the API server (the pack's connectivity rule checks it).
                "template": {"metadata": {"labels": dict(labels), "annotations": conventions.flows_annotation(
                    [{"apiServer": True, "purpose": "review Kubernetes-auth tokens"}])}, "spec": pod},
                "volumeClaimTemplates": [v.claim_template(labels, prov.annotations()) for v in (args.data, args.audit)],
            },
            opts=child_opts(self, self.service_account, self.config, self.headless))
        self.pdb = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb", metadata=meta(name), spec=platform.quorum_pdb_spec(selector), opts=child_opts(self))
        self.network_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol", metadata=meta(name), spec=network_policy_spec(args, selector), opts=child_opts(self))
        self.address = f"{args.scheme}://{name}.{ns}.svc.cluster.local:{API_PORT}"
        self.register_outputs({"address": self.address, "namespace": ns})


def network_policy_spec(args: VaultServerArgs, selector: dict[str, str]) -> dict[str, Any]:
    """Ingress: the allow-list on the API port, the Raft peers on both ports. Egress: peers, API server, DNS."""
    peers = {"podSelector": {"matchLabels": dict(selector)}}
    both = [{"protocol": "TCP", "port": API_PORT}, {"protocol": "TCP", "port": CLUSTER_PORT}]
    return {
        "podSelector": {"matchLabels": dict(selector)},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {"from": [p.to_k8s() for p in args.ingress_from], "ports": [{"protocol": "TCP", "port": API_PORT}]},
            {"from": [peers], "ports": both},
        ],
        "egress": [{"to": [peers], "ports": both}, *(d.to_k8s() for d in args.kubernetes_api), defaults.dns_egress_rule()],
    }
