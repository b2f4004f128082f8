"""One passing and at least one failing resource for every policy in the pack.

test_policy_cases.py demands this table covers every policy in POLICIES, so a new policy cannot be
registered without a case that shows it both accepting and rejecting a resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .fixtures import (
    DIGEST, PLATFORM_STATE_METADATA, container, deployment, pod_spec, volume_claim_template, workload,
)
from .objects import ai_workload, break_glass, iso, obj, stream


@dataclass(frozen=True)
class Case:
    label: str
    resource: tuple[str, dict[str, Any]]
    expect: str = ""  # for failing cases: a fragment the violation message must contain


CASES: dict[str, dict[str, list[Case]]] = {
    "k8s-probes-required": {
        "pass": [Case("deployment with both probes", deployment()),
                 Case("job without probes", workload("Job", pod_spec(container(probes=False))))],
        "fail": [Case("deployment without liveness", deployment(container(livenessProbe=None)),
                      'spec.template.spec.containers[0] (name "web"): livenessProbe is missing; add an '
                      "httpGet/tcpSocket/grpc/exec probe")],
    },
    "k8s-resources-required": {
        "pass": [Case("deployment with requests and limits", deployment())],
        "fail": [Case("container without memory limit",
                      deployment(container(resources={"requests": {"cpu": "100m", "memory": "64Mi"},
                                                      "limits": {"cpu": "200m"}})),
                      'containers[0] (name "web"): resources.limits.memory missing')],
    },
    "k8s-stateless-workloads": {
        "pass": [Case("declared platform state with claim templates",
                      workload("StatefulSet", metadata=PLATFORM_STATE_METADATA,
                               volumeClaimTemplates=[volume_claim_template()]))],
        "fail": [Case("service statefulset with claim templates",
                      workload("StatefulSet", volumeClaimTemplates=[volume_claim_template()]),
                      'spec.volumeClaimTemplates[0] (name "data"): StatefulSet claims persistent storage')],
    },
    "k8s-allowed-volume-kinds": {
        "pass": [Case("config, secret and scratch volumes", deployment(volumes=[
            {"name": "c", "configMap": {"name": "c"}}, {"name": "s", "secret": {"secretName": "s"}},
            {"name": "t", "emptyDir": {}}]))],
        "fail": [Case("hostPath volume", deployment(volumes=[{"name": "host", "hostPath": {"path": "/var"}}]),
                      'spec.template.spec.volumes[0] (name "host"): volume kind hostPath is not allowed')],
    },
    "k8s-no-node-pinning": {
        "pass": [Case("zone selector", deployment(nodeSelector={"topology.kubernetes.io/zone": "a"}))],
        "fail": [Case("hostname selector", deployment(nodeSelector={"kubernetes.io/hostname": "node-1"}),
                      'spec.template.spec.nodeSelector["kubernetes.io/hostname"] pins the pod to one node')],
    },
    "k8s-pss-host-isolation": {
        "pass": [Case("pod network only", deployment())],
        "fail": [Case("host network", deployment(hostNetwork=True),
                      "spec.template.spec.hostNetwork is true")],
    },
    "k8s-pss-no-privilege": {
        "pass": [Case("unprivileged, drop ALL", deployment())],
        "fail": [Case("privileged container", deployment(container(securityContext={
            "privileged": True, "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}})),
            'containers[0] (name "web"): securityContext.privileged is true')],
    },
    "k8s-pss-run-as-non-root": {
        "pass": [Case("pod-level runAsNonRoot", deployment())],
        "fail": [Case("root user in container", deployment(container(securityContext={
            "runAsUser": 0, "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}})),
            'containers[0] (name "web"): securityContext.runAsUser is 0 (root)')],
    },
    "k8s-pss-seccomp": {
        "pass": [Case("pod-level RuntimeDefault", deployment())],
        "fail": [Case("unconfined container", deployment(container(securityContext={
            "seccompProfile": {"type": "Unconfined"}, "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]}})),
            'containers[0] (name "web"): securityContext.seccompProfile.type is "Unconfined"')],
    },
    "k8s-pss-kernel-hardening": {
        "pass": [Case("safe sysctl", deployment(securityContext={
            "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"},
            "sysctls": [{"name": "net.ipv4.tcp_syncookies", "value": "1"}]}))],
        "fail": [Case("unsafe sysctl", deployment(securityContext={
            "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"},
            "sysctls": [{"name": "kernel.msgmax", "value": "65536"}]}),
            'spec.template.spec.securityContext.sysctls[0]: sysctl "kernel.msgmax" is not namespaced-safe')],
    },
    "k8s-image-pinned": {
        "pass": [Case("digest image", deployment(container(image=f"registry.example:5000/web@{DIGEST}")))],
        "fail": [Case("registry port without tag", deployment(container(image="registry.example:5000/web")),
                      'containers[0] (name "web"): image "registry.example:5000/web" has no tag')],
    },
    "k8s-provenance-metadata": {
        "pass": [Case("deployment with provenance", deployment())],
        "fail": [Case("config map without git revision", ("kubernetes:core/v1:ConfigMap", {
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {
                "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/component": "config"}}}),
            'metadata.annotations["cdb-infra.io/git-revision"] is missing')],
    },
    "gitops-no-reconcile-opt-out": {
        "pass": [Case("plain deployment", deployment())],
        "fail": [Case("reconcile disabled", deployment(metadata={"name": "web", "annotations": {
            "kustomize.toolkit.fluxcd.io/reconcile": "disabled"}}),
            'metadata.annotations["kustomize.toolkit.fluxcd.io/reconcile"] is "disabled": the object opts out')],
    },
    "flux-reconcile-interval": {
        "pass": [Case("git repository every 1m30s", obj("GitRepository", "p", "flux-system",
                                                     spec={"url": "https://g/x.git", "interval": "1m30s"}))],
        "fail": [Case("git repository every 10m", obj("GitRepository", "p", "flux-system",
                                                       spec={"url": "https://g/x.git", "interval": "10m"}),
                      'spec.interval is "10m" (10m), above the policy\'s 5m')],
    },
    "flux-kustomization-prune": {
        "pass": [Case("prune on", obj("Kustomization", "p", "flux-system", spec={"interval": "5m", "prune": True}))],
        "fail": [Case("prune off", obj("Kustomization", "p", "flux-system", spec={"interval": "5m", "prune": False}),
                  "spec.prune is false; set prune: true")],
    },
    "flux-helmrelease-drift-detection": {
        "pass": [Case("drift detection enabled", obj("HelmRelease", "r", "flux-system", spec={
            "interval": "5m", "driftDetection": {"mode": "enabled"}}))],
        "fail": [Case("drift detection warn", obj("HelmRelease", "r", "flux-system", spec={
            "interval": "5m", "driftDetection": {"mode": "warn"}}), 'spec.driftDetection.mode is "warn"')],
    },
    "break-glass-marker-complete": {
        "pass": [Case("complete marker", deployment(metadata={"name": "web", "annotations": break_glass()}))],
        "fail": [Case("expired marker", deployment(metadata={"name": "web", "annotations": break_glass(
            time=iso(-timedelta(days=3)), expiry=iso(-timedelta(days=1)))}), "has passed; codify the change")],
    },
    "jetstream-stream-durable": {
        "pass": [Case("file, limits, versioned", stream())],
        "fail": [Case("memory storage", stream(storage="memory"), 'spec.storage is "memory"')],
    },
    "k8s-no-literal-secret-data": {
        "pass": [Case("service-account token", obj("Secret", "t", type="kubernetes.io/service-account-token",
                                                data={"token": "ZXhhbXBsZQ=="}))],
        "fail": [Case("opaque secret with data", obj("Secret", "db", type="Opaque", stringData={"password": "hunter2"}),
                  "stringData holds literal values (password)")],
    },
    "no-plaintext-secrets": {
        "pass": [Case("secret from secretKeyRef", deployment(container(env=[{"name": "DB_PASSWORD", "valueFrom": {
            "secretKeyRef": {"name": "db", "key": "password"}}}])))],
        "fail": [Case("literal password env", deployment(container(env=[{"name": "DB_PASSWORD", "value": "hunter2!"}])),
                  'containers[0] (name "web"): env[0] (DB_PASSWORD) has a literal value under a secret-like name')],
    },
    "vault-secret-no-literal-data": {
        "pass": [Case("data from a config secret (generated password reference)", (
            "vault:kv/secretV2:SecretV2", {"mount": "secret", "name": "orders/db",
                                            "dataJson": '{"username": "${DB_USER}"}'}))],
        "fail": [Case("literal password written into Vault", (
            "vault:generic/secret:Secret", {"path": "secret/orders/db", "dataJson": '{"password": "hunter2"}'}),
            "dataJson writes literal values (password) into Vault")],
    },
    "helm-values-no-literal-secrets": {
        "pass": [Case("chart pointed at an existing secret", ("kubernetes:helm.sh/v4:Chart", {
            "chart": "oci://registry-1.docker.io/bitnamicharts/postgresql",
            "values": {"auth": {"existingSecret": "db-credentials"}}}))],
        "fail": [Case("release with a literal password", ("kubernetes:helm.sh/v3:Release", {
            "chart": "postgresql", "values": {"auth": {"postgresPassword": "hunter2hunter2"}}}),
            "values.auth.postgresPassword has a literal value under a secret-like name")],
    },
    "helm-values-no-persistence": {
        "pass": [Case("persistence off", ("kubernetes:helm.sh/v3:Release", {
            "chart": "postgresql", "values": {"primary": {"persistence": {"enabled": False}}}}))],
        "fail": [Case("persistence on", ("kubernetes:helm.sh/v4:Chart", {
            "chart": "postgresql", "values": {"primary": {"persistence": {"enabled": True}}}}),
            "values.primary.persistence.enabled is true, so the release keeps state")],
    },
    "k8s-read-only-root-filesystem": {
        "pass": [Case("read-only root", deployment())],
        "fail": [Case("writable root", deployment(container(securityContext={
            "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": False})),
            'containers[0] (name "web"): securityContext.readOnlyRootFilesystem is false; set it to true')],
    },
    "ai-workload-declared": {
        "pass": [Case("declared ollama", ai_workload("assistant", "ai", False,
                                                     container(image="docker.io/ollama/ollama:0.6.5")))],
        "fail": [Case("undeclared vllm", deployment(container(image="vllm/vllm-openai:v0.8.4")),
                      'containers[0] (name "web") runs vLLM (model serving) but the workload is not declared AI')],
    },
    "ai-no-secret-access": {
        "pass": [Case("ai workload without secrets", ai_workload())],
        "fail": [Case("ai workload with a secret volume", ai_workload(volumes=[{"name": "s", "secret": {"secretName": "k"}}]),
                  'spec.template.spec.volumes[0] is a secret volume; AI workloads get no secrets')],
    },
}
