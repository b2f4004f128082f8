"""A small whole system (two namespaces, a client, a server, policies, a quota) and ways to break it, for
the whole-system stack policies (connectivity, capacity, admission, references and order)."""

from __future__ import annotations

import json
from typing import Any

from .fixtures import container, pod_spec, workload
from .harness import Node
from .objects import TOKENS, declaration, default_deny, nodes, obj, stream

API_ENDPOINTS = "192.0.2.10,192.0.2.11"
WEB_FLOWS = [{"service": "bus/nats", "port": "client", "purpose": "publish orders"},
             {"apiServer": True, "purpose": "leader election"}]
BUILT_IN = ("core", "apps", "batch", "networking.k8s.io", "rbac.authorization.k8s.io", "apiextensions.k8s.io",
            "policy")


def crd(group: str, kind: str) -> tuple[str, dict[str, Any]]:
    plural = kind.lower() + "s"
    return obj("CustomResourceDefinition", f"{plural}.{group}", None, spec={
        "group": group, "names": {"kind": kind, "plural": plural}, "scope": "Namespaced",
        "versions": [{"name": "v1", "served": True, "storage": True}]})


def complete(graph: list[Node]) -> list[Node]:
    """The graph plus what its objects refer to as fixtures: CRDs of custom kinds, the fixtures' ConfigMap."""
    extra = []
    kinds = sorted({tuple(n.type.split(":")[1:]) for n in graph if n.type.startswith("kubernetes:")})
    present = {(n.props.get("metadata") or {}).get("name") for n in graph if n.type.endswith(":CustomResourceDefinition")}
    for group_version, kind in kinds:
        group = group_version.split("/")[0]
        if group not in BUILT_IN and f"{kind.lower()}s.{group}" not in present:
            extra.append(crd(group, kind))
    config_maps = {((n.props.get("metadata") or {}).get("namespace"), (n.props.get("metadata") or {}).get("name"))
                   for n in graph if n.type == TOKENS["ConfigMap"]}
    for n in graph:
        spec = json.dumps(n.props)
        namespace = (n.props.get("metadata") or {}).get("namespace")
        if '"web-config"' in spec and (namespace, "web-config") not in config_maps and "template" in spec:
            config_maps.add((namespace, "web-config"))
            extra.append(obj("ConfigMap", "web-config", namespace, data={"mode": "prod"}))
    return graph + nodes(*extra)


def namespace(name: str, level: str | None = "restricted") -> tuple[str, dict[str, Any]]:
    labels = {"pod-security.kubernetes.io/enforce": level} if level else {}
    return obj("Namespace", name, None, labels=labels)


def web(flows: Any = WEB_FLOWS, replicas: int = 2, **pod_extra: Any) -> tuple[str, dict[str, Any]]:
    token, props = workload("Deployment", pod_spec(**pod_extra), metadata={"name": "web", "namespace": "apps"},
                            replicas=replicas)
    if flows is not None:
        props["spec"]["template"]["metadata"]["annotations"] = {
            "cdb-infra.io/flows": flows if isinstance(flows, str) else json.dumps(flows)}
    return token, props


def nats_server() -> tuple[str, dict[str, Any]]:
    server = container(name="nats", image="nats:2.14.2-alpine", ports=[{"containerPort": 4222, "name": "client"}])
    token, props = workload("Deployment", pod_spec(server), metadata={"name": "nats", "namespace": "bus"},
                            replicas=1)
    props["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] = "nats"
    props["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] = "nats"
    return token, props


def web_egress(api_blocks: tuple[str, ...] = ("192.0.2.10/32", "192.0.2.11/32")) -> tuple[str, dict[str, Any]]:
    return obj("NetworkPolicy", "web-egress", "apps", spec={
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}}, "policyTypes": ["Egress"],
        "egress": [
            {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "bus"}},
                     "podSelector": {"matchLabels": {"app.kubernetes.io/name": "nats"}}}],
             "ports": [{"port": 4222, "protocol": "TCP"}]},
            {"to": [{"ipBlock": {"cidr": block}} for block in api_blocks], "ports": [{"port": 6443}]},
        ]})


def nats_ingress(from_namespace: str = "apps") -> tuple[str, dict[str, Any]]:
    return obj("NetworkPolicy", "nats-ingress", "bus", spec={
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "nats"}}, "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": from_namespace}},
                               "podSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}}}],
                     "ports": [{"port": "client"}]}]})


def quota(namespace_: str = "apps", **hard: str) -> tuple[str, dict[str, Any]]:
    full = {"requests.cpu": "1", "requests.memory": "1Gi", "limits.cpu": "2", "limits.memory": "2Gi", "pods": "4"}
    full.update(hard)
    return obj("ResourceQuota", "zone-quota", namespace_, spec={"hard": full})


