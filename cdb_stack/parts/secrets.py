"""Part `secrets`: HA OpenBao (or Vault) alone in its zone, its configuration as code, delivery through VSO.

The engine defaults to OpenBao (MPL-2.0, Vault's API); HashiCorp Vault (BSL since 1.15) is `engine: vault`.
OpenBao unseals itself with a static key from the Secret the key ceremony creates (docs/openbao-runbook.md).
The Vault configuration (KV mount, audit device, Kubernetes auth, one policy and role per client) is applied
by `cdb vault configure` over the HTTP API from wherever the API is reachable (`configure.via: cdb`, the
default): a first `pulumi up` on an empty cluster cannot configure a server that the ceremony has not
initialised yet, and CI usually cannot resolve in-cluster DNS. `configure.via: pulumi` keeps pulumi-vault
resources in the program instead, for runners that reach `configure.address` after the ceremony.

Every service that reads a Secret (`secretEnv`) becomes a Vault client: one policy reading exactly its
own KV paths, one Kubernetes auth role bound to its ServiceAccount and namespace, and a VaultAuth plus
VaultStaticSecrets in its namespace, so the Secret it reads is written by the operator, never by code.
AI services are never clients, may not name the vault zone, and no allow-list may admit their zone.
Later parts (object storage, observability) get their own Secrets through `ctx.published.secrets.deliver`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from cdb_stack.parts import BuildContext, PlanContext, SecretsOffer
from cdb_stack.settings_base import Compute, Name, Strict, compute
from components import conventions
from components.conventions import ZONE_CLASS_VAULT
from components.network import Destination, Peer
from components.vault import API_PORT, KEY_ID, StaticSeal, VaultServerArgs
from components.vault_config import AUDIT_FILE, VaultClient, VaultConfigArgs
from components.vault_delivery import SecretDeliveryArgs, SecretOperatorArgs, operator_pod_labels
from components.zone import ZoneArgs

KEY = "secrets"
SERVER_NAME = "vault"
OPERATOR_NAME = "vault-secrets-operator"


class PeerSettings(Strict):
    zone: Name = Field(description="zone (namespace) of the pods allowed to call Vault's API")
    pod_labels: dict[str, str] = Field(default_factory=dict, description="labels of those pods; empty = the whole zone")


class GrantSettings(Strict):
    name: Name = Field(description="client name (Vault role and policy suffix)")
    zone: Name = Field(description="namespace of the client's ServiceAccount")
    service_account: Name = Field(description="ServiceAccount the operator logs in as")
    secrets: list[Name] = Field(min_length=1, description="secrets under the client's own KV path")
    restart: Literal["Deployment", "StatefulSet"] | None = Field(None, description="workload VSO restarts on change")


class OperatorSettings(Strict):
    namespace: Name = Field("vault-secrets-operator", description="zone of the Vault Secrets Operator")
    chart_version: str = Field("1.4.1", description="pinned vault-secrets-operator chart version")
    replicas: int | None = Field(None, ge=1, description="operator replicas; default 1 in dev, 2 otherwise")


IMAGES = {"openbao": "quay.io/openbao/openbao:2.7.2", "vault": "hashicorp/vault:2.0.4"}


class UnsealSettings(Strict):
    type: Literal["static", "manual"] = Field("static", description="static: OpenBao unseals itself from the "
                                              "ceremony's key Secret; manual: Shamir keys entered by hand")
    secret: Name = Field("openbao-unseal-key", description="Secret (vault zone) the key ceremony creates; never in code")
    key_id: str = Field("unseal-1", pattern=KEY_ID, description="id of the current key: its file name in the Secret")
    previous_key_id: str | None = Field(None, pattern=KEY_ID,
                                        description="id of the key being rotated out (during a rotation)")


class ConfigureSettings(Strict):
    via: Literal["cdb", "pulumi"] = Field("cdb", description="who applies mounts, policies, roles and audit: "
                                          "`cdb vault configure` (default) or pulumi-vault in this program")
    address: str | None = Field(None, pattern=r"^https?://[^\s/]+(/.*)?$",
                                description="API URL reachable from where the configuration is applied (CI, "
                                            "workstation); required with via: pulumi")
    from_cidrs: list[str] = Field(default_factory=list, description="networks that call the API to configure it "
                                  "(e.g. the ingress or CI runner network); admitted on the API port")


class Settings(Strict):
    zone: Name = Field("vault", description="the vault zone: the secret store runs alone in this namespace")
    engine: Literal["openbao", "vault"] = Field("openbao", description="openbao (MPL-2.0, default) or HashiCorp vault (BSL)")
    image: str | None = Field(None, description="pinned server image; default per engine: " + ", ".join(
        f"{k}: {v}" for k, v in IMAGES.items()))
    auto_unseal: UnsealSettings = Field(default_factory=UnsealSettings)
    configure: ConfigureSettings = Field(default_factory=ConfigureSettings)
    metrics_scrape: bool = Field(True, description="admit the observability zone's Prometheus to /v1/sys/metrics")
    replicas: int | None = Field(None, ge=1, description="Raft members; default 1 in dev, 3 otherwise")
    resources: Compute = Field(default_factory=compute('250m', '256Mi', '1', '512Mi'))
    storage_size: str = Field("10Gi", description="Raft data volume per member")
    audit_storage_size: str = Field("10Gi", description="audit log volume per member")
    storage_class: str | None = Field(None, description="StorageClass of both volumes (cluster default if unset)")
    tls_secret: Name | None = Field(None, description="kubernetes.io/tls Secret (cert-manager) to serve HTTPS")
    kv_mount: Name = Field("kv", description="KV v2 mount")
    auth_mount: Name = Field("kubernetes", description="Kubernetes auth mount")
    audience: str = Field("vault", description="audience of the clients' projected tokens")
    ingress_from: list[PeerSettings] = Field(default_factory=list, description="more API clients besides the operator")
    grants: list[GrantSettings] = Field(default_factory=list, description="clients that are not services")
    operator: OperatorSettings = Field(default_factory=OperatorSettings)


@dataclass(frozen=True)
class SecretsPlan:
    zone: ZoneArgs
    operator_zone: ZoneArgs
    server: VaultServerArgs
    operator: SecretOperatorArgs
    config: VaultConfigArgs
    restarts: dict[str, str | None]  # client role -> workload kind VSO restarts
    configure: ConfigureSettings


def _ai_checks(settings: Settings, ctx: PlanContext) -> None:
    """Refuse every configuration that would give an AI service a path or a role."""
    ai = [(i, s) for i, s in enumerate(ctx.settings.services) if s.workload_class == conventions.WORKLOAD_CLASS_AI]
    for i, svc in ai:
        if settings.zone in svc.egress_to:
            raise ValueError(f"services[{i}].egressTo names the vault zone {settings.zone!r}; AI services get no "
                             "network path to the vault (CDB_INFRA_POLICY 6); remove it")
        for j, grant in enumerate(settings.grants):
            if grant.zone == svc.zone and grant.service_account == svc.name:
                raise ValueError(f"grants[{j}] binds AI service {svc.name!r}; AI services get no Vault role "
                                 "(CDB_INFRA_POLICY 6); remove the grant")
    ai_zones = {s.zone for _, s in ai}
    for j, peer in enumerate(settings.ingress_from):
        if peer.zone in ai_zones and not peer.pod_labels:
            raise ValueError(f"ingressFrom[{j}] admits all of zone {peer.zone!r}, where AI services run; "
                             "name the client pods with podLabels")


def _clients(settings: Settings, ctx: PlanContext) -> tuple[list[VaultClient], dict[str, str | None]]:
    clients, restarts, owners = [], {}, {}
    for i, svc in enumerate(ctx.settings.services):
        if svc.workload_class == conventions.WORKLOAD_CLASS_AI or not svc.secret_env:
            continue  # AI services never become clients; the service component refuses their secrets anyway
        names = sorted({ref.secret for ref in svc.secret_env.values()})
        for secret in names:
            other = owners.setdefault((svc.zone, secret), svc.name)
            if other != svc.name:
                raise ValueError(f"services[{i}].secretEnv: Secret {secret!r} in zone {svc.zone!r} is also read by "
                                 f"{other!r}; each service reads only its own Secrets, give it its own name")
        clients.append(VaultClient(name=svc.name, namespace=svc.zone, service_account=svc.name, secrets=tuple(names)))
        restarts[clients[-1].role] = "Deployment"
    for grant in settings.grants:
        clients.append(VaultClient(name=grant.name, namespace=grant.zone, service_account=grant.service_account,
                                   secrets=tuple(grant.secrets)))
        restarts[clients[-1].role] = grant.restart
    return clients, restarts


def plan(settings: Settings, ctx: PlanContext) -> SecretsPlan:
    _ai_checks(settings, ctx)  # first: an AI service naming the vault gets the AI reason, not a side effect
    declared = [z.name for z in ctx.settings.zones]
    for name, what in ((settings.zone, "zone"), (settings.operator.namespace, "operator.namespace")):
        if name in declared:
            raise ValueError(f"{what}: {name!r} is also declared under zones; the secrets part owns that namespace "
                             "and nothing else may run in it; pick another name")
    if settings.zone == settings.operator.namespace:
        raise ValueError("operator.namespace equals zone; Vault runs alone in its zone")
    if settings.engine == "vault" and settings.auto_unseal.type == "static":
        raise ValueError("autoUnseal.type: static is an OpenBao seal and HashiCorp Vault has none; "
                         "set engine: openbao or autoUnseal.type: manual")
    if settings.configure.via == "pulumi" and not settings.configure.address:
        raise ValueError("configure.address: required with configure.via: pulumi (an API URL the deploy runner "
                         "reaches; in-cluster DNS is not); or use configure.via: cdb")
    replicas = settings.replicas or (1 if ctx.is_dev else 3)
    if not ctx.is_dev and replicas < 3:
        raise ValueError(f"replicas: {replicas} outside dev; HA Raft needs 3 or 5 members")
    api = ctx.api_server_egress("secrets")  # the one apiServer setting (endpoints, never the ClusterIP)
    prov = ctx.provenance
    op_pods = operator_pod_labels(OPERATOR_NAME)
    allow = [Peer(namespace=settings.operator.namespace, pod_labels=op_pods)]
    allow += [Peer(namespace=p.zone, pod_labels=p.pod_labels or None) for p in settings.ingress_from]
    volume = lambda name, path, size: {"name": name, "mount_path": path, "size": size,  # noqa: E731
                                       "storage_class": settings.storage_class}
    unseal = settings.auto_unseal
    seal = (StaticSeal(secret=unseal.secret, key_id=unseal.key_id, previous_key_id=unseal.previous_key_id)
            if unseal.type == "static" else None)
    observability = ctx.settings.observability
    scrapers = ((Peer(namespace=observability.zone, pod_labels={conventions.LABEL_NAME: "prometheus",
                                                              conventions.LABEL_INSTANCE: "prometheus"}),)
                if settings.metrics_scrape and observability.enabled else ())
    server = VaultServerArgs.parse({
        "provenance": prov, "namespace": settings.zone, "image": settings.image or IMAGES[settings.engine],
        "engine": settings.engine, "static_seal": seal, "metrics_from": scrapers,
        # OpenBao refuses to enable audit devices over the API: its own config declares the file device.
        "audit_file": AUDIT_FILE if settings.engine == "openbao" else None,
        "config_from_cidrs": tuple(settings.configure.from_cidrs),
        "replicas": replicas, "resources": settings.resources.model_dump(), "tls_secret": settings.tls_secret,
        "data": volume("data", "/vault/data", settings.storage_size),
        "audit": volume("audit", "/vault/audit", settings.audit_storage_size),
        "ingress_from": tuple(allow), "kubernetes_api": api,
    }, owner="VaultServer")
    address = f"{server.scheme}://{SERVER_NAME}.{settings.zone}.svc.cluster.local:{API_PORT}"
    operator = SecretOperatorArgs.parse({
        "provenance": prov, "namespace": settings.operator.namespace, "chart_version": settings.operator.chart_version,
        "replicas": settings.operator.replicas or (1 if ctx.is_dev else 2), "vault_address": address,
        "vault_egress": Destination(namespace=settings.zone, pod_labels={conventions.LABEL_NAME: SERVER_NAME,
                                                                         conventions.LABEL_INSTANCE: SERVER_NAME},
                                    ports=(API_PORT,)),
        "kubernetes_api": api,
    }, owner="SecretOperator")
    clients, restarts = _clients(settings, ctx)
    config = VaultConfigArgs(kv_mount=settings.kv_mount, auth_mount=settings.auth_mount, audience=settings.audience,
                             clients=tuple(clients), audit_in_server_config=settings.engine == "openbao")
    zone = lambda ns, pvcs, **extra: ZoneArgs.parse({"provenance": prov, "namespace": ns,  # noqa: E731
                                                    "quota": {"persistentvolumeclaims": str(pvcs)}, **extra})
    # The unseal key's Secret is made by the key ceremony (docs/openbao-runbook.md), never by code.
    ceremony = (settings.auto_unseal.secret,) if seal is not None else ()
    return SecretsPlan(zone(settings.zone, 2 * replicas, zone_class=ZONE_CLASS_VAULT, ceremony_secrets=ceremony),
                       zone(settings.operator.namespace, 0),
                       server, operator,
                       config, restarts, settings.configure)


def vault_clients(part_plans: dict[str, Any]) -> tuple[VaultClient, ...]:
    """Every client of the stack: the secrets part's own plus each VaultClient field of another part's plan
    (object storage's MinIO, observability's Grafana): what `cdb vault configure` applies and checks."""
    planned: SecretsPlan = part_plans[KEY]
    clients = list(planned.config.clients)
    for key, other in part_plans.items():
        if key == KEY or not dataclasses.is_dataclass(other):
            continue
        clients += [v for f in dataclasses.fields(other) if isinstance(v := getattr(other, f.name), VaultClient)]
    return tuple(clients)


def build(planned: SecretsPlan, ctx: BuildContext) -> dict[str, Any]:
    import pulumi
    import pulumi_vault

    from components.vault import VaultServer
    from components.vault_config import VaultConfig
    from components.vault_delivery import SecretDelivery, SecretOperator
    from components.zone import Zone

    vault_zone = Zone(planned.zone.namespace, planned.zone)
    zones = {planned.zone.namespace: vault_zone,
             planned.operator_zone.namespace: Zone(planned.operator_zone.namespace, planned.operator_zone)}
    ctx.zones.update(zones)
    server = VaultServer(SERVER_NAME, planned.server, pulumi.ResourceOptions(depends_on=[zones[planned.zone.namespace]]))
    operator = SecretOperator(OPERATOR_NAME, planned.operator,
                              pulumi.ResourceOptions(depends_on=[zones[planned.operator_zone.namespace]]))
    cfg = planned.config
    config: VaultConfig | None = None
    if planned.configure.via == "pulumi":
        # pulumi-vault reads its token from VAULT_TOKEN at deploy time: no credential is in code or config.
        provider = pulumi_vault.Provider("vault", address=planned.configure.address)
        config = VaultConfig("vault-config", cfg, pulumi.ResourceOptions(provider=provider, depends_on=[server]))

    def deliver(client: VaultClient, restart: str | None, depends_on: list[Any] | None = None) -> SecretDelivery:
        """Policy + role for `client`, and its VaultAuth/VaultStaticSecrets (refuses AI clients itself)."""
        if config is not None and client.role not in config.roles:
            config.add_client(client, cfg)
        return SecretDelivery(
            f"{client.role}-secrets",
            SecretDeliveryArgs(provenance=ctx.plan.provenance, client=client, kv_mount=cfg.kv_mount, auth_mount=cfg.auth_mount,
                               audience=cfg.audience, connection_ref=operator.connection_ref, restart_kind=restart),
            pulumi.ResourceOptions(depends_on=[operator, *(depends_on or [])]))

    for client in cfg.clients:
        deliver(client, planned.restarts.get(client.role), [ctx.zones[client.namespace]] if client.namespace in ctx.zones else [])
    ctx.published.secrets = SecretsOffer(deliver=deliver, vault_zone=planned.zone.namespace, vault_address=server.address)
    return {"vaultAddress": server.address, "vaultZone": planned.zone.namespace,
            "secretOperatorNamespace": planned.operator_zone.namespace}
