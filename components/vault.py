"""VaultServer: HA OpenBao (or HashiCorp Vault) with integrated Raft storage, platform state `secret-store`.

It runs alone in its own zone; ingress is an allow-list (the secret operator, the Raft peers, named
configuration and metrics clients), and the server itself reaches only its peers, the Kubernetes API (to
review the clients' tokens) and the cluster DNS.

Starting without hand work: members join through `retry_join`; with a static seal (OpenBao only) each
member unseals itself from a key that the documented key ceremony puts into a Kubernetes Secret, mounted
into these pods only. Initialising once stays the ceremony's job (docs/openbao-runbook.md). Pulumi does
not await the StatefulSet (`pulumi.com/skipAwait`): before the ceremony no member can be Ready, and an
awaiting `pulumi up` would hang; readiness (unsealed) is what `cdb vault check` and the Service rely on.
"""

import hashlib
import ipaddress
from typing import Any, Literal

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
from components.vault_config import AUDIT_DESCRIPTION
from components.base import Component, require_args

VAULT_SERVER_TYPE = "cdb:index:VaultServer"
ROLE = "secret-store"
API_PORT = 8200
CLUSTER_PORT = 8201
UNSEAL_DIR = "/vault/unseal"
# pulumi-kubernetes skips its readiness await for objects carrying this annotation set to "true".
SKIP_AWAIT = "pulumi.com/skipAwait"
# /v1/sys/health answers 200 active, 429 unsealed standby, 501 uninitialised, 503 sealed. standbyok turns
# 429 into 200 so standbys serve (they forward to the active node): Ready means unsealed. Liveness treats
# sealed/uninitialised as alive (204): a restart cannot unseal, and the ceremony needs the pod running.
READY_PATH = "/v1/sys/health?standbyok=true&perfstandbyok=true"
LIVE_PATH = "/v1/sys/health?standbyok=true&perfstandbyok=true&sealedcode=204&uninitcode=204"
CONFIG_HASH = "cdb-infra.io/config-hash"
ENGINES = {"openbao": ("bao", "BAO"), "vault": ("vault", "VAULT")}  # engine -> (binary, env prefix)
KEY_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"


class StaticSeal(Intent):
    """OpenBao's static seal: a 32-byte key read from a file; the key ceremony creates the Secret."""

    secret: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=253,
                        description="Secret in the vault zone with one 32-byte file per key id (never in code)")
    key_id: str = Field(pattern=KEY_ID, description="Id of the current key (its file name in the Secret)")
    previous_key_id: str | None = Field(default=None, pattern=KEY_ID,
                                        description="Id of the key being rotated out, during a rotation only")

    @model_validator(mode="after")
    def _distinct(self) -> "StaticSeal":
        if self.previous_key_id == self.key_id:
            raise ValueError("previous_key_id equals key_id; a rotation needs a new key id")
        return self

    def stanza(self) -> str:
        previous = (f'  previous_key_id = "{self.previous_key_id}"\n'
                    f'  previous_key    = "file://{UNSEAL_DIR}/{self.previous_key_id}"\n' if self.previous_key_id else "")
        return (f'seal "static" {{\n  current_key_id  = "{self.key_id}"\n'
                f'  current_key     = "file://{UNSEAL_DIR}/{self.key_id}"\n{previous}}}\n')


