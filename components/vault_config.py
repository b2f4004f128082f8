"""Vault's configuration as code: KV v2, one ACL policy per client, Kubernetes auth, audit.

`desired_state(args)` is the whole configuration as Vault HTTP API writes (the form `cdb vault configure`
applies); `VaultConfig` is the same configuration as pulumi-vault resources. Both take the policy text
and the role fields from the pure functions below, so they cannot drift apart.

The ACL policy text comes from one pure function, `policy_hcl`, so what pulumi-vault writes and what the
tests load into a real OpenBao server to prove it (`sys/capabilities`) are the same string. A client
reads exactly its own KV paths, `<mount>/data/<namespace>/<client>/<secret>`, and nothing else: no list,
no metadata, no wildcard. AI workloads are never a client (CDB_INFRA_POLICY 6).
"""

import json
from typing import Annotated, Any

import pulumi
import pulumi_vault as vault
from pydantic import AfterValidator, Field, model_validator

from components import conventions, names
from components.intent import Intent
from components.base import Component, require_args

VAULT_CONFIG_TYPE = "cdb:index:VaultConfig"
DNS = Annotated[str, AfterValidator(names.dns_label)]
AUDIT_FILE = "/vault/audit/audit.log"
AUDIT_DESCRIPTION = "Every request and response, HMAC'd, on the audit volume"


class VaultClient(Intent):
    """A workload that receives secrets: its Kubernetes identity and the secrets it may read."""

    name: DNS = Field(description="Client (service) name; also the Vault role and policy suffix")
    namespace: DNS = Field(description="Namespace of the client's ServiceAccount")
    service_account: DNS = Field(description="ServiceAccount the secret operator logs in as")
    secrets: tuple[DNS, ...] = Field(min_length=1, description="Names of the client's secrets under its own KV path")
    workload_class: str = Field(default=conventions.WORKLOAD_CLASS_SERVICE, description="service or platform-state")

    @model_validator(mode="after")
    def _not_ai(self) -> "VaultClient":
        if self.workload_class == conventions.WORKLOAD_CLASS_AI:
            raise ValueError(
                f"client {self.name!r} is an AI workload; AI workloads get no Vault role or policy "
                "(CDB_INFRA_POLICY 6); remove its secrets"
            )
        if len(set(self.secrets)) != len(self.secrets):
            raise ValueError(f"client {self.name!r} lists a secret twice; list each secret once")
        return self

    @property
    def role(self) -> str:
        return f"{self.namespace}-{self.name}"

    @property
    def policy_name(self) -> str:
        return f"{self.namespace}-{self.name}-read"


def secret_path(client: VaultClient, secret: str) -> str:
    """The secret's path below the KV mount (what a VaultStaticSecret names in `path`)."""
    return f"{client.namespace}/{client.name}/{secret}"


def policy_paths(client: VaultClient, kv_mount: str) -> dict[str, list[str]]:
    """Path -> capabilities of the client's policy: read on the KV v2 data path of each own secret."""
    return {f"{kv_mount}/data/{secret_path(client, s)}": ["read"] for s in client.secrets}


def policy_hcl(client: VaultClient, kv_mount: str) -> str:
    """The ACL policy text pulumi-vault stores (and the server proof loads)."""
    blocks = [
        f'path {json.dumps(path)} {{\n  capabilities = {json.dumps(caps)}\n}}\n'
        for path, caps in sorted(policy_paths(client, kv_mount).items())
    ]
    return "".join(blocks)


def role_fields(client: VaultClient, args: "VaultConfigArgs") -> dict[str, Any]:
    """The Kubernetes auth role of a client, as the API's `auth/<mount>/role/<role>` body."""
    return {
        "bound_service_account_names": [client.service_account],
        "bound_service_account_namespaces": [client.namespace],
        "audience": args.audience,
        "token_policies": [client.policy_name],
        "token_no_default_policy": True,
        "token_ttl": args.token_ttl_seconds,
        "token_max_ttl": args.token_max_ttl_seconds,
    }


class VaultConfigArgs(Intent):
    kv_mount: DNS = Field(default="kv", description="Path of the KV v2 secrets engine")
    kv_max_versions: int = Field(default=10, ge=1, description="Versions kept per secret")
    auth_mount: DNS = Field(default="kubernetes", description="Path of the Kubernetes auth method")
    kubernetes_host: str = Field(default="https://kubernetes.default.svc", description="API server Vault reviews tokens at")
    kubernetes_ca_cert: str | None = Field(default=None, description="PEM of the API server's CA; None: the server "
                                           "reads its pod's service-account CA (in-cluster)")
    audience: str = Field(default="vault", description="Audience the clients' service account tokens carry")
    token_ttl_seconds: int = Field(default=1200, ge=60, description="TTL of a client's Vault token")
    token_max_ttl_seconds: int = Field(default=3600, ge=60, description="Maximum TTL of a client's Vault token")
    audit_file: str = Field(default=AUDIT_FILE, description="File the audit device writes (on the audit volume)")
    audit_in_server_config: bool = Field(default=False, description="The server's own config declares the audit "
                                         "device (OpenBao refuses to enable one over the API); only verify it")
    clients: tuple[VaultClient, ...] = Field(default=(), description="Workloads that receive secrets")

    @model_validator(mode="after")
    def _unique(self) -> "VaultConfigArgs":
        roles = [c.role for c in self.clients]
        for role in roles:
            if roles.count(role) > 1:
                raise ValueError(f"client {role!r} is declared twice; declare each client once with all its secrets")
        if self.token_max_ttl_seconds < self.token_ttl_seconds:
            raise ValueError("token_max_ttl_seconds is below token_ttl_seconds; raise the maximum")
        return self