def system(web_: Any = None, nats_policy: Any = None, egress: Any = None, api: str | None = API_ENDPOINTS,
           apps_level: str | None = "restricted", quota_: Any = None, extra: tuple = (),
           drop: tuple[str, ...] = ()) -> list[Node]:
    data = {"environment": "prod", "migration-phase": "jetstream"}
    if api is not None:
        data["api-server-endpoints"] = api
    parts = [
        namespace("apps", apps_level), namespace("bus"), declaration(**data),
        web_ or web(), nats_server(),
        obj("Service", "nats", "bus", spec={"selector": {"app.kubernetes.io/name": "nats"},
                                            "ports": [{"name": "client", "port": 4222, "targetPort": "client"}]}),
        default_deny("apps"), default_deny("bus"), egress or web_egress(), nats_policy or nats_ingress(),
        quota_ or quota(), *extra,
    ]
    graph = complete(nodes(*parts))
    return [n for n in graph if n.name not in drop]


# --- Flux at a size profile, and a quota too small for it -----------------------------------------------
def flux_instance(size: str = "medium") -> tuple[str, dict[str, Any]]:
    return obj("FluxInstance", "flux", "flux-system", spec={
        "distribution": {"version": "2.9.0", "registry": "ghcr.io/fluxcd"},
        "components": ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"],
        "cluster": {"type": "kubernetes", "size": size, "networkPolicy": True}})


def flux_system(cpu_limit: str = "16", size: str = "medium") -> list[Node]:
    alerting = (
        obj("Provider", "audit", "flux-system", spec={"type": "nats", "address": "nats://nats.bus:4222",
                                                      "channel": "flux.v1.events"}),
        obj("Alert", "audit", "flux-system", spec={"providerRef": {"name": "audit"}, "eventSeverity": "info",
                                                   "eventSources": [{"kind": "FluxInstance", "name": "*"}]}))
    return complete(nodes(flux_instance(size), *alerting, quota("flux-system", **{
        "limits.cpu": cpu_limit, "requests.cpu": "2", "requests.memory": "2Gi", "limits.memory": "12Gi",
        "pods": "10"})))


# --- Secrets from Vault, and a cycle of waits -----------------------------------------------------------
def vault_delivery(namespace_: str = "apps", create: bool = True) -> tuple:
    return (
        obj("VaultConnection", "vault", "vso", spec={"address": "http://vault.vault.svc.cluster.local:8200"}),
        obj("VaultAuth", "web-vault", namespace_, spec={"method": "kubernetes", "mount": "kubernetes",
                                                       "vaultConnectionRef": "vso/vault",
                                                       "kubernetes": {"role": "web", "serviceAccount": "web"}}),
        obj("ServiceAccount", "web", namespace_),
        obj("VaultStaticSecret", "db", namespace_, spec={"vaultAuthRef": "web-vault", "mount": "kv", "type": "kv-v2",
                                                        "path": "apps/web/db",
                                                        "destination": {"name": "db", "create": create}}),
    )


def secret_env() -> dict[str, Any]:
    return container(env=[{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}])