class VaultServerArgs(Intent):
    provenance: Provenance = Field(description="Ownership and origin labels/annotations of every object")
    namespace: str = Field(description="The vault zone's namespace (nothing else runs there)")
    image: Image = Field(description="Pinned OpenBao or Vault image, e.g. 'quay.io/openbao/openbao:2.7.2'")
    engine: Literal["openbao", "vault"] = Field(default="openbao", description="OpenBao (MPL-2.0) or HashiCorp Vault (BSL)")
    replicas: int = Field(default=3, ge=1, description="Raft members; 3 or 5 outside dev, 1 in dev")
    resources: Resources = Field(description="Requests and limits of the server container")
    data: Volume = Field(description="Raft storage claim (mounted at /vault/data)")
    audit: Volume = Field(description="Audit device claim (mounted at /vault/audit)")
    tls_secret: str | None = Field(default=None, description="kubernetes.io/tls Secret (cert-manager) to serve HTTPS")
    audit_file: str | None = Field(default=None, description="Declare a file audit device writing here in the "
                                   "server config (OpenBao: devices cannot be enabled over the API)")
    static_seal: StaticSeal | None = Field(default=None, description="Auto-unseal key (OpenBao); None: unseal by hand")
    ingress_from: tuple[Peer, ...] = Field(min_length=1, description="The only pods that may call the API (allow-list)")
    config_from_cidrs: tuple[str, ...] = Field(default=(), description="Networks the configuration applier calls the API from")
    metrics_from: tuple[Peer, ...] = Field(default=(), description="Scrapers of /v1/sys/metrics on the API port")
    kubernetes_api: tuple[Destination, ...] = Field(min_length=1, description="API server address(es) for TokenReview")

    @model_validator(mode="after")
    def _quorum(self) -> "VaultServerArgs":
        if self.replicas > 1 and self.replicas % 2 == 0:
            raise ValueError(f"replicas {self.replicas} is even; Raft needs an odd member count (1, 3 or 5)")
        if self.data.mount_path != "/vault/data" or self.audit.mount_path != "/vault/audit":
            raise ValueError("data must mount at /vault/data and audit at /vault/audit (the config names them)")
        if self.audit_file and not self.audit_file.startswith("/vault/audit/"):
            raise ValueError(f"audit_file {self.audit_file!r} is not on the audit volume; put it under /vault/audit/")
        if self.static_seal and self.engine != "openbao":
            raise ValueError("static_seal is an OpenBao seal; HashiCorp Vault has none: use engine 'openbao' "
                             "or unseal by hand (static_seal None)")
        for cidr in self.config_from_cidrs:
            try:
                network = ipaddress.ip_network(cidr, strict=True)
            except ValueError:
                raise ValueError(f"config_from_cidrs: {cidr!r} is not a network address; write e.g. '10.20.0.0/24'") from None
            if network.prefixlen == 0:
                raise ValueError(f"config_from_cidrs: {cidr!r} admits every address into the vault zone; "
                                 "name the network the configuration is applied from")
        return self

    @property
    def binary(self) -> str:
        return ENGINES[self.engine][0]

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
    # OpenBao 2.7 dropped mlock (it warns on the field); Vault with Raft storage needs it disabled.
    return (
        "ui = false\n" + ("disable_mlock = true\n" if args.engine == "vault" else "")
        + f'listener "tcp" {{\n  address = "[::]:{API_PORT}"\n  cluster_address = "[::]:{CLUSTER_PORT}"\n{tls}'
        + "  telemetry {\n    unauthenticated_metrics_access = true\n  }\n}\n"
        + f'storage "raft" {{\n  path = "/vault/data"\n{joins}}}\n'
        + 'telemetry {\n  prometheus_retention_time = "30s"\n  disable_hostname = true\n}\n'
        + (args.static_seal.stanza() if args.static_seal else "")
        + (f'audit "file" "file" {{\n  description = "{AUDIT_DESCRIPTION}"\n'
           f'  options {{\n    file_path = "{args.audit_file}"\n  }}\n}}\n' if args.audit_file else "")
    )


def config_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _env(args: VaultServerArgs, name: str) -> list[dict[str, Any]]:
    # OpenBao reads only BAO_* variables (VAULT_API_ADDR would be ignored silently).
    p = ENGINES[args.engine][1]
    env = [
        platform.field_env("POD_IP", "status.podIP"),
        platform.field_env("HOSTNAME", "metadata.name"),
        {"name": f"{p}_ADDR", "value": f"{args.scheme}://127.0.0.1:{API_PORT}"},
        {"name": f"{p}_API_ADDR", "value": f"{args.scheme}://$(POD_IP):{API_PORT}"},
        {"name": f"{p}_CLUSTER_ADDR", "value": f"https://$(HOSTNAME).{name}-internal:{CLUSTER_PORT}"},
        {"name": f"{p}_RAFT_NODE_ID", "value": "$(HOSTNAME)"},
        {"name": "HOME", "value": "/home/vault"},
    ]
    if args.tls_secret:
        env.append({"name": f"{p}_CACERT", "value": "/vault/tls/ca.crt"})
    return env