def desired_state(args: VaultConfigArgs, clients: tuple[VaultClient, ...] | None = None) -> dict[str, Any]:
    """Everything the configuration consists of, keyed as the HTTP API names it (mounts, audit devices,
    auth methods: enabled once; the rest: idempotent writes). `clients` defaults to `args.clients`."""
    clients = args.clients if clients is None else clients
    audit = {"file": {"type": "file", "options": {"file_path": args.audit_file}, "description": AUDIT_DESCRIPTION}}
    return {
        "mounts": {args.kv_mount: {"type": "kv", "options": {"version": "2"},
                                   "description": "KV v2 secrets of the platform's workloads"}},
        "audit": {} if args.audit_in_server_config else audit,
        "audit_declared": audit if args.audit_in_server_config else {},
        "auth": {args.auth_mount: {"type": "kubernetes", "description": "Service accounts log in with projected tokens"}},
        "writes": {
            f"{args.kv_mount}/config": {"max_versions": args.kv_max_versions},
            f"auth/{args.auth_mount}/config": {"kubernetes_host": args.kubernetes_host,
                                               **({"kubernetes_ca_cert": args.kubernetes_ca_cert}
                                                  if args.kubernetes_ca_cert else {})},
            **{f"sys/policies/acl/{c.policy_name}": {"policy": policy_hcl(c, args.kv_mount)} for c in clients},
            **{f"auth/{args.auth_mount}/role/{c.role}": role_fields(c, args) for c in clients},
        },
        "secrets": {f"{args.kv_mount}/data/{secret_path(c, s)}": c.role for c in clients for s in c.secrets},
    }


class VaultConfig(Component):
    """KV v2 mount, Kubernetes auth (config + one role per client), one policy per client, file audit."""

    TYPE = VAULT_CONFIG_TYPE

    def __init__(self, name: str, args: VaultConfigArgs, opts: pulumi.ResourceOptions | None = None):
        args = require_args(VaultConfigArgs, args, owner=f"VaultConfig {name!r}")
        super().__init__(name, args.to_plain(), opts)
        self.component_name = name
        child = pulumi.ResourceOptions(parent=self)
        self.kv = vault.Mount(
            f"{name}-kv", path=args.kv_mount, type="kv", options={"version": "2"},
            description="KV v2 secrets of the platform's workloads", opts=child,
        )
        self.audit = None if args.audit_in_server_config else vault.Audit(
            f"{name}-audit", type="file", path="file", options={"file_path": args.audit_file},
            description=AUDIT_DESCRIPTION, opts=child,
        )
        self.auth = vault.AuthBackend(
            f"{name}-kubernetes", type="kubernetes", path=args.auth_mount,
            description="Service accounts log in with projected tokens", opts=child,
        )
        self.auth_config = vault.kubernetes.AuthBackendConfig(
            f"{name}-kubernetes-config", backend=self.auth.path, kubernetes_host=args.kubernetes_host,
            kubernetes_ca_cert=args.kubernetes_ca_cert,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.auth]),
        )
        self.policies: dict[str, vault.Policy] = {}
        self.roles: dict[str, vault.kubernetes.AuthBackendRole] = {}
        for client in args.clients:
            self.add_client(client, args)
        self.register_outputs({"kvMount": args.kv_mount, "authMount": args.auth_mount})

    def add_client(self, client: VaultClient, args: VaultConfigArgs) -> None:
        """The client's policy (exactly its own paths) and its role, bound to one ServiceAccount."""
        client = VaultClient.parse(client, owner=f"VaultConfig client {getattr(client, 'name', client)!r}")
        if client.role in self.roles:
            raise ValueError(f"Vault client {client.role!r} is declared twice; declare it once with all its secrets")
        name = self.component_name
        policy = vault.Policy(
            f"{name}-{client.policy_name}", name=client.policy_name, policy=policy_hcl(client, args.kv_mount),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.kv]),
        )
        self.policies[client.role] = policy
        fields = {**role_fields(client, args), "token_policies": [policy.name]}
        self.roles[client.role] = vault.kubernetes.AuthBackendRole(
            f"{name}-{client.role}-role", backend=self.auth.path, role_name=client.role, **fields,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.auth_config]),
        )
