"""The NACK JetStream controller (jetstream.nats.io), as explicit resources the policy pack can see.

Runs in control-loop mode (`--control-loop`): only that mode serves health probes (`:8081`
`/healthz`, `/readyz`) and it re-applies a stream's declared config when a client changed it, which is
drift correction for streams. It watches only its own namespace (`--namespace`), so a namespaced Role
suffices. Flags and RBAC from nats-io/k8s chart nack 0.34.0 (`templates/deployment-jetstream-controller.yml`,
`values.yaml` rbacRules) and nats-io/nack `cmd/jetstream-controller/main.go`. It has no leader election:
exactly one replica, replaced with Recreate so two controllers never reconcile at once.
"""

from __future__ import annotations

from typing import Any

from components import conventions, defaults
from components.nats import config
from components.nats.args import NackArgs
from components.streams import StreamSpec
from components.types import Probe

HEALTH_PORT = 8081
WORK_DIR = "/nack"
# Kinds the control loop registers a controller for; each must be listable or the manager stalls.
_WATCHED = ("streams", "consumers", "keyvalues", "objectstores", "accounts")


# The kinds the controller serves (what the pack's references rule accepts custom resources of).
PROVIDES_KINDS = {conventions.ANNOTATION_PROVIDES_KINDS: ",".join(
    f"jetstream.nats.io/{kind}" for kind in ("Stream", "Consumer", "KeyValue", "ObjectStore", "Account"))}


def client_url(name: str, namespace: str, cluster_domain: str = "cluster.local") -> str:
    return f"nats://{name}.{namespace}.svc.{cluster_domain}:{config.CLIENT_PORT}"


def role_rules() -> list[dict[str, Any]]:
    resources = [kind for watched in _WATCHED for kind in (watched, f"{watched}/status")]
    return [
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "update", "patch"]},
        {"apiGroups": ["jetstream.nats.io"], "resources": resources,
         "verbs": ["get", "list", "watch", "update", "patch"]},
    ]  # fmt: skip


def deployment_spec(
    name: str, namespace: str, server_url: str, args: NackArgs, selector: dict[str, str], pod_labels: dict[str, str]
) -> dict[str, Any]:
    container = {
        "name": "jsc",
        "image": args.image.to_k8s(),
        "imagePullPolicy": defaults.IMAGE_PULL_POLICY,
        "command": ["/jetstream-controller"],
        "args": [
            f"-s={server_url}",
            f"--namespace={namespace}",
            "--control-loop",
            f"--health-probe-bind-address=:{HEALTH_PORT}",
            f"--cache-dir={WORK_DIR}/cache",
        ],
        "workingDir": WORK_DIR,
        "ports": [{"name": "health", "containerPort": HEALTH_PORT, "protocol": "TCP"}],
        "env": [
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        ],
        "resources": args.resources.to_k8s(),
        "livenessProbe": Probe.http_get("/healthz", "health", initial_delay_seconds=15, period_seconds=20).to_k8s(),
        "readinessProbe": Probe.http_get("/readyz", "health", initial_delay_seconds=5).to_k8s(),
        "securityContext": defaults.container_security_context(),
        "volumeMounts": [{"name": "work", "mountPath": WORK_DIR}, {"name": "tmp", "mountPath": "/tmp"}],
    }
    scratch = {"sizeLimit": defaults.EMPTY_DIR_SIZE_LIMIT}
    return {
        "replicas": 1,
        "revisionHistoryLimit": defaults.REVISION_HISTORY_LIMIT,
        "selector": {"matchLabels": dict(selector)},
        "strategy": {"type": "Recreate"},
        "template": {
            "metadata": {"labels": dict(pod_labels)},
            "spec": {
                "serviceAccountName": name,
                # The controller reads and updates its CRs: it needs its API token.
                "automountServiceAccountToken": True,
                "enableServiceLinks": defaults.ENABLE_SERVICE_LINKS,
                "securityContext": defaults.pod_security_context(),
                "terminationGracePeriodSeconds": defaults.TERMINATION_GRACE_PERIOD_SECONDS,
                "containers": [container],
                "volumes": [{"name": "work", "emptyDir": dict(scratch)}, {"name": "tmp", "emptyDir": dict(scratch)}],
            },
        },
    }


def network_policy_spec(args: NackArgs, selector: dict[str, str], server_selector: dict[str, str]) -> dict[str, Any]:
    """No ingress (the kubelet probes); egress to the NATS servers, the API server and DNS only."""
    to_servers = {"to": [{"podSelector": {"matchLabels": dict(server_selector)}}],
                  "ports": [{"protocol": "TCP", "port": config.CLIENT_PORT}]}  # fmt: skip
    return {
        "podSelector": {"matchLabels": dict(selector)},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [],
        "egress": [to_servers, *[dest.to_k8s() for dest in args.api_server], defaults.dns_egress_rule()],
    }


def stream_cr_spec(spec: StreamSpec) -> dict[str, Any]:
    """The Stream CR's spec: StreamSpec's own NACK form, plus NACK's lifecycle guard.

    A stream whose events may not be deleted one by one may not vanish with its CR either:
    `preventDelete` keeps it on the server when the resource is removed (nack deploy/crds.yml v1beta2).
    """
    return {**spec.to_nack_spec(), "preventDelete": spec.deny_delete}