class VaultServer(Component):
    """ServiceAccount (+ TokenReview delegation), config, Services, StatefulSet, PDB and NetworkPolicy."""

    TYPE = VAULT_SERVER_TYPE

    def __init__(self, name: str, args: VaultServerArgs, opts: pulumi.ResourceOptions | None = None):
        args = require_args(VaultServerArgs, args, owner=f"VaultServer {name!r}")
        super().__init__(name, args.to_plain(), opts)
        ns, prov = args.namespace, args.provenance
        labels = platform.state_labels(prov, name, name, ROLE)
        state_annotations = platform.state_annotations(prov, ROLE)
        selector = {conventions.LABEL_NAME: name, conventions.LABEL_INSTANCE: name}
        def meta(object_name: str, namespace: str | None = ns) -> dict[str, Any]:
            return metadata(object_name, namespace, labels, prov.annotations())


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

        volumes: list[dict[str, Any]] = []
        mounts: list[dict[str, Any]] = [{"name": args.data.name, "mountPath": "/vault/data"},
                               {"name": args.audit.name, "mountPath": "/vault/audit"}]
        for vol, mount in (platform.config_volume("config", f"{name}-config", "/vault/config"),
                           platform.scratch("home", "/home/vault"), platform.scratch("tmp", "/tmp")):
            volumes.append(vol)
            mounts.append(mount)
        if args.tls_secret:
            volumes.append({"name": "tls", "secret": {"secretName": args.tls_secret, "defaultMode": defaults.SECRET_FILE_MODE}})
            mounts.append({"name": "tls", "mountPath": "/vault/tls", "readOnly": True})
        if args.static_seal:
            # Only the server pods mount the unseal key; without the Secret they do not start.
            volumes.append({"name": "unseal", "secret": {"secretName": args.static_seal.secret,
                                                         "defaultMode": defaults.SECRET_FILE_MODE}})
            mounts.append({"name": "unseal", "mountPath": UNSEAL_DIR, "readOnly": True})
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
            name, metadata=metadata(name, ns, labels, {**state_annotations, SKIP_AWAIT: "true"}),
            spec={
                "replicas": args.replicas,
                "serviceName": f"{name}-internal",
                "podManagementPolicy": "Parallel",
                # Rolling, one member at a time (the PDB keeps quorum): an auto-unsealed member rejoins by
                # itself. OnDelete would leave every update pending until someone deletes pods.
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                "selector": {"matchLabels": dict(selector)},
                # The config's hash on the template: a changed config (a key rotation) rolls the members.
                # Kubernetes auth reviews client tokens at the API server (the pack's connectivity rule checks it).
                "template": {"metadata": {"labels": dict(labels), "annotations": {
                    CONFIG_HASH: config_hash(server_config(args, name)),
                    **conventions.flows_annotation([{"apiServer": True, "purpose": "review Kubernetes-auth tokens"}])}},
                    "spec": pod},
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
    """Ingress: the allow-list, the configuration applier's networks and the scrapers on the API port, the
    Raft peers on both ports. Egress: peers (join, forwarding), API server (TokenReview), DNS."""
    peers = {"podSelector": {"matchLabels": dict(selector)}}
    api = [{"protocol": "TCP", "port": API_PORT}]
    both = [*api, {"protocol": "TCP", "port": CLUSTER_PORT}]
    clients = [p.to_k8s() for p in args.ingress_from] + [{"ipBlock": {"cidr": c}} for c in args.config_from_cidrs]
    ingress = [{"from": clients, "ports": api}, {"from": [peers], "ports": both}]
    if args.metrics_from:
        ingress.append({"from": [p.to_k8s() for p in args.metrics_from], "ports": api})
    return {
        "podSelector": {"matchLabels": dict(selector)},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": ingress,
        "egress": [{"to": [peers], "ports": both}, *(d.to_k8s() for d in args.kubernetes_api), defaults.dns_egress_rule()],
    }
