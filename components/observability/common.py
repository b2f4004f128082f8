"""One builder for the observability workloads: each is a ServiceAccount, Service(s), a Deployment or a
StatefulSet (stores with claims are declared platform state), a PodDisruptionBudget and a NetworkPolicy."""

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from components import conventions, defaults, platform
from components.intent import Intent
from components.kube import child_opts, metadata
from components.network import Peer
from components.platform import Volume
from components.provenance import Provenance
from components.types import Image, Resources


class WorkloadSettings(Intent):
    """What a caller chooses per observability workload."""

    image: Image = Field(description="Pinned image")
    replicas: int = Field(default=1, ge=1, description="Pods")
    resources: Resources = Field(description="Requests and limits of the main container")
    storage: Volume | None = Field(default=None, description="Persistent claim (stores only)")


class ScrapeTarget(Intent):
    """Pods Prometheus scrapes, found by Kubernetes service discovery (each pod on its own, never one pod
    behind a ClusterIP), and the labels that open the NetworkPolicies on both sides."""

    job: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", description="Prometheus job name")
    namespace: str = Field(description="Namespace of the target pods")
    port: int = Field(ge=1, le=65535, description="Metrics port (the container port number)")
    path: str = Field(default="/metrics", pattern=r"^/", description="Metrics path")
    pod_labels: dict[str, str] = Field(min_length=1, description="Labels of the target pods")
    service: str | None = Field(default=None, description="Service whose EndpointSlices list the pods (ready endpoints only); "
                                                          "None discovers the pods themselves")
    scheme: str = Field(default="http", pattern=r"^https?$", description="http or https")
    params: dict[str, list[str]] = Field(default_factory=dict, description="URL parameters, e.g. format=prometheus")
    admitted_by_target: bool = Field(default=False, description="The target's own component admits Prometheus (the "
                                     "zone that owns the receiving pods keeps the one ingress rule); no allow-scrape "
                                     "policy is written for it")


@dataclass
class Spec:
    """One workload as the builder needs it; `store` names the platform-state kind of a workload with claims."""

    name: str
    role: str
    ports: dict[str, int]
    container: dict[str, Any]
    volumes: list[dict[str, Any]]
    settings: WorkloadSettings
    ingress: list[dict[str, Any]]
    egress: list[dict[str, Any]]
    store: str | None = None
    config: dict[str, str] = field(default_factory=dict)
    api_access: bool = False  # mounts the ServiceAccount token (Prometheus's service discovery needs it)


def ingress_rule(peers: list[Peer] | list[dict[str, Any]], ports: list[int]) -> dict[str, Any]:
    sources = [p.to_k8s() if isinstance(p, Peer) else p for p in peers]
    return {"from": sources, "ports": [{"protocol": "TCP", "port": port} for port in ports]}


def egress_rule(namespace: str, pod_labels: dict[str, str], ports: list[int]) -> dict[str, Any]:
    to = {"namespaceSelector": {"matchLabels": {conventions.LABEL_NAMESPACE_NAME: namespace}},
          "podSelector": {"matchLabels": dict(pod_labels)}}
    return {"to": [to], "ports": [{"protocol": "TCP", "port": port} for port in ports]}


def selector_of(name: str) -> dict[str, str]:
    return {conventions.LABEL_NAME: name, conventions.LABEL_INSTANCE: name}


def _flows(spec: Spec) -> list[dict[str, Any]]:
    """The workload's egress needs (scrape targets, datasources, exporter targets) as declared flows."""
    flows = []
    for rule in spec.egress:
        for peer in rule.get("to", []):
            namespace = peer.get("namespaceSelector", {}).get("matchLabels", {}).get(conventions.LABEL_NAMESPACE_NAME)
            labels = peer.get("podSelector", {}).get("matchLabels")
            if namespace and labels:
                flows += [{"pods": {"namespace": namespace, "matchLabels": dict(labels)}, "port": port["port"],
                           "purpose": f"{spec.name} to {labels.get(conventions.LABEL_NAME, namespace)}"}
                          for port in rule.get("ports", [])]
    return flows


def build(parent: pulumi.Resource, spec: Spec, namespace: str, provenance: Provenance) -> dict[str, Any]:
    """Register the workload's objects under `parent`; returns them by role."""
    name, s = spec.name, spec.settings
    workload_class = platform.STATE_CLASS if spec.store else conventions.WORKLOAD_CLASS_SERVICE
    labels = provenance.labels(name=name, instance=name, component=spec.role, workload_class=workload_class)
    annotations = provenance.annotations()
    selector = selector_of(name)
    def meta(object_name: str) -> dict[str, Any]:
        return metadata(object_name, namespace, labels, annotations)

    made: dict[str, Any] = {}
    made["sa"] = k8s.core.v1.ServiceAccount(
        f"{name}-sa", metadata=meta(name), automount_service_account_token=spec.api_access, opts=child_opts(parent))
    deps = [made["sa"]]
    if spec.config:
        made["config"] = k8s.core.v1.ConfigMap(f"{name}-config", metadata=meta(f"{name}-config"), data=spec.config,
                                               opts=child_opts(parent))
        deps.append(made["config"])
    ports = platform.service_ports(spec.ports)
    made["service"] = k8s.core.v1.Service(
        f"{name}-svc", metadata=meta(name),
        spec={"type": "ClusterIP", "selector": dict(selector), "ports": ports}, opts=child_opts(parent))
    # Every pod resolvable by name, so Prometheus scrapes each replica, not one behind the ClusterIP.
    made["headless"] = k8s.core.v1.Service(
        f"{name}-hl", metadata=meta(f"{name}-hl"),
        spec={"clusterIP": "None", "selector": dict(selector), "ports": ports}, opts=child_opts(parent))
    pod = platform.pod_spec(name, [spec.container], spec.volumes, automount_token=spec.api_access,
                            affinity=platform.pod_anti_affinity(selector))
    template: dict[str, Any] = {"metadata": {"labels": dict(labels)}, "spec": pod}
    flows = _flows(spec)
    if flows:  # what the workload must reach, for the pack's connectivity rule
        template["metadata"]["annotations"] = conventions.flows_annotation(flows)
    common = {"replicas": s.replicas, "selector": {"matchLabels": dict(selector)}, "template": template}
    if spec.store:
        assert s.storage is not None, f"{name}: a store needs a storage volume"
        made["workload"] = k8s.apps.v1.StatefulSet(
            name, metadata=metadata(name, namespace, labels, platform.state_annotations(provenance, spec.store)),
            spec={**common, "serviceName": f"{name}-hl", "podManagementPolicy": "Parallel",
                  "volumeClaimTemplates": [s.storage.claim_template(labels, annotations)]},
            opts=child_opts(parent, *deps))
    else:
        made["workload"] = k8s.apps.v1.Deployment(
            name, metadata=meta(name),
            spec={**common, "revisionHistoryLimit": defaults.REVISION_HISTORY_LIMIT, "strategy": defaults.rolling_update()},
            opts=child_opts(parent, *deps))
    made["pdb"] = k8s.policy.v1.PodDisruptionBudget(
        f"{name}-pdb", metadata=meta(name), spec=defaults.pdb_spec(s.replicas, selector), opts=child_opts(parent))
    made["netpol"] = k8s.networking.v1.NetworkPolicy(
        f"{name}-netpol", metadata=meta(name),
        spec={"podSelector": {"matchLabels": dict(selector)}, "policyTypes": ["Ingress", "Egress"],
              "ingress": spec.ingress, "egress": [*spec.egress, defaults.dns_egress_rule()]},
        opts=child_opts(parent))
    return made
