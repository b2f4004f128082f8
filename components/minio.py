"""ObjectStore: distributed S3-compatible storage (MinIO by default) as declared platform state `object-store`,
plus a WORM audit bucket created declaratively by a Job running the pinned `mc` client.

MinIO community images stopped in late 2025 (minio/minio is source-only), so the server image is always
given by the caller (a self-built or fork image, pinned) and the engine is a registry entry: the
command line, credential variables and health paths of an S3 server. Add an entry to `ENGINES` to run
another MinIO-compatible server; everything else (probes, claims, policies, the bucket Job) follows it.
Credentials come from a Secret the secret operator delivers (`credentials_secret`), never from code.
"""

from dataclasses import dataclass
import hashlib
import json
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, model_validator

from components import conventions, defaults, platform
from components.intent import Intent
from components.kube import child_opts, metadata
from components.network import Peer
from components.platform import Volume
from components.provenance import Provenance
from components.types import Image, Probe, Resources
from components.base import Component, require_args

OBJECT_STORE_TYPE = "cdb:index:ObjectStore"
ROLE = "object-store"
API_PORT = 9000
CONSOLE_PORT = 9001
USER_KEY = "rootUser"
PASSWORD_KEY = "rootPassword"


@dataclass(frozen=True)
class Engine:
    """How one S3 server is started and checked (sources: minio/minio cmd/healthcheck-router.go)."""

    name: str
    user_env: str
    password_env: str
    live_path: str
    ready_path: str
    metrics_path: str
    data_path: str = "/export"
    certs_path: str = "/etc/minio/certs"
    extra_env: tuple[tuple[str, str], ...] = ()

    def server_args(self, endpoints: list[str]) -> list[str]:
        return ["server", "--address", f":{API_PORT}", "--console-address", f":{CONSOLE_PORT}",
                "--certs-dir", self.certs_path, *endpoints]


ENGINES: dict[str, Engine] = {
    "minio": Engine(
        name="minio", user_env="MINIO_ROOT_USER", password_env="MINIO_ROOT_PASSWORD",
        live_path="/minio/health/live", ready_path="/minio/health/ready", metrics_path="/minio/v2/metrics/cluster",
        # Prometheus scrapes without a bearer token; the NetworkPolicy decides who may.
        extra_env=(("MINIO_PROMETHEUS_AUTH_TYPE", "public"),),
    ),
}