def vault_server(reads_secret: bool) -> tuple:
    env = [{"name": "BAO_SEAL_KEY", "valueFrom": {"secretKeyRef": {"name": "db", "key": "seal"}}}] if reads_secret else []
    server = container(name="vault", image="openbao/openbao:2.4.1", env=env,
                       ports=[{"containerPort": 8200, "name": "api"}])
    token, props = workload("StatefulSet", pod_spec(server), metadata={"name": "vault", "namespace": "vault"})
    props["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] = "vault"
    service = obj("Service", "vault", "vault", spec={"selector": {"app.kubernetes.io/name": "vault"},
                                                     "ports": [{"name": "api", "port": 8200, "targetPort": "api"}]})
    zone = obj("Namespace", "vault", None, labels={"cdb-infra.io/zone-class": "vault"})
    return (token, props), service, zone, default_deny("vault"), namespace("vso", None)


def references_system(**changes: Any) -> list[Node]:
    return system(web_=web(flows=None, containers=[secret_env()]), extra=(*vault_delivery(), *vault_server(False)),
                  **changes)


def cyclic_vault() -> list[Node]:
    """Vault's own seal key comes from VSO, which must reach Vault to sync it."""
    return system(extra=(*vault_delivery("vault"), *vault_server(True)))


def _modified(build, change):
    graph = build()
    change(graph)
    return graph


def _set_cm(graph: list[Node], data: dict) -> None:
    graph.extend(nodes(obj("ConfigMap", "exporter-config", "apps", data=data)))


SYSTEM_CASES: dict[str, dict[str, list[tuple[str, Any, str]]]] = {
    "system-flows-admitted": {
        "pass": [("client to a Service port and the API server, allowed at both ends", system, "")],
        "fail": [
            ("the server admits another namespace only", lambda: system(nats_policy=nats_ingress("obs")),
             'Deployment apps/web: flow[0] "publish orders" to Service bus/nats port client/TCP is denied at the '
             "destination (Deployment bus/nats port 4222/TCP): ingress denied: selected by NetworkPolicy bus/default-deny, "
             "NetworkPolicy bus/nats-ingress, none of which admits it; add to a NetworkPolicy selecting Deployment "
             "bus/nats an ingress rule from {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: apps}}, "
             "podSelector: {matchLabels: {app.kubernetes.io/name: web}}} on port 4222/TCP"),
            ("API server allowed by the kubernetes Service ClusterIP", lambda: system(egress=web_egress(("10.96.0.1/32",))),
             'flow[1] "leader election" to the API server is denied at the source (the API server port 6443/TCP): '
             "egress denied: selected by NetworkPolicy apps/default-deny, NetworkPolicy apps/web-egress, none of which "
             "admits it; add to a NetworkPolicy selecting Deployment apps/web an egress rule to ipBlock 192.0.2.10/32, "
             "192.0.2.11/32 (one peer per endpoint) on port 6443/TCP"),
            ("API server endpoints not declared", lambda: system(api=None),
             "flow[1] \"leader election\" to the API server cannot be checked: the API server's endpoints are not "
             "declared"),
            ("a flow annotation that is not JSON", lambda: system(web_=web(flows="[{service: bus/nats}")),
             "Deployment apps/web: cdb-infra.io/flows is not JSON"),
            ("a flow to a Service port that does not exist",
             lambda: system(web_=web(flows=[{"service": "bus/nats", "port": 8222}])),
             "Service bus/nats exposes no port 8222/TCP; add it to the Service"),
        ],
    },
    "system-quota-fits": {
        "pass": [("two replicas plus surge within the quota", system, ""),
                 ("Flux at medium within a 16 CPU quota", flux_system, "")],
        "fail": [
            ("limits.cpu below replicas plus surge", lambda: system(quota_=quota(**{"limits.cpu": "1"})),
             "ResourceQuota apps/zone-quota: limits.cpu 1 is below the 1500m the pods of namespace apps need at peak "
             "(steady 1, plus rollout surge): Deployment apps/web 3 pod(s) x 500m"),
            ("pods below replicas plus surge", lambda: system(quota_=quota(pods="2")),
             "ResourceQuota apps/zone-quota: pods 2 is below the 3 pods the stack runs at peak"),
            ("Flux controllers at medium exceed an 8 CPU quota", lambda: flux_system("8"),
             "ResourceQuota flux-system/zone-quota: limits.cpu 8 is below the 12 the pods of namespace flux-system "
             "need at peak (steady 7, plus rollout surge): Deployment flux-system/kustomize-controller (created by "
             "FluxInstance flux-system/flux) 2 pod(s) x 2, "),
        ],
    },
    "system-pod-security-admission": {
        "pass": [("restricted pods in a restricted namespace", system, ""),
                 ("a baseline pod in a baseline namespace", lambda: system(
                     apps_level="baseline", web_=web(containers=[container(securityContext={})])), "")],
        "fail": [
            ("a pod without seccomp in a restricted namespace", lambda: system(web_=web(securityContext={})),
             "Deployment apps/web: refused by Pod Security admission in namespace apps "
             "(pod-security.kubernetes.io/enforce=restricted): Running as Non-root"),
            ("host network in a baseline namespace", lambda: system(apps_level="baseline", web_=web(hostNetwork=True)),
             "(pod-security.kubernetes.io/enforce=baseline): Host Namespaces: spec.template.spec.hostNetwork is true"),
        ],
    },
    "system-references-resolve": {
        "pass": [("a Secret synced from Vault by the secret operator", references_system, "")],
        "fail": [
            ("a ConfigMap the pod mounts is missing", lambda: system(drop=("ConfigMap-apps-web-config",)),
             "Deployment apps/web: spec.template.spec.volumes[0] refers to ConfigMap apps/web-config, which is not "
             "in the stack and has no producer"),
            ("the VaultStaticSecret does not create the Secret", lambda: system(
                web_=web(flows=None, containers=[secret_env()]), extra=(*vault_delivery(create=False), *vault_server(False))),
             "refers to Secret apps/db, which is not in the stack and has no producer"),
            ("a configuration addresses a port the Service does not expose",
             lambda: _modified(system, lambda g: _set_cm(g, {"url": "http://nats.bus.svc.cluster.local:8222/varz"})),
             "ConfigMap apps/exporter-config: data addresses nats.bus.svc:8222, but Service bus/nats exposes port(s) 4222"),
            ("a custom kind without its CRD", lambda: system(extra=(stream(),), drop=(
                "CustomResourceDefinition--streams.jetstream.nats.io",)),
             "Stream bus/orders: kind jetstream.nats.io/Stream has no CustomResourceDefinition in the stack"),
            ("Vault's seal key synced by the operator that needs Vault", cyclic_vault,
             "dependency cycle, none of these can become ready first on an empty cluster"),
        ],
    },
}

