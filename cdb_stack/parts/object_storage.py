"""Part `objectStorage`: distributed S3-compatible storage with a WORM audit bucket, in its own zone.

The engine and its image are settings (MinIO community images stopped in late 2025: pin a self-built
or fork image; `engine` chooses the command line and health endpoints, see components.minio.ENGINES).
The root credentials are a Secret delivered by the Vault Secrets Operator from the store's own KV path;
the bucket Job reads the same Secret. Prometheus finds the store through `ctx.published.metrics_targets`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from cdb_stack.parts import BuildContext, ObjectStorageOffer, PlanContext
from cdb_stack.settings_base import Compute, Name, Strict, compute
from components import conventions
from components.minio import API_PORT, ENGINES, PASSWORD_KEY, USER_KEY, ObjectStoreArgs
from components.network import Peer
from components.observability.common import ScrapeTarget
from components.vault_config import VaultClient, secret_path
from components.zone import ZoneArgs

KEY = "objectStorage"
NAME = "minio"


class AuditBucketSettings(Strict):
    name: str = Field("audit", description="WORM bucket for audit records (object lock, versioning)")
    retention_days: int = Field(3650, ge=1, description="default COMPLIANCE retention in days")


class Settings(Strict):
    enabled: bool = Field(True, description="build the object store")
    zone: Name = Field("storage", description="namespace of the object store (a zone of its own)")
    engine: Literal[tuple(ENGINES)] = Field("minio", description="server engine; see components.minio.ENGINES")  # type: ignore[valid-type]
    image: str = Field("quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z",
                       description="pinned server image; no community images after 2025-10: prefer a self-built one")
    client_image: str = Field("quay.io/minio/mc:RELEASE.2025-08-13T08-35-41Z", description="pinned mc image")
    replicas: int | None = Field(None, ge=1, description="servers; default 1 in dev, 4 otherwise")
    resources: Compute = Field(default_factory=compute('250m', '512Mi', '2', '2Gi'))
    storage_size: str = Field("50Gi", description="data volume per server")
    storage_class: str | None = Field(None, description="StorageClass (cluster default if unset)")
    credentials_secret: Name = Field("minio-root", description="Secret (delivered from Vault) with rootUser/rootPassword")
    tls_secret: Name | None = Field(None, description="kubernetes.io/tls Secret to serve HTTPS")
    audit_bucket: AuditBucketSettings = Field(default_factory=AuditBucketSettings)
    ingress_from: list[Name] = Field(default_factory=list, description="zones allowed to use the S3 API")


@dataclass(frozen=True)
class StoragePlan:
    zone: ZoneArgs
    store: ObjectStoreArgs
    client: VaultClient


def plan(settings: Settings, ctx: PlanContext) -> StoragePlan | None:
    if not settings.enabled:
        return None
    declared = {z.name for z in ctx.settings.zones}
    if settings.zone in declared:
        raise ValueError(f"zone: {settings.zone!r} is also declared under zones; the object store runs in its own zone")
    for i, zone in enumerate(settings.ingress_from):
        if zone not in declared:
            raise ValueError(f"ingressFrom[{i}]: zone {zone!r} is not declared; add it under zones")
    replicas = settings.replicas or (1 if ctx.is_dev else 4)
    if not ctx.is_dev and replicas < 4:
        raise ValueError(f"replicas: {replicas} outside dev; distributed erasure coding needs at least 4 servers")
    prov = ctx.provenance
    store = ObjectStoreArgs.parse({
        "provenance": prov, "namespace": settings.zone, "engine": settings.engine, "image": settings.image,
        "client_image": settings.client_image, "replicas": replicas, "resources": settings.resources.model_dump(),
        "job_resources": {"cpu_request": "50m", "memory_request": "64Mi", "cpu_limit": "200m", "memory_limit": "128Mi"},
        "data": {"name": "data", "mount_path": "/export", "size": settings.storage_size,
                 "storage_class": settings.storage_class},
        "credentials_secret": settings.credentials_secret, "tls_secret": settings.tls_secret,
        "audit_bucket": settings.audit_bucket.model_dump(),
        "ingress_from": tuple(Peer(namespace=z) for z in settings.ingress_from),
    }, owner="ObjectStore")
    zone = ZoneArgs.parse({"provenance": prov, "namespace": settings.zone,
                           "quota": {"persistentvolumeclaims": str(replicas)}})
    client = VaultClient(name=NAME, namespace=settings.zone, service_account=NAME, secrets=(settings.credentials_secret,),
                         workload_class=conventions.WORKLOAD_CLASS_PLATFORM_STATE)
    return StoragePlan(zone, store, client)


def build(planned: StoragePlan | None, ctx: BuildContext) -> dict[str, Any]:
    if planned is None:
        return {}
    import pulumi

    from components.minio import ObjectStore
    from components.zone import Zone

    zone = Zone(planned.zone.namespace, planned.zone)
    ctx.zones[planned.zone.namespace] = zone
    if ctx.published.secrets is None:  # fail closed: the credentials must come from the secret manager
        raise ValueError("objectStorage needs the secrets part (it delivers the credentials); keep `secrets` in PART_MODULES")
    delivery = ctx.published.secrets.deliver(planned.client, "StatefulSet", [zone])
    store = ObjectStore(NAME, planned.store, ctx.flux_owned(pulumi.ResourceOptions(depends_on=[zone, delivery])))
    ctx.published.object_storage = ObjectStorageOffer(endpoint=store.endpoint, audit_bucket=planned.store.audit_bucket.name)
    ctx.published.metrics_targets.append(ScrapeTarget(
        job=NAME, namespace=planned.zone.namespace, port=API_PORT, path=store.metrics_path, pod_labels=dict(store.pod_labels),
    ))
    return {"objectStoreEndpoint": store.endpoint, "auditBucket": planned.store.audit_bucket.name,
            "objectStoreCredentialsToSeed": credentials_to_seed(planned, ctx.plan.settings.secrets.kv_mount)}


def credentials_to_seed(planned: StoragePlan, kv_mount: str) -> dict[str, Any]:
    """Where the root credentials must be written in Vault before the servers and the bucket Job start.

    No generated credential goes through Pulumi's state: the operator seeds them after the key
    ceremony (docs and README "From an empty cluster"); until then the pods wait for their Secret.
    """
    path = secret_path(planned.client, planned.store.credentials_secret)
    return {"kvMount": kv_mount, "path": path, "keys": [USER_KEY, PASSWORD_KEY],
            "command": f"bao kv put -mount={kv_mount} {path} {USER_KEY}=<user> {PASSWORD_KEY}=<at least 8 characters>"}
