"""Flux: GitOps reconcile of the rendered manifests, drift corrected every few minutes, every event audited.

The Flux Operator comes from its pinned upstream install.yaml (components/vendor/flux-operator/<version>), each
object registered as a typed resource the offline preview shows and the pack judges; our patches add
provenance, the zone's namespace and the restricted pod security context. Everything that carries
policy is an explicit custom resource: the FluxInstance (pinned Flux version), the GitRepository and
Kustomization (intervals, prune, never suspended), and the notification Provider and Alert.

Bootstrap order: the zone's default-deny exists before the operator starts, and the `allow-egress`
policy of the Flux distribution (flux-operator config/data/flux/<v>/policies.yaml) is installed by the
operator itself, after it has reached the API server and pulled the distribution artifact from its
OCI registry. So the component installs the operator's own egress first (API server endpoints, the
registry on 443, DNS), and every operator object waits for it: nothing waits on itself.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import conventions, defaults, upstream, vendored
from components.flux import specs
from components.flux.args import PRIVATE_NETWORKS, FluxArgs
from components.kube import child_opts, metadata
from components.base import Component, require_args

FLUX_TYPE = "cdb:index:Flux"
ROLE = "gitops"
OPERATOR_NAME = "flux-operator"
OPERATOR_POD_LABELS = {conventions.LABEL_NAME: OPERATOR_NAME}  # install.yaml's selector
OPERATOR_EGRESS_POLICY = "flux-operator-bootstrap"
CONTROLLERS_EGRESS_POLICY = "flux-controllers-egress"
SSH_PORT = 22
HTTPS_PORT = 443
PROVIDER_NAME = "audit-nats"
ALERT_NAME = "flux-audit"
# flux-operator docs/api/v1/fluxinstance.md: how often the operator re-applies the Flux installation
# itself (default 1h); held to the same bound as every other reconcile.
RECONCILE_EVERY = "fluxcd.controlplane.io/reconcileEvery"
RECONCILE_TIMEOUT = "fluxcd.controlplane.io/reconcileTimeout"


def _sink_flow(address: str) -> list[dict[str, Any]]:
    """notification-controller's flow to an in-cluster NATS Service (nats://<name>.<namespace>.svc...:<port>)."""
    host, _, port = address.split("://", 1)[1].partition(":")
    parts = host.split(".")
    if len(parts) < 3 or parts[2] != "svc":
        return []  # outside the cluster: no NetworkPolicy of the stack is involved beyond egress
    return [{"service": f"{parts[1]}/{parts[0]}", "port": int(port or 4222), "component": "notification-controller",
             "purpose": "send audit events"}]


