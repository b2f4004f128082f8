"""StatelessService: a Deployment that is compliant by construction, with its Service, ServiceAccount,
PodDisruptionBudget and NetworkPolicy.

Secure defaults come from `components.defaults`; the arguments (see `service_args`) make probes,
resources and a pinned image mandatory and keep AI workloads away from every secret.
"""

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import conventions, defaults
from components.kube import check_name, child_opts, metadata
from components.service_args import StatelessServiceArgs, service_name
from components.base import Component, require_args

__all__ = ["StatelessService", "StatelessServiceArgs"]


def _volumes(args: StatelessServiceArgs) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Pod volumes and the container's read-only (config) or writable (emptyDir) mounts."""
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    for index, source in enumerate(args.config_volumes):
        volumes.append(source.volume(f"config-{index}"))
        mounts.append({"name": f"config-{index}", "mountPath": source.mount_path, "readOnly": True})
    for index, secret in enumerate(args.secret_volumes):
        volumes.append(secret.volume(f"secret-{index}"))
        mounts.append({"name": f"secret-{index}", "mountPath": secret.mount_path, "readOnly": True})
    for index, path in enumerate(args.writable_paths):
        volumes.append({"name": f"writable-{index}", "emptyDir": {"sizeLimit": defaults.EMPTY_DIR_SIZE_LIMIT}})
        mounts.append({"name": f"writable-{index}", "mountPath": path})
    return volumes, mounts


def container(name: str, args: StatelessServiceArgs, mounts: list[dict[str, Any]]) -> dict[str, Any]:
    """The one container of the service, with probes, resources and the restricted securityContext."""
    spec: dict[str, Any] = {
        "name": name,
        "image": args.image.to_k8s(),
        "imagePullPolicy": defaults.IMAGE_PULL_POLICY,
        "ports": [{"name": args.port_name, "containerPort": args.port, "protocol": "TCP"}],
        "resources": args.resources.to_k8s(),
        "livenessProbe": args.liveness.to_k8s(),
        "readinessProbe": args.readiness.to_k8s(),
        "securityContext": defaults.container_security_context(),
    }
    optional = {
        "env": [var.to_k8s() for var in args.env],
        "envFrom": [*(ref.to_k8s() for ref in args.env_from_config_maps), *(ref.to_k8s() for ref in args.env_from_secrets)],
        "volumeMounts": mounts,
        "command": list(args.command or ()),
        "args": list(args.container_args or ()),
    }
    spec.update({key: value for key, value in optional.items() if value})
    if args.startup is not None:
        spec["startupProbe"] = args.startup.to_k8s()
    return spec


def declared_flows(args: StatelessServiceArgs) -> list[dict[str, Any]]:
    """The service's egress destinations as declared flows (the pack checks the destination admits them too)."""
    flows: list[dict[str, Any]] = []
    for dest in args.egress_to:
        if dest.cidr is not None:
            target: dict[str, Any] = {"cidr": dest.cidr}
        elif dest.pod_labels:
            target = {"pods": {"namespace": dest.namespace or args.namespace, "matchLabels": dict(dest.pod_labels)}}
        else:
            continue  # a whole namespace names no destination pod to check
        flows += [{**target, "port": port, "protocol": dest.protocol, "purpose": "egress"} for port in dest.ports]
    return flows


def network_policy_spec(args: StatelessServiceArgs, selector: dict[str, str]) -> dict[str, Any]:
    """Ingress to the container port from the named sources only; egress to named destinations and DNS."""
    ingress = []
    if args.ingress_from:
        ingress.append(
            {"from": [peer.to_k8s() for peer in args.ingress_from], "ports": [{"protocol": "TCP", "port": args.port}]}
        )
    return {
        "podSelector": {"matchLabels": dict(selector)},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": ingress,
        "egress": [dest.to_k8s() for dest in args.egress_to] + [defaults.dns_egress_rule()],
    }


class StatelessService(Component):
    """ServiceAccount, Deployment, ClusterIP Service, PodDisruptionBudget and NetworkPolicy of one service."""

    TYPE = conventions.STATELESS_SERVICE_TYPE

    def __init__(
        self, name: str, args: StatelessServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        owner = f"StatelessService {name!r}"
        args = require_args(StatelessServiceArgs, args, owner=owner)
        check_name(owner, "name", name, service_name)
        super().__init__(name, args.to_plain(), opts)

        ns = args.namespace
        app = args.app_name or name
        labels = args.provenance.labels(name=app, instance=name, component=args.role, workload_class=args.workload_class)
        annotations = args.provenance.annotations()
        selector = {conventions.LABEL_NAME: app, conventions.LABEL_INSTANCE: name}

        def meta() -> dict[str, Any]:
            return metadata(name, ns, labels, annotations)

        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=meta(),
            automount_service_account_token=args.automount_service_account_token,
            opts=child_opts(self),
        )
        volumes, mounts = _volumes(args)
        pod_spec = {
            "serviceAccountName": name,
            "automountServiceAccountToken": args.automount_service_account_token,
            "enableServiceLinks": defaults.ENABLE_SERVICE_LINKS,
            "securityContext": defaults.pod_security_context(),
            "terminationGracePeriodSeconds": args.termination_grace_period_seconds,
            "containers": [container(name, args, mounts)],
        }
        if volumes:
            pod_spec["volumes"] = volumes
        # Provenance annotations stay off the pod template: a new git revision on every commit would
        # otherwise restart every pod of every service.
        template_meta: dict[str, Any] = {"labels": dict(labels)}
        flows = declared_flows(args)
        if args.pod_annotations or flows:
            template_meta["annotations"] = {**(conventions.flows_annotation(flows) if flows else {}),
                                            **dict(args.pod_annotations or {})}
        self.deployment = k8s.apps.v1.Deployment(
            name,
            metadata=meta(),
            spec={
                "replicas": args.replicas,
                "revisionHistoryLimit": defaults.REVISION_HISTORY_LIMIT,
                "selector": {"matchLabels": dict(selector)},
                "strategy": defaults.rolling_update(),
                "template": {"metadata": template_meta, "spec": pod_spec},
            },
            opts=child_opts(self, self.service_account),
        )
        self.service = k8s.core.v1.Service(
            f"{name}-svc",
            metadata=meta(),
            spec={
                "type": "ClusterIP",
                "selector": dict(selector),
                "ports": [
                    {"name": args.port_name, "port": args.effective_service_port, "targetPort": args.port_name, "protocol": "TCP"}
                ],
            },
            opts=child_opts(self),
        )
        self.pdb = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb", metadata=meta(), spec=defaults.pdb_spec(args.replicas, selector), opts=child_opts(self)
        )
        self.network_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol", metadata=meta(), spec=network_policy_spec(args, selector), opts=child_opts(self)
        )
        self.host = f"{name}.{ns}.svc.cluster.local"
        self.port = args.effective_service_port
        self.register_outputs({"serviceName": name, "namespace": ns, "host": self.host, "port": self.port})
