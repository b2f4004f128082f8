"""The NATS server objects as plain Kubernetes specs: StatefulSet, Services, PDB and NetworkPolicies.

Pure functions over the validated arguments; `component.py` registers them. Probes follow the upstream
chart (nats-io/k8s `files/stateful-set/nats-container.yaml`): startup `/healthz`, readiness
`/healthz?js-server-only=true`, liveness `/healthz?js-enabled-only=true`, all on the monitor port.
"""

from __future__ import annotations

from typing import Any

from components import conventions, defaults, quantity
from components.nats import config
from components.nats.args import NatsJetStreamArgs
from components.platform import Volume
from components.types import Probe

PLATFORM_STATE_KIND = "event-bus"
DATA_VOLUME = "data"
TOPOLOGY_KEY = "kubernetes.io/hostname"
PID_DIR_SIZE = "16Mi"


def probes() -> dict[str, dict[str, Any]]:
    monitor = "monitor"
    return {
        "startupProbe": Probe.http_get("/healthz", monitor, period_seconds=10, timeout_seconds=5, failure_threshold=90).to_k8s(),
        "readinessProbe": Probe.http_get("/healthz?js-server-only=true", monitor, timeout_seconds=5).to_k8s(),
        "livenessProbe": Probe.http_get("/healthz?js-enabled-only=true", monitor, timeout_seconds=5).to_k8s(),
    }


def go_mem_limit(args: NatsJetStreamArgs) -> str:
    """About 80% of the memory limit, so the Go GC works before the kernel OOM-kills (upstream advice)."""
    limit = int(quantity.parse_quantity(str(args.resources.memory_limit)))
    return f"{limit * 8 // 10 // (1024 * 1024)}MiB"


