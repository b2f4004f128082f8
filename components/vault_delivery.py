"""Secret delivery through the Vault Secrets Operator (VSO): no Kubernetes Secret is ever written in code.

`SecretOperator` installs VSO from its pinned upstream chart, rendered as typed resources from the
vendored chart parts (`components/vso_chart.py`), into its own zone and declares the one
VaultConnection every client uses. The chart's pods run as non-root with no privilege escalation but
keep their capabilities and no seccomp profile, which Pod Security `restricted` (the zone's level)
refuses; our patch adds both, so the operator's pods are admitted. `SecretDelivery` gives one client its VaultAuth (Kubernetes auth with
the client's own ServiceAccount and role) and one VaultStaticSecret per secret; VSO then creates the
Secret in the client's namespace from Vault. Field names checked against hashicorp/vault-secrets-operator
@9b840a5a (v1.4.1): api/v1beta1/vaultauth_types.go, vaultstaticsecret_types.go, vaultconnection_types.go,
common.go (Destination, RolloutRestartTarget); chart/Chart.yaml 1.4.1; pod labels from chart/_helpers.tpl.
"""

from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from components import conventions, defaults, upstream, vendored, vso_chart
from components.errors import ComponentArgsError
from components.intent import Intent
from components.kube import child_opts, metadata
from components.network import Destination
from components.provenance import Provenance
from components.vault_config import VaultClient, secret_path
from components.base import Component, require_args

VSO_API_VERSION = "secrets.hashicorp.com/v1beta1"
SECRET_OPERATOR_TYPE = "cdb:index:SecretOperator"
SECRET_DELIVERY_TYPE = "cdb:index:SecretDelivery"
VSO_CHART = vso_chart.CHART
VSO_HEALTH_PORT = 8081
CONNECTION_NAME = "vault"


def operator_pod_labels(release: str) -> dict[str, str]:
    """The chart's selector labels of the operator pods (what the vault zone admits)."""
    return vso_chart.selector_labels(release)


class SecretOperatorArgs(Intent):
    provenance: Provenance = Field(description="Ownership and origin labels/annotations of every object")
    namespace: str = Field(description="The operator's zone")
    chart_version: str = Field(default="1.4.1", pattern=r"^\d+\.\d+\.\d+$", description="Pinned VSO chart version (vendored)")
    replicas: int = Field(default=2, ge=1, description="Operator replicas (leader election)")
    vault_address: str = Field(description="Vault's in-cluster address, e.g. http://vault.vault.svc.cluster.local:8200")
    vault_egress: Destination = Field(description="The Vault pods and port the operator may reach")
    kubernetes_api: tuple[Destination, ...] = Field(min_length=1, description="API server address(es)")


class SecretOperator(Component):
    """VSO (pinned chart), its egress NetworkPolicy, and the shared VaultConnection."""

    TYPE = SECRET_OPERATOR_TYPE

    def __init__(self, name: str, args: SecretOperatorArgs, opts: pulumi.ResourceOptions | None = None):
        args = require_args(SecretOperatorArgs, args, owner=f"SecretOperator {name!r}")
        super().__init__(name, args.to_plain(), opts)
        ns, prov = args.namespace, args.provenance
        labels = prov.labels(name=VSO_CHART, instance=name, component="secret-operator")
        def meta(object_name: str) -> dict[str, Any]:
            return metadata(object_name, ns, labels, prov.annotations())

        self.network_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol", metadata=meta(name),
            spec={
                "podSelector": {"matchLabels": operator_pod_labels(name)},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [],
                "egress": [args.vault_egress.to_k8s(), *(d.to_k8s() for d in args.kubernetes_api),
                           defaults.dns_egress_rule()],
            },
            opts=child_opts(self))
        self.objects = upstream.register(self, f"{name}-chart", operator_documents(name, args), self.network_policy)
        self.deployment = self.objects[("Deployment", f"{name}-controller-manager")]
        self.connection = k8s.apiextensions.CustomResource(
            f"{name}-connection", api_version=VSO_API_VERSION, kind="VaultConnection", metadata=meta(CONNECTION_NAME),
            spec={"address": args.vault_address, "skipTLSVerify": False}, opts=child_opts(self, *self.objects.values()))
        self.connection_ref = f"{ns}/{CONNECTION_NAME}"
        self.register_outputs({"connectionRef": self.connection_ref})