class AuditBucket(Intent):
    """The audit bucket: object lock in COMPLIANCE mode, versioning, a default retention (WORM)."""

    name: str = Field(default="audit", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", description="Bucket name")
    retention_days: int = Field(default=3650, ge=1, description="Default COMPLIANCE-mode retention of every object")


class ObjectStoreArgs(Intent):
    provenance: Provenance = Field(description="Ownership and origin labels/annotations of every object")
    namespace: str = Field(description="Namespace (a zone) the store runs in")
    engine: Literal["minio"] = Field(default="minio", description="Server engine (an entry of ENGINES)")
    image: Image = Field(description="Pinned server image (self-built or fork; no community images after 2025-10)")
    client_image: Image = Field(description="Pinned `mc` client image for the bucket Job")
    replicas: int = Field(default=4, ge=1, description="Servers; distributed erasure coding needs at least 4")
    resources: Resources = Field(description="Requests and limits of the server container")
    job_resources: Resources = Field(description="Requests and limits of the bucket Job's containers")
    data: Volume = Field(description="One data volume per server")
    credentials_secret: str = Field(description=f"Secret with keys {USER_KEY}/{PASSWORD_KEY}, delivered by the secret operator")
    tls_secret: str | None = Field(default=None, description="kubernetes.io/tls Secret to serve HTTPS (TLS-ready)")
    audit_bucket: AuditBucket = Field(default_factory=AuditBucket, description="The WORM audit bucket")
    ingress_from: tuple[Peer, ...] = Field(default=(), description="Clients allowed on the S3 port")

    @model_validator(mode="after")
    def _distributed(self) -> "ObjectStoreArgs":
        if 1 < self.replicas < 4:
            raise ValueError(f"replicas {self.replicas}: distributed mode needs at least 4 servers (or 1 in dev)")
        return self

    @property
    def scheme(self) -> str:
        return "https" if self.tls_secret else "http"


def endpoints(name: str, args: ObjectStoreArgs, engine: Engine) -> list[str]:
    """MinIO's expansion syntax names every server's volume, so each pod finds its peers."""
    if args.replicas == 1:
        return [engine.data_path]
    host = f"{name}-{{0...{args.replicas - 1}}}.{name}-hl.{args.namespace}.svc.cluster.local"
    return [f"{args.scheme}://{host}{engine.data_path}"]


def _secret_env(env_name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": env_name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def bucket_commands(bucket: AuditBucket, url: str) -> list[list[str]]:
    """The `mc` steps, in order: alias, bucket with object lock (versioning comes with it), versioning
    stated explicitly, default COMPLIANCE retention, then a read-back of the retention for the log."""
    target = f"store/{bucket.name}"
    return [
        ["alias", "set", "store", url, "$(ROOT_USER)", "$(ROOT_PASSWORD)"],
        ["mb", "--ignore-existing", "--with-lock", target],
        ["version", "enable", target],
        ["retention", "set", "--default", "COMPLIANCE", f"{bucket.retention_days}d", target],
        ["retention", "info", "--default", target],
    ]


# On a fresh cluster the Job starts before its Secret is synced from Vault and before the servers are
# up: a pod waiting for its Secret is not a failure, and failed `mc` steps back off exponentially up to
# six minutes, so 24 retries wait for the store for about two hours. No activeDeadlineSeconds: a
# deadline would fail the Job for good while it is only waiting. No ttlSecondsAfterFinished either:
# Flux would re-create a deleted Job from Git on its next reconcile and run it again every interval.
BUCKET_JOB_BACKOFF_LIMIT = 24


def bucket_job_name(base: str, args: ObjectStoreArgs, annotations: dict[str, str] | None = None) -> str:
    """A Job's pod template cannot be changed in place: the name carries a hash of what the Job does
    (and of its template's annotations), so a changed bucket, retention, client image or declared flow
    is a new Job (Flux prunes the old one, Pulumi replaces it) instead of an apply error on the
    immutable template."""
    what = [args.client_image.ref, args.audit_bucket.model_dump(mode="json"), args.credentials_secret,
            bucket_commands(args.audit_bucket, "")]
    if annotations:
        what.append(annotations)
    payload = json.dumps(what, sort_keys=True)
    return f"{base}-{hashlib.sha256(payload.encode()).hexdigest()[:8]}"


def bucket_job_spec(labels: dict[str, str], pod: dict[str, Any], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"labels": dict(labels)}
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"backoffLimit": BUCKET_JOB_BACKOFF_LIMIT, "template": {"metadata": meta, "spec": pod}}


class ObjectStore(Component):
    """ServiceAccount, Services, StatefulSet, PDB, NetworkPolicies and the audit-bucket Job."""

    TYPE = OBJECT_STORE_TYPE

    def __init__(self, name: str, args: ObjectStoreArgs, opts: pulumi.ResourceOptions | None = None):
        args = require_args(ObjectStoreArgs, args, owner=f"ObjectStore {name!r}")
        super().__init__(name, args.to_plain(), opts)
        engine, ns, prov = ENGINES[args.engine], args.namespace, args.provenance
        labels = platform.state_labels(prov, name, name, ROLE)
        selector = {conventions.LABEL_NAME: name, conventions.LABEL_INSTANCE: name}
        def meta(object_name: str) -> dict[str, Any]:
            return metadata(object_name, ns, labels, prov.annotations())

        ports = {"s3": API_PORT, "console": CONSOLE_PORT}

        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa", metadata=meta(name), automount_service_account_token=False, opts=child_opts(self))
        self.service = k8s.core.v1.Service(
            f"{name}-svc", metadata=meta(name),
            spec={"type": "ClusterIP", "selector": dict(selector), "ports": platform.service_ports(ports)},
            opts=child_opts(self))
        self.headless = k8s.core.v1.Service(
            f"{name}-hl", metadata=meta(f"{name}-hl"),
            spec={"clusterIP": "None", "publishNotReadyAddresses": True, "selector": dict(selector),
                  "ports": platform.service_ports(ports)},
            opts=child_opts(self))

        certs, certs_mount = platform.scratch("certs", engine.certs_path, "1Mi")
        if args.tls_secret:
            items = [{"key": "tls.crt", "path": "public.crt"}, {"key": "tls.key", "path": "private.key"},
                     {"key": "ca.crt", "path": "CAs/ca.crt"}]
            certs = {"name": "certs", "secret": {"secretName": args.tls_secret, "items": items, "defaultMode": 0o440}}
            certs_mount = {**certs_mount, "readOnly": True}
        tmp, tmp_mount = platform.scratch("tmp", "/tmp")
        env = [_secret_env(engine.user_env, args.credentials_secret, USER_KEY),
               _secret_env(engine.password_env, args.credentials_secret, PASSWORD_KEY),
               {"name": "HOME", "value": "/tmp"}, *({"name": k, "value": v} for k, v in engine.extra_env)]
        scheme = args.scheme.upper()
        server = platform.container(
            name, args.image.ref, ports, args.resources,
            liveness=Probe.http_get(engine.live_path, "s3", scheme=scheme, period_seconds=10, failure_threshold=3),
            readiness=Probe.http_get(engine.ready_path, "s3", scheme=scheme, period_seconds=5),
            startup=Probe.http_get(engine.live_path, "s3", scheme=scheme, period_seconds=5, failure_threshold=60),
            args=engine.server_args(endpoints(name, args, engine)), env=env,
            mounts=[{"name": args.data.name, "mountPath": engine.data_path}, certs_mount, tmp_mount],
        )
        self.stateful_set = k8s.apps.v1.StatefulSet(
            name, metadata=metadata(name, ns, labels, platform.state_annotations(prov, ROLE)),
            spec={
                "replicas": args.replicas,
                "serviceName": f"{name}-hl",
                "podManagementPolicy": "Parallel",  # every server must be up before any accepts writes
                "updateStrategy": {"type": "RollingUpdate"},
                "selector": {"matchLabels": dict(selector)},
                "template": {"metadata": {"labels": dict(labels), **peer_flows(selector, args.replicas)},
                             "spec": platform.pod_spec(name, [server], [certs, tmp],
                                                       affinity=platform.pod_anti_affinity(selector))},
                "volumeClaimTemplates": [args.data.claim_template(labels, prov.annotations())],
            },
            opts=child_opts(self, self.service_account, self.headless))
        self.pdb = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb", metadata=meta(name), spec=platform.quorum_pdb_spec(selector), opts=child_opts(self))

        job_name = f"{name}-audit-bucket"  # stable: labels, ServiceAccount, NetworkPolicy; the Job's own name is hashed
        job_selector = {conventions.LABEL_NAME: job_name, conventions.LABEL_INSTANCE: job_name}
        job_labels = prov.labels(name=job_name, instance=job_name, component="bucket-setup",
                                 workload_class=conventions.WORKLOAD_CLASS_SERVICE)
        self.network_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol", metadata=meta(name),
            spec=network_policy_spec(args, selector, job_selector), opts=child_opts(self))
        self.job_network_policy = k8s.networking.v1.NetworkPolicy(
            f"{job_name}-netpol", metadata=metadata(job_name, ns, job_labels, prov.annotations()),
            spec={"podSelector": {"matchLabels": job_selector}, "policyTypes": ["Ingress", "Egress"], "ingress": [],
                  "egress": [{"to": [{"podSelector": {"matchLabels": dict(selector)}}],
                              "ports": [{"protocol": "TCP", "port": API_PORT}]}, defaults.dns_egress_rule()]},
            opts=child_opts(self))
        # The Job's one flow: the S3 API behind the servers' Service (checked by the pack's connectivity rule).
        job_flows = conventions.flows_annotation([{"service": f"{ns}/{name}", "port": API_PORT,
                                                   "purpose": "create the audit bucket"}])
        self.bucket_job = self._bucket_job(job_name, args, job_labels, f"{args.scheme}://{name}.{ns}.svc:{API_PORT}",
                                           job_flows)
        self.endpoint = f"{args.scheme}://{name}.{ns}.svc.cluster.local:{API_PORT}"
        self.metrics_path = engine.metrics_path
        self.pod_labels = selector
        self.register_outputs({"endpoint": self.endpoint, "auditBucket": args.audit_bucket.name})

    def _bucket_job(self, job_name: str, args: ObjectStoreArgs, labels: dict[str, str], url: str,
                    flows: dict[str, str]) -> Any:
        env = [_secret_env("ROOT_USER", args.credentials_secret, USER_KEY),
               _secret_env("ROOT_PASSWORD", args.credentials_secret, PASSWORD_KEY)]
        config, config_mount = platform.scratch("mc-config", "/mc", "1Mi")
        steps = [platform.job_container(f"step-{i}", args.client_image.ref, args.job_resources,
                                        ["--config-dir", "/mc", *cmd], env, [config_mount])
                 for i, cmd in enumerate(bucket_commands(args.audit_bucket, url))]
        pod = platform.pod_spec(job_name, steps[-1:], [config], restartPolicy="OnFailure", initContainers=steps[:-1])
        sa = k8s.core.v1.ServiceAccount(
            f"{job_name}-sa", metadata=metadata(job_name, args.namespace, labels, args.provenance.annotations()),
            automount_service_account_token=False, opts=child_opts(self))
        return k8s.batch.v1.Job(
            job_name, metadata=metadata(bucket_job_name(job_name, args, flows), args.namespace, labels,
                                        args.provenance.annotations()),
            spec=bucket_job_spec(labels, pod, flows), opts=child_opts(self, sa, self.stateful_set))


def peer_flows(selector: dict[str, str], replicas: int) -> dict[str, Any]:
    """Distributed servers reach each other on the S3 port (erasure sets span them); one server needs nothing."""
    if replicas < 2:
        return {}
    return {"annotations": conventions.flows_annotation([{"pods": {"matchLabels": dict(selector)}, "port": API_PORT,
                                                          "purpose": "distributed servers"}])}


def network_policy_spec(args: ObjectStoreArgs, selector: dict[str, str], job: dict[str, str]) -> dict[str, Any]:
    """S3 port: the named clients, the bucket Job and the other servers; egress only to the servers and DNS."""
    peers = {"podSelector": {"matchLabels": dict(selector)}}
    s3 = [{"protocol": "TCP", "port": API_PORT}]
    sources = [*(p.to_k8s() for p in args.ingress_from), {"podSelector": {"matchLabels": dict(job)}}, peers]
    return {
        "podSelector": {"matchLabels": dict(selector)},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": sources, "ports": s3}],
        "egress": [{"to": [peers], "ports": s3}, defaults.dns_egress_rule()],
    }