def container(args: NatsJetStreamArgs) -> dict[str, Any]:
    return {
        "name": "nats",
        "image": args.image.to_k8s(),
        "imagePullPolicy": defaults.IMAGE_PULL_POLICY,
        "command": ["nats-server", "--config", f"{config.CONFIG_DIR}/{config.CONFIG_FILE}"],
        "ports": [
            {"name": "client", "containerPort": config.CLIENT_PORT, "protocol": "TCP"},
            {"name": "cluster", "containerPort": config.CLUSTER_PORT, "protocol": "TCP"},
            {"name": "monitor", "containerPort": config.MONITOR_PORT, "protocol": "TCP"},
        ],
        "env": [
            {"name": config.SERVER_NAME_ENV, "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "GOMEMLIMIT", "value": go_mem_limit(args)},
        ],
        "resources": args.resources.to_k8s(),
        **probes(),
        # Lame-duck mode moves clients away before the pod stops.
        "lifecycle": {"preStop": {"exec": {"command": ["nats-server", f"-sl=ldm={config.PID_FILE}"]}}},
        "securityContext": defaults.container_security_context(),
        "volumeMounts": [
            {"name": "config", "mountPath": config.CONFIG_DIR, "readOnly": True},
            {"name": DATA_VOLUME, "mountPath": config.DATA_DIR},
            {"name": "pid", "mountPath": config.PID_DIR},
        ],
    }


def exporter_container(args: NatsJetStreamArgs) -> dict[str, Any]:
    """The exporter beside each server (upstream chart: `promExporter`), reading only localhost:8222."""
    flags = [f"-port={config.EXPORTER_PORT}", "-connz", "-routez", "-subz", "-varz", "-healthz", "-jsz=all",
             "-prefix=nats", "-use_internal_server_id"]
    return {
        "name": "exporter",
        "image": args.exporter.image.to_k8s(),
        "imagePullPolicy": defaults.IMAGE_PULL_POLICY,
        "args": [*flags, f"http://localhost:{config.MONITOR_PORT}/"],
        "ports": [{"name": "prom-metrics", "containerPort": config.EXPORTER_PORT, "protocol": "TCP"}],
        "resources": args.exporter.resources.to_k8s(),
        "livenessProbe": Probe.tcp("prom-metrics").to_k8s(),
        "readinessProbe": Probe.tcp("prom-metrics").to_k8s(),
        "securityContext": defaults.container_security_context(),
    }


def stateful_set_spec(
    name: str, args: NatsJetStreamArgs, selector: dict[str, str], labels: dict[str, str], annotations: dict[str, str],
    config_hash: str,
) -> dict[str, Any]:
    """`labels` carry the platform-state class; `annotations` the provenance (claims get both)."""
    pod_spec: dict[str, Any] = {
        "serviceAccountName": name,
        "automountServiceAccountToken": False,
        "enableServiceLinks": defaults.ENABLE_SERVICE_LINKS,
        "securityContext": defaults.pod_security_context(),
        "terminationGracePeriodSeconds": config.LAME_DUCK_DURATION_SECONDS + config.LAME_DUCK_GRACE_SECONDS + 20,
        "containers": [container(args), exporter_container(args)],
        "volumes": [
            {"name": "config", "configMap": {"name": f"{name}-config", "defaultMode": defaults.CONFIG_FILE_MODE}},
            {"name": "pid", "emptyDir": {"sizeLimit": PID_DIR_SIZE}},
        ],
    }
    if args.replicas > 1:
        # One server per node: losing a node then costs one RAFT member, never the quorum.
        pod_spec["topologySpreadConstraints"] = [
            {"maxSkew": 1, "topologyKey": TOPOLOGY_KEY, "whenUnsatisfiable": "DoNotSchedule",
             "labelSelector": {"matchLabels": dict(selector)}}
        ]  # fmt: skip
    claim = Volume(name=DATA_VOLUME, mount_path=config.DATA_DIR, size=args.storage_size, storage_class=args.storage_class)
    pod_annotations = {"cdb-infra.io/config-hash": config_hash}
    if args.replicas > 1:  # the servers' cluster routes, for the pack's connectivity rule
        pod_annotations.update(conventions.flows_annotation([
            {"pods": {"namespace": args.namespace, "matchLabels": dict(selector)}, "port": "cluster",
             "purpose": "cluster routes"}]))
    return {
        "serviceName": config.headless_service(name),
        "replicas": args.replicas,
        # Servers must start together to form the cluster; order brings nothing to a RAFT group.
        "podManagementPolicy": "Parallel",
        "revisionHistoryLimit": defaults.REVISION_HISTORY_LIMIT,
        "selector": {"matchLabels": dict(selector)},
        "updateStrategy": {"type": "RollingUpdate"},
        "template": {
            "metadata": {"labels": dict(labels), "annotations": pod_annotations},
            "spec": pod_spec,
        },
        "volumeClaimTemplates": [claim.claim_template(labels, annotations)],
        # Scaling down or deleting the set keeps the event log; removing it is a deliberate act.
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
    }


def headless_service_spec(selector: dict[str, str]) -> dict[str, Any]:
    return {
        "clusterIP": "None",
        "publishNotReadyAddresses": True,  # routes must resolve before the peers are ready
        "selector": dict(selector),
        "ports": [
            {"name": "client", "port": config.CLIENT_PORT, "targetPort": "client", "protocol": "TCP"},
            {"name": "cluster", "port": config.CLUSTER_PORT, "targetPort": "cluster", "protocol": "TCP"},
            {"name": "monitor", "port": config.MONITOR_PORT, "targetPort": "monitor", "protocol": "TCP"},
            {"name": "prom-metrics", "port": config.EXPORTER_PORT, "targetPort": "prom-metrics", "protocol": "TCP"},
        ],
    }


def client_service_spec(selector: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "ClusterIP",
        "selector": dict(selector),
        "ports": [{"name": "nats", "port": config.CLIENT_PORT, "targetPort": "client", "protocol": "TCP"}],
    }


def pdb_spec(replicas: int, selector: dict[str, str]) -> dict[str, Any]:
    """At most one server down at a time: a 3-node RAFT group keeps its quorum through a drain."""
    spec: dict[str, Any] = {"selector": {"matchLabels": dict(selector)}, "maxUnavailable": 1}
    # Evicting an unhealthy member of a healthy group is safe; of a degraded group it may cost the quorum.
    spec["unhealthyPodEvictionPolicy"] = "IfHealthyBudget" if replicas > 1 else "AlwaysAllow"
    return spec


def server_network_policy_spec(
    args: NatsJetStreamArgs, selector: dict[str, str], controller_selector: dict[str, str]
) -> dict[str, Any]:
    """Clients from the named zones and the controller on 4222, routes between servers on 6222,
    the exporter port for the named scrapers only (the exporter reads the monitor port on localhost, so
    8222 stays closed); egress only to the other servers (and DNS)."""
    own = {"podSelector": {"matchLabels": dict(selector)}}
    clients = [peer.to_k8s() for peer in args.client_from] + [{"podSelector": {"matchLabels": dict(controller_selector)}}]
    ingress = [
        {"from": clients, "ports": [{"protocol": "TCP", "port": config.CLIENT_PORT}]},
        {"from": [own], "ports": [{"protocol": "TCP", "port": config.CLUSTER_PORT}]},
    ]
    if args.monitor_from:
        ingress.append(
            {"from": [peer.to_k8s() for peer in args.monitor_from], "ports": [{"protocol": "TCP", "port": config.EXPORTER_PORT}]}
        )
    return {
        "podSelector": {"matchLabels": dict(selector)},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": ingress,
        "egress": [{"to": [own], "ports": [{"protocol": "TCP", "port": config.CLUSTER_PORT}]}, defaults.dns_egress_rule()],
    }


def platform_state_annotations() -> dict[str, str]:
    return {conventions.ANNOTATION_PLATFORM_STATE: PLATFORM_STATE_KIND}