def operator_documents(name: str, args: SecretOperatorArgs) -> list[dict[str, Any]]:
    """The chart's objects for this release, patched: provenance on every object, Pod Security
    `restricted` on the pods (capabilities dropped, RuntimeDefault seccomp), our resources."""
    pinned = vendored.project(vso_chart.PROJECT)["version"]
    if args.chart_version != pinned:
        raise ComponentArgsError(f"SecretOperator {name!r}: chart_version {args.chart_version!r} is not vendored "
                                 f"(components/vendor/{vso_chart.PROJECT} holds {pinned}); run scripts/vendor-upstream.py refresh "
                                 f"{vso_chart.PROJECT} --ref v{args.chart_version} --version {args.chart_version}")
    prov = args.provenance
    resources = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}
    return upstream.patched(
        vso_chart.documents(name, args.namespace, args.replicas, resources),
        upstream.stamp(prov.labels(name=VSO_CHART, instance=name, component="secret-operator"), prov.annotations(),
                       {conventions.LABEL_WORKLOAD_CLASS: conventions.WORKLOAD_CLASS_SERVICE}),
        upstream.restricted_pods(_probe_proxy),
        _operator_flows(args),
    )


def vault_flow(address: str) -> list[dict[str, Any]]:
    """The manager's flow to Vault's Service, from the in-cluster address (scheme://name.namespace.svc...:port)."""
    host, _, port = address.split("://", 1)[-1].partition(":")
    parts = host.split(".")
    if len(parts) < 3 or parts[2] != "svc":
        return []  # outside the cluster: judged by the egress ipBlocks alone, nothing to declare here
    return [{"service": f"{parts[1]}/{parts[0]}", "port": int(port.split("/")[0] or 8200),
             "purpose": "read secrets from Vault"}]


def _operator_flows(args: SecretOperatorArgs) -> upstream.Patch:
    """The manager's declared flows (the pack's connectivity rule checks them): the API server and Vault."""
    flows = conventions.flows_annotation([{"apiServer": True, "purpose": "watch VSO resources, write Secrets"},
                                          *vault_flow(args.vault_address)])

    def patch(doc: dict[str, Any]) -> dict[str, Any]:
        template = upstream.pod_template(doc)
        if template is not None:
            meta = template.setdefault("metadata", {})
            meta["annotations"] = {**(meta.get("annotations") or {}), **flows}
        return doc
    return patch


def _probe_proxy(container: dict[str, Any]) -> None:
    """kube-rbac-proxy has no probes in the chart; a TCP check on its listener keeps a hung proxy out."""
    if container["name"] == "kube-rbac-proxy":
        for probe in ("livenessProbe", "readinessProbe"):
            container.setdefault(probe, {"tcpSocket": {"port": vso_chart.METRICS_PORT}, "periodSeconds": 10})


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


class SecretDelivery(Component):
    """VaultAuth for the client's ServiceAccount and a VaultStaticSecret per secret, in its namespace."""

    TYPE = SECRET_DELIVERY_TYPE

    def __init__(self, name: str, args: SecretDeliveryArgs, opts: pulumi.ResourceOptions | None = None):
        args = require_args(SecretDeliveryArgs, args, owner=f"SecretDelivery {name!r}")
        super().__init__(name, args.to_plain(), opts)
        client, prov = args.client, args.provenance
        labels = prov.labels(name=client.name, instance=name, component="secret-delivery")
        def meta(object_name: str) -> dict[str, Any]:
            return metadata(object_name, client.namespace, labels, prov.annotations())

        auth_name = f"{client.name}-vault"
        # What the component waits for (the secret operator) each object waits for itself: `pulumi destroy`
        # then deletes these custom resources while the operator still runs and clears its finalizers,
        # which is what the chart's pre-delete cleanup hook exists for (components/vso_chart.py).
        declared = opts.depends_on if opts else None
        listed = declared if isinstance(declared, list) else [declared]
        after = [d for d in listed if isinstance(d, pulumi.Resource)]
        self.auth = k8s.apiextensions.CustomResource(
            f"{name}-auth", api_version=VSO_API_VERSION, kind="VaultAuth", metadata=meta(auth_name),
            spec={
                "vaultConnectionRef": args.connection_ref,
                "method": "kubernetes",
                "mount": args.auth_mount,
                "kubernetes": {"role": client.role, "serviceAccount": client.service_account,
                               "audiences": [args.audience], "tokenExpirationSeconds": 600},
            },
            opts=child_opts(self, *after))
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
                spec=spec, opts=child_opts(self, self.auth, *after))
        self.register_outputs({"secrets": sorted(self.secrets), "role": client.role})
