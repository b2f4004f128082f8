"""Secret delivery through the Vault Secrets Operator (VSO): no Kubernetes Secret is ever written in code.

`SecretOperator` installs VSO from its pinned upstream chart into its own zone and declares the one
VaultConnection every client uses. `SecretDelivery` gives one client its VaultAuth (Kubernetes auth with
the client's own ServiceAccount and role) and one VaultStaticSecret per secret; VSO then creates the
Secret in the client's namespace from Vault. Field names checked against hashicorp/vault-secrets-operator
@9b840a5a (v1.4.1): api/v1beta1/vaultauth_types.go, vaultstaticsecret_types.go, vaultconnection_types.go,
common.go (Destination, RolloutRestartTarget); chart/Chart.yaml 1.4.1; pod labels from chart/_helpers.tpl.
"""

from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from components import conventions, defaults
from components.intent import Intent
from components.kube import child_opts, metadata
from components.network import Destination
from components.provenance import Provenance
from components.vault_config import VaultClient, secret_path

VSO_API_VERSION = "secrets.hashicorp.com/v1beta1"
SECRET_OPERATOR_TYPE = "cdb:index:SecretOperator"
SECRET_DELIVERY_TYPE = "cdb:index:SecretDelivery"
VSO_CHART = "vault-secrets-operator"
VSO_CHART_REPO = "https://helm.releases.hashicorp.com"
VSO_HEALTH_PORT = 8081
CONNECTION_NAME = "vault"


def operator_pod_labels(release: str) -> dict[str, str]:
    """The chart's selector labels of the operator pods (what the vault zone admits)."""
    return {conventions.LABEL_NAME: VSO_CHART, conventions.LABEL_INSTANCE: release}


class SecretOperatorArgs(Intent):
    provenance: Provenance = Field(description="Ownership and origin labels/annotations of every object")
    namespace: str = Field(description="The operator's zone")
    chart_version: str = Field(default="1.4.1", pattern=r"^\d+\.\d+\.\d+$", description="Pinned VSO chart version")
    replicas: int = Field(default=2, ge=1, description="Operator replicas (leader election)")
    vault_address: str = Field(description="Vault's in-cluster address, e.g. http://vault.vault.svc.cluster.local:8200")
    vault_egress: Destination = Field(description="The Vault pods and port the operator may reach")
    kubernetes_api: tuple[Destination, ...] = Field(min_length=1, description="API server address(es)")


class SecretOperator(pulumi.ComponentResource):
    """VSO (pinned chart), its egress NetworkPolicy, and the shared VaultConnection."""

    def __init__(self, name: str, args: SecretOperatorArgs | dict[str, Any], opts: pulumi.ResourceOptions | None = None):
        args = SecretOperatorArgs.parse(args, owner=f"SecretOperator {name!r}")
        super().__init__(SECRET_OPERATOR_TYPE, name, args.to_plain(), opts)
        ns, prov = args.namespace, args.provenance
        labels = prov.labels(name=VSO_CHART, instance=name, component="secret-operator")
        meta = lambda object_name: metadata(object_name, ns, labels, prov.annotations())  # noqa: E731
        # The chart's objects are rendered by Helm; the offline preview lists the Release unexpanded.
        self.release = k8s.helm.v3.Release(
            name,
            name=name,
            namespace=ns,
            chart=VSO_CHART,
            version=args.chart_version,
            repository_opts={"repo": VSO_CHART_REPO},
            atomic=True,
            values={
                "controller": {
                    "replicas": args.replicas,
                    "extraLabels": {**labels, conventions.LABEL_WORKLOAD_CLASS: conventions.WORKLOAD_CLASS_SERVICE},
                    "podDisruptionBudget": {"enabled": args.replicas > 1, "maxUnavailable": 1},
                    "manager": {"resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                                              "limits": {"cpu": "500m", "memory": "256Mi"}}},
                },
                "defaultVaultConnection": {"enabled": False},
                "defaultAuthMethod": {"enabled": False},
            },
            opts=child_opts(self),
        )
        pods = operator_pod_labels(name)
        self.network_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol", metadata=meta(name),
            spec={
                "podSelector": {"matchLabels": pods},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [],
                "egress": [args.vault_egress.to_k8s(), *(d.to_k8s() for d in args.kubernetes_api),
                           defaults.dns_egress_rule()],
            },
            opts=child_opts(self))
        self.connection = k8s.apiextensions.CustomResource(
            f"{name}-connection", api_version=VSO_API_VERSION, kind="VaultConnection", metadata=meta(CONNECTION_NAME),
            spec={"address": args.vault_address, "skipTLSVerify": False}, opts=child_opts(self, self.release))
        self.connection_ref = f"{ns}/{CONNECTION_NAME}"
        self.register_outputs({"connectionRef": self.connection_ref})