class Flux(Component):
    """The Flux Operator, a pinned FluxInstance, the Git sync of one path, and the audit alert."""

    TYPE = FLUX_TYPE

    namespace_name: str

    def __init__(self, name: str, args: FluxArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = require_args(FluxArgs, args, owner=f"Flux {name!r}")
        super().__init__(name, args.to_plain(), opts)
        ns = self.namespace_name = args.namespace
        labels = args.provenance.labels(name="flux", instance=name, component=ROLE)
        annotations = args.provenance.annotations()

        def cr(suffix: str, api_version: str, kind: str, object_name: str, spec: dict[str, Any], *after: pulumi.Resource,
               extra: dict[str, str] | None = None) -> k8s.apiextensions.CustomResource:
            return k8s.apiextensions.CustomResource(
                f"{name}-{suffix}",
                api_version=api_version,
                kind=kind,
                metadata=metadata(object_name, ns, labels, {**annotations, **(extra or {})}),
                spec=spec,
                opts=child_opts(self, *after),
            )

        self.operator_egress = k8s.networking.v1.NetworkPolicy(
            f"{name}-operator-egress",
            metadata=metadata(OPERATOR_EGRESS_POLICY, ns, labels, annotations),
            spec=operator_egress_spec(args),
            opts=child_opts(self),
        )
        # The controllers the operator creates need the same before the distribution's own policies
        # exist (and the pack does not count those: an operator's policy cannot open its own bootstrap).
        self.controllers_egress = k8s.networking.v1.NetworkPolicy(
            f"{name}-controllers-egress",
            metadata=metadata(CONTROLLERS_EGRESS_POLICY, ns, labels, annotations),
            spec=controllers_egress_spec(args),
            opts=child_opts(self),
        )
        self.operator_objects = upstream.register(
            self, f"{name}-operator", operator_documents(args), self.operator_egress, self.controllers_egress)
        self.operator = self.operator_objects[("Deployment", OPERATOR_NAME)]
        self.instance = cr(
            "instance", specs.OPERATOR_API_VERSION, "FluxInstance", specs.INSTANCE_NAME,
            specs.flux_instance_spec(
                args.flux_version, args.registry, args.artifact, args.components, args.cluster_size,
                common_annotations=annotations, common_labels={k: v for k, v in labels.items() if "managed-by" not in k},
            ),
            *self.operator_objects.values(),
            # The flows every controller the operator creates needs (checked by the pack's connectivity rule).
            extra={RECONCILE_EVERY: args.interval, RECONCILE_TIMEOUT: args.timeout, **conventions.flows_annotation(
                [{"apiServer": True, "purpose": "reconcile Flux resources"}, *_sink_flow(args.audit_address)])},
        )
        self.source = cr(
            "source", specs.SOURCE_API_VERSION, "GitRepository", args.source_name,
            specs.git_repository_spec(
                args.url, args.branch, args.source_interval, args.timeout, args.git_secret_name, ignore=None
            ),
            self.instance,
        )
        self.sync = cr(
            "sync", specs.KUSTOMIZE_API_VERSION, "Kustomization", args.source_name,
            specs.kustomization_spec(
                args.source_name, args.path, args.interval, args.retry_interval, args.timeout, args.wait
            ),
            self.source,
        )
        self.provider = cr(
            "provider", specs.NOTIFICATION_API_VERSION, "Provider", PROVIDER_NAME,
            specs.nats_provider_spec(args.audit_address, args.audit_subject, args.audit_secret_name),
            self.instance,
        )
        self.alert = cr(
            "alert", specs.NOTIFICATION_API_VERSION, "Alert", ALERT_NAME,
            specs.alert_spec(PROVIDER_NAME, args.watched_namespaces()),
            self.provider,
        )
        self.register_outputs({"namespace": ns, "path": args.path, "auditSubject": args.audit_subject})


def operator_documents(args: FluxArgs) -> list[dict[str, Any]]:
    """The vendored install.yaml, patched: the namespace is our zone (not upstream's), every object
    carries our provenance, the pod runs under Pod Security `restricted` with bounded scratch space."""
    prov = args.provenance
    docs = vendored.vendored("flux-operator", "install.yaml").documents()
    return upstream.patched(
        docs,
        upstream.drop_kinds("Namespace"),
        upstream.in_namespace(args.namespace),
        upstream.stamp(prov.labels(name=OPERATOR_NAME, instance=OPERATOR_NAME, component=ROLE), prov.annotations(),
                       {conventions.LABEL_WORKLOAD_CLASS: conventions.WORKLOAD_CLASS_SERVICE}),
        upstream.restricted_pods(),
        upstream.bounded_scratch(defaults.EMPTY_DIR_SIZE_LIMIT),
    )


def operator_egress_spec(args: FluxArgs) -> dict[str, Any]:
    """What the operator needs before any policy of its own exists: the API server (its endpoint
    addresses and port, as CNIs see it after service translation), the distribution's OCI registry
    over HTTPS, and DNS. Ingress stays denied (the kubelet's probes are not subject to policies)."""
    registry = [{"ipBlock": {"cidr": cidr, **({"except": list(PRIVATE_NETWORKS)} if cidr == "0.0.0.0/0" else {})}}
                for cidr in args.registry_networks]
    return {
        "podSelector": {"matchLabels": dict(OPERATOR_POD_LABELS)},
        "policyTypes": ["Egress"],
        "egress": [
            *(dest.to_k8s() for dest in args.kubernetes_api),
            {"to": registry, "ports": [{"protocol": "TCP", "port": HTTPS_PORT}]},
            defaults.dns_egress_rule(),
        ],
    }


def controllers_egress_spec(args: FluxArgs) -> dict[str, Any]:
    """Egress of the Flux controllers (selected by their component label, which upstream sets on each):
    the API server's endpoints, the Git source and OCI artifacts over HTTPS (SSH too for an ssh:// URL)
    in the registry networks, and DNS. The audit sink to NATS has its own client policy."""
    registry = [{"ipBlock": {"cidr": cidr, **({"except": list(PRIVATE_NETWORKS)} if cidr == "0.0.0.0/0" else {})}}
                for cidr in args.registry_networks]
    ports = [{"protocol": "TCP", "port": HTTPS_PORT}]
    if args.url.startswith(("ssh://", "git@")):
        ports.append({"protocol": "TCP", "port": SSH_PORT})
    selector = {"matchExpressions": [
        {"key": conventions.LABEL_COMPONENT, "operator": "In", "values": sorted(args.components)}]}
    return {
        "podSelector": selector,
        "policyTypes": ["Egress"],
        "egress": [
            *(dest.to_k8s() for dest in args.kubernetes_api),
            {"to": registry, "ports": ports},
            defaults.dns_egress_rule(),
        ],
    }
