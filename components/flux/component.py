"""Flux: GitOps reconcile of the rendered manifests, drift corrected every few minutes, every event audited.

The Flux Operator comes from its pinned upstream Helm chart (a remote component: an offline preview
cannot expand it; `pulumi preview` does). Everything that carries policy is an explicit custom
resource the pack sees: the FluxInstance (pinned Flux version), the GitRepository and Kustomization
(intervals, prune, never suspended), and the notification Provider and Alert (every Flux kind at info
severity into the JetStream audit stream).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import conventions
from components.flux import specs
from components.flux.args import FluxArgs
from components.kube import child_opts, metadata
from components.stamping import provenance_transform

FLUX_TYPE = "cdb:index:Flux"
ROLE = "gitops"
OPERATOR_RELEASE = "flux-operator"
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


class Flux(pulumi.ComponentResource):
    """The Flux Operator, a pinned FluxInstance, the Git sync of one path, and the audit alert."""

    namespace_name: str

    def __init__(self, name: str, args: FluxArgs | dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        args = FluxArgs.parse(args, owner=f"Flux {name!r}")
        super().__init__(FLUX_TYPE, name, args.to_plain(), opts)
        ns = self.namespace_name = args.namespace
        labels = args.provenance.labels(name="flux", instance=name, component=ROLE)
        annotations = args.provenance.annotations()

        def cr(suffix: str, api_version: str, kind: str, object_name: str, spec: dict[str, Any], *after, extra=None):
            return k8s.apiextensions.CustomResource(
                f"{name}-{suffix}",
                api_version=api_version,
                kind=kind,
                metadata=metadata(object_name, ns, labels, {**annotations, **(extra or {})}),
                spec=spec,
                opts=child_opts(self, *after),
            )

        self.operator = k8s.helm.v4.Chart(
            f"{name}-operator",
            chart=args.operator_chart,
            version=args.operator_chart_version,
            name=OPERATOR_RELEASE,
            namespace=ns,
            opts=pulumi.ResourceOptions.merge(
                child_opts(self),
                pulumi.ResourceOptions(transforms=[provenance_transform(args.provenance, OPERATOR_RELEASE, ROLE)]),
            ),
        )
        self.instance = cr(
            "instance", specs.OPERATOR_API_VERSION, "FluxInstance", specs.INSTANCE_NAME,
            specs.flux_instance_spec(
                args.flux_version, args.registry, args.artifact, args.components, args.cluster_size,
                common_annotations=annotations, common_labels={k: v for k, v in labels.items() if "managed-by" not in k},
            ),
            self.operator,
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