class SecretDeliveryArgs(Intent):
    provenance: Provenance = Field(description="Ownership and origin labels/annotations of every object")
    client: VaultClient = Field(description="Who receives the secrets (never an AI workload)")
    kv_mount: str = Field(default="kv", description="KV v2 mount the secrets live in")
    auth_mount: str = Field(default="kubernetes", description="Kubernetes auth mount")
    audience: str = Field(default="vault", description="Audience of the projected token")
    connection_ref: str = Field(description="'<namespace>/<name>' of the VaultConnection")
    refresh_after: str = Field(default="60s", pattern=r"^\d+[smh]$", description="How often VSO re-reads the secret")
    restart_kind: Literal["Deployment", "StatefulSet"] | None = Field(
        default="Deployment", description="Workload (named like the client) VSO restarts when a secret changes")
    workload_class: str = Field(default=conventions.WORKLOAD_CLASS_SERVICE, description="Label of the client's objects")


class SecretDelivery(pulumi.ComponentResource):
    """VaultAuth for the client's ServiceAccount and a VaultStaticSecret per secret, in its namespace."""

    def __init__(self, name: str, args: SecretDeliveryArgs | dict[str, Any], opts: pulumi.ResourceOptions | None = None):
        args = SecretDeliveryArgs.parse(args, owner=f"SecretDelivery {name!r}")
        super().__init__(SECRET_DELIVERY_TYPE, name, args.to_plain(), opts)
        client, prov = args.client, args.provenance
        labels = prov.labels(name=client.name, instance=name, component="secret-delivery")
        meta = lambda object_name: metadata(object_name, client.namespace, labels, prov.annotations())  # noqa: E731
        auth_name = f"{client.name}-vault"
        self.auth = k8s.apiextensions.CustomResource(
            f"{name}-auth", api_version=VSO_API_VERSION, kind="VaultAuth", metadata=meta(auth_name),
            spec={
                "vaultConnectionRef": args.connection_ref,
                "method": "kubernetes",
                "mount": args.auth_mount,
                "kubernetes": {"role": client.role, "serviceAccount": client.service_account,
                               "audiences": [args.audience], "tokenExpirationSeconds": 600},
            },
            opts=child_opts(self))
        self.secrets: dict[str, k8s.apiextensions.CustomResource] = {}
        for secret in client.secrets:
            spec: dict[str, Any] = {
                "vaultAuthRef": auth_name,
                "mount": args.kv_mount,
                "type": "kv-v2",
                "path": secret_path(client, secret),
                "refreshAfter": args.refresh_after,
                "hmacSecretData": True,
                "destination": {"name": secret, "create": True, "overwrite": False, "type": "Opaque",
                                "labels": dict(labels), "annotations": prov.annotations()},
            }
            if args.restart_kind:
                spec["rolloutRestartTargets"] = [{"kind": args.restart_kind, "name": client.name}]
            self.secrets[secret] = k8s.apiextensions.CustomResource(
                f"{name}-{secret}", api_version=VSO_API_VERSION, kind="VaultStaticSecret", metadata=meta(secret),
                spec=spec, opts=child_opts(self, self.auth))
        self.register_outputs({"secrets": sorted(self.secrets), "role": client.role})
