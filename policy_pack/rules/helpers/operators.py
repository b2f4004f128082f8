"""Every pod the stack will run: its own workloads plus the pods operators create from its custom resources.

Whole-system rules (capacity, admission, connectivity) must see the pods the Flux Operator creates from
a FluxInstance, not only the workloads written in the stack. The controllers are modelled from the
upstream manifests the operator applies (fluxcd controller Deployments) with the FluxInstance's size
profile (flux-operator internal/builder: the `small`, `medium` and `large` patches), so a quota sized
for the operator alone is caught before `pulumi up`.

Strimzi's pods are modelled the same way from a Kafka and its KafkaNodePools (strimzi KafkaCluster,
EntityOperator): one node pod per pool replica with the pool's resources, template labels, annotations
and security contexts, Strimzi's selector labels and its ports (agent 8443, control plane 9090 on
controllers, replication 9091 and the listeners on brokers); the entity operator's Deployment with the
topic and user operator containers. Strimzi's default security provider sets no container security
context, so a template without one is modelled without one.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .access import get, items, mapping, number, text
from .conventions import ANNOTATION_FLOWS, LABEL_COMPONENT, LABEL_PART_OF
from .objects import KubeObject, objects, workloads
from .podspec import PodTemplate, find_pod_template

FLUX_INSTANCE = (("fluxcd.controlplane.io", "FluxInstance"),)
FLUX_DEFAULT_COMPONENTS = ("source-controller", "kustomize-controller", "helm-controller",
                           "notification-controller")

# Upstream controller defaults (fluxcd/*-controller config/manager/deployment.yaml): requests, limits.
_FLUX_DEFAULT = ({"cpu": "100m", "memory": "64Mi"}, {"cpu": "1000m", "memory": "1Gi"})
_FLUX_DEFAULTS = {"source-controller": ({"cpu": "50m", "memory": "64Mi"}, {"cpu": "1000m", "memory": "1Gi"})}
# flux-operator size profiles: which controllers they resize, and to what.
_PROFILE_ALL = ("source-controller", "kustomize-controller", "helm-controller", "notification-controller",
                "image-reflector-controller", "image-automation-controller", "source-watcher")
_FLUX_PROFILES: dict[str, dict[str, tuple[dict[str, str], dict[str, str]]]] = {
    "small": {c: ({"cpu": "100m", "memory": "64Mi"}, {"cpu": "1000m", "memory": "512Mi"}) for c in _PROFILE_ALL},
    "medium": {c: ({"cpu": "100m", "memory": "128Mi"}, {"cpu": "2000m", "memory": "1Gi"})
               for c in ("source-controller", "kustomize-controller", "helm-controller")},
    "large": {**{c: ({"cpu": "100m", "memory": "256Mi"}, {"cpu": "3000m", "memory": "3Gi"})
                 for c in ("kustomize-controller", "helm-controller")},
              "source-controller": ({"cpu": "100m", "memory": "256Mi"}, {"cpu": "2000m", "memory": "2Gi"})},
}
# Container ports of the upstream controllers (names matter: Services and policies refer to them).
_FLUX_PORTS = {
    "source-controller": [(9090, "http"), (8080, "http-prom"), (9440, "healthz")],
    "notification-controller": [(9090, "http"), (9292, "http-webhook"), (8080, "http-prom"), (9440, "healthz")],
}
_FLUX_DEFAULT_PORTS = [(8080, "http-prom"), (9440, "healthz")]
# source-controller keeps its artifact store on one pod: upstream sets Recreate (no surge).
_FLUX_RECREATE = ("source-controller",)


@dataclass(frozen=True)
class RunPod:
    """A pod template the stack will run, how many copies at once, and where it comes from."""

    workload: KubeObject
    template: PodTemplate
    replicas: int  # steady state
    surge: int  # extra pods during a rollout
    origin: str | None = None  # "created by FluxInstance flux-system/flux" for operator-made pods
    urn: str | None = None  # the resource to blame (the custom resource for operator-made pods)

    @property
    def label(self) -> str:
        return f"{self.workload.label} ({self.origin})" if self.origin else self.workload.label


def _int(value: Any, default: int) -> int:
    found = number(value)
    return int(found) if found is not None else default


def _scaled(value: Any, replicas: int, default: str, round_up: bool) -> int:
    """An IntOrString of a rollout strategy ("25%" or 1) as a pod count."""
    if value is None:
        value = default
    if isinstance(value, str) and value.endswith("%"):
        try:
            share = float(value[:-1]) * replicas / 100
        except ValueError:
            share = 0.0
        return math.ceil(share) if round_up else math.floor(share)
    return _int(value, 0)


def replicas_and_surge(workload: KubeObject, template: PodTemplate) -> tuple[int, int]:
    """Pods a workload runs in steady state, and the extra pods its rollout strategy creates."""
    spec = workload.spec
    kind = workload.kind
    if kind == "Pod":
        return 1, 0
    if kind in ("Job", "CronJob"):
        job = mapping(spec, "jobTemplate", "spec") if kind == "CronJob" else spec
        return _int(get(job, "parallelism"), 1), 0
    replicas = _int(get(spec, "replicas"), 1)
    if kind == "Deployment":
        strategy = mapping(spec, "strategy")
        if text(strategy, "type") == "Recreate":
            return replicas, 0
        return replicas, _scaled(get(mapping(strategy, "rollingUpdate"), "maxSurge"), replicas, "25%", True)
    if kind == "StatefulSet":
        # Pods are replaced one by one (or by maxUnavailable): a StatefulSet never surges.
        return replicas, 0
    return replicas, 0


def flux_controller_props(instance: KubeObject, component: str) -> dict[str, Any]:
    """The Deployment the Flux Operator applies for one controller of a FluxInstance (upstream shape)."""
    size = text(mapping(instance.spec, "cluster"), "size")
    requests, limits = _FLUX_PROFILES.get(size or "", {}).get(component) or _FLUX_DEFAULTS.get(component, _FLUX_DEFAULT)
    common = mapping(instance.spec, "commonMetadata", "labels")
    labels = {**{k: v for k, v in common.items() if isinstance(v, str)}, "app": component,
              LABEL_COMPONENT: component, LABEL_PART_OF: "flux"}
    ports = [{"containerPort": n, "name": name, "protocol": "TCP"} for n, name in
             _FLUX_PORTS.get(component, _FLUX_DEFAULT_PORTS)]
    annotations = {}
    flows = get(instance.annotations, ANNOTATION_FLOWS)
    if isinstance(flows, str):
        annotations[ANNOTATION_FLOWS] = flows
    return {
        "metadata": {"name": component, "namespace": instance.namespace, "labels": labels},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"} if component in _FLUX_RECREATE else {},
            "template": {
                "metadata": {"labels": labels, "annotations": annotations},
                "spec": {
                    "serviceAccountName": component,
                    "securityContext": {"fsGroup": 1337},
                    "containers": [{
                        "name": "manager", "image": f"ghcr.io/fluxcd/{component}", "ports": ports,
                        "resources": {"requests": dict(requests), "limits": dict(limits)},
                        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                            "readOnlyRootFilesystem": True, "runAsNonRoot": True,
                                            "seccompProfile": {"type": "RuntimeDefault"}},
                    }],
                },
            },
        },
    }


def flux_pods(resources: Sequence[Any]) -> Iterator[RunPod]:
    for instance in objects(resources, FLUX_INSTANCE):
        components = [c for c in items(instance.spec, "components") if isinstance(c, str)] or list(
            FLUX_DEFAULT_COMPONENTS)
        for component in components:
            props = flux_controller_props(instance, component)
            workload = KubeObject("apps", "Deployment", props, instance.urn)
            template = find_pod_template("kubernetes:apps/v1:Deployment", props)
            assert template is not None
            replicas, surge = replicas_and_surge(workload, template)
            yield RunPod(workload, template, replicas, surge, f"created by {instance.label}", instance.urn)


KAFKA = (("kafka.strimzi.io", "Kafka"),)
KAFKA_NODE_POOL = (("kafka.strimzi.io", "KafkaNodePool"),)
STRIMZI_CLUSTER = "strimzi.io/cluster"
# strimzi ListenersUtils.backwardsCompatiblePortName: the two historic listener names keep old port names.
_LISTENER_PORT_NAMES = {"plain": "tcp-clients", "tls": "tcp-clientstls", "external": "tcp-external"}


def _template(spec: Mapping[str, Any], *keys: str) -> Mapping[str, Any]:
    return mapping(spec, "template", *keys)


def _strings(value: Mapping[str, Any]) -> dict[str, str]:
    return {k: v for k, v in value.items() if isinstance(v, str)}


def _modelled(kind: str, name: str, namespace: str | None, replicas: int, strategy: dict[str, Any],
              pod: Mapping[str, Any], labels: dict[str, str], containers: list[dict[str, Any]]) -> dict[str, Any]:
    meta = mapping(pod, "metadata")
    pod_labels = {**_strings(mapping(meta, "labels")), **labels}
    security = get(pod, "securityContext")
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": pod_labels},
        "spec": {
            "replicas": replicas, "strategy": strategy,
            "template": {
                "metadata": {"labels": pod_labels, "annotations": _strings(mapping(meta, "annotations"))},
                "spec": {"securityContext": dict(security) if isinstance(security, Mapping) else {},
                         "containers": containers},
            },
        },
    }


def _container(name: str, image: str, ports: list[tuple[int, str]], resources: Any, security: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"name": name, "image": image,
                             "ports": [{"containerPort": n, "name": port_name, "protocol": "TCP"} for n, port_name in ports]}
    if isinstance(resources, Mapping):
        found["resources"] = {k: dict(v) for k, v in resources.items() if isinstance(v, Mapping)}
    if isinstance(security, Mapping):
        found["securityContext"] = dict(security)
    return found


def strimzi_node_props(kafka: KubeObject, pool: KubeObject) -> dict[str, Any]:
    """The pods Strimzi runs for one node pool of a Kafka (a StrimziPodSet; pods are replaced one by one)."""
    cluster = kafka.name or ""
    spec = pool.spec
    roles = {r for r in items(spec, "roles") if isinstance(r, str)}
    ports = [(8443, "tcp-kafkaagent")]
    if "controller" in roles:
        ports.append((9090, "tcp-ctrlplane"))
    if "broker" in roles:
        ports.append((9091, "tcp-replication"))
        for listener in items(mapping(kafka.spec, "kafka"), "listeners"):
            number_, name = number(get(listener, "port")), text(listener, "name") or ""
            if number_ is not None:
                ports.append((int(number_), _LISTENER_PORT_NAMES.get(name, f"tcp-{name}")))
    resources = get(spec, "resources")
    if resources is None:
        resources = get(mapping(kafka.spec, "kafka"), "resources")
    labels = {STRIMZI_CLUSTER: cluster, "strimzi.io/kind": "Kafka", "strimzi.io/name": f"{cluster}-kafka",
              "strimzi.io/pool-name": pool.name or "", "strimzi.io/component-type": "kafka",
              "strimzi.io/broker-role": str("broker" in roles).lower(),
              "strimzi.io/controller-role": str("controller" in roles).lower()}
    container = _container("kafka", "quay.io/strimzi/kafka", ports, resources,
                           get(_template(spec, "kafkaContainer"), "securityContext"))
    return _modelled("StrimziPodSet", f"{cluster}-{pool.name}", pool.namespace, _int(get(spec, "replicas"), 1),
                     {}, _template(spec, "pod"), labels, [container])


def strimzi_entity_operator_props(kafka: KubeObject) -> dict[str, Any] | None:
    """The entity operator's Deployment (topic and user operators), when the Kafka asks for one."""
    spec = mapping(kafka.spec, "entityOperator")
    names = [n for n in ("topicOperator", "userOperator") if get(spec, n) is not None]
    if not names:
        return None
    cluster = kafka.name or ""
    containers = []
    for name, port in zip(names, (8080, 8081), strict=False):
        kebab = "topic-operator" if name == "topicOperator" else "user-operator"
        containers.append(_container(kebab, "quay.io/strimzi/operator", [(port, "healthcheck")],
                                     get(mapping(spec, name), "resources"),
                                     get(_template(spec, f"{name}Container"), "securityContext")))
    labels = {STRIMZI_CLUSTER: cluster, "strimzi.io/kind": "Kafka", "strimzi.io/name": f"{cluster}-entity-operator",
              "strimzi.io/component-type": "entity-operator"}
    # Strimzi's DeploymentTemplate defaults to RollingUpdate with maxSurge 1.
    return _modelled("Deployment", f"{cluster}-entity-operator", kafka.namespace, 1,
                     {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                     _template(spec, "pod"), labels, containers)


def strimzi_pods(resources: Sequence[Any]) -> Iterator[RunPod]:
    pools = list(objects(resources, KAFKA_NODE_POOL))
    for kafka in objects(resources, KAFKA):
        made: list[tuple[str, dict[str, Any], str | None]] = []
        for pool in pools:
            if pool.namespace == kafka.namespace and get(pool.labels, STRIMZI_CLUSTER) == kafka.name:
                made.append(("StrimziPodSet", strimzi_node_props(kafka, pool), pool.urn))
        entity = strimzi_entity_operator_props(kafka)
        if entity is not None:
            made.append(("Deployment", entity, kafka.urn))
        for kind, props, urn in made:
            workload = KubeObject("core.strimzi.io" if kind == "StrimziPodSet" else "apps", kind, props, urn)
            template = find_pod_template("kubernetes:apps/v1:Deployment", props)
            assert template is not None
            replicas, surge = replicas_and_surge(workload, template)
            yield RunPod(workload, template, replicas, surge, f"created by {kafka.label}", urn)


def stack_pods(resources: Sequence[Any]) -> list[RunPod]:
    """Every pod template the stack runs: its workloads (ReplicaSets owned by nothing else included) and
    the pods operators create from its custom resources."""
    found = []
    for workload, template in workloads(resources):
        replicas, surge = replicas_and_surge(workload, template)
        found.append(RunPod(workload, template, replicas, surge, None, workload.urn))
    found.extend(flux_pods(resources))
    found.extend(strimzi_pods(resources))
    return found


def pod_labels(pod: RunPod) -> Mapping[str, Any]:
    return mapping(pod.template.metadata, "labels")


class PodIndex:
    """Pods by namespace and label, so "the pods a Service (or a flow) selects" costs the matches only."""

    def __init__(self, pods: Sequence[RunPod]):
        self.pods = list(pods)
        self._by_namespace: dict[str, list[int]] = {}
        self._by_label: dict[tuple[str, str, Any], list[int]] = {}
        self._labels = [pod_labels(p) for p in self.pods]
        for i, pod in enumerate(self.pods):
            namespace = pod.workload.namespace or "default"
            self._by_namespace.setdefault(namespace, []).append(i)
            for key, value in self._labels[i].items():
                self._by_label.setdefault((namespace, key, value), []).append(i)

    def matching(self, namespace: str, labels: Mapping[str, Any]) -> list[RunPod]:
        """Pods of the namespace carrying every given label (all of them for no labels)."""
        if not labels:
            return [self.pods[i] for i in self._by_namespace.get(namespace, [])]
        candidates = min((self._by_label.get((namespace, k, v), []) for k, v in labels.items()), key=len)
        return [self.pods[i] for i in candidates
                if all(self._labels[i].get(k) == v for k, v in labels.items())]
