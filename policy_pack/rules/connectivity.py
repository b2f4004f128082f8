"""Whole system, connectivity: every flow a component declares is admitted by the NetworkPolicies at both ends.

Flows are read from the ``cdb-infra.io/flows`` annotation (rules/helpers/flows.py); NetworkPolicy semantics come
from rules/helpers/netpol.py. The API server is where NetworkPolicies see it: its endpoint addresses and port
from the stack declaration (``api-server-endpoints``, ``api-server-port``), never the ``kubernetes``
Service's ClusterIP, which CNIs translate before they evaluate policies. Only NetworkPolicies in the
stack count: policies an operator would install once it runs cannot admit the traffic it needs to start.

A flow to an address outside the cluster (the API server's endpoints, a registry's network) is judged
against the source's egress ipBlocks alone: no policy of the stack selects the receiver. A flow to a
workload the program does not contain (a Service, or pods, of another stack) cannot be judged at the
receiving end, and without the receiver's labels not at the sending end either: it is listed as not
checked with that reason (never a pass, never a violation); so is a Service of the stack whose selector
matches no pod the program runs (the pods may come from outside it). A Service of the stack that cannot
carry the flow (no such port, no selector) is the program's own error: a violation.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import Severity

from .helpers.access import get, items, mapping, number, text
from .helpers.conventions import (
    DECLARATION_API_SERVER_ENDPOINTS, DECLARATION_API_SERVER_PORT, DEFAULT_API_SERVER_PORT, LABEL_INSTANCE,
    LABEL_NAME, LABEL_NAMESPACE_NAME,
)
from .helpers.declaration import read_declaration
from .helpers.flows import Flow, FlowError, declared_flows
from .helpers.metadata import StackRule
from .helpers.netpol import Address, Cluster, Endpoint, NetpolError, Pod, Side, pod_from_template
from .helpers.objects import KubeObject, objects
from .helpers.operators import PodIndex, RunPod, stack_pods
from .helpers.unknowns import NotJudged

NAMESPACE = (("core", "Namespace"),)
NETWORK_POLICY = (("networking.k8s.io", "NetworkPolicy"),)
SERVICE = (("core", "Service"),)


class ApiServerUnknown(ValueError):
    pass


def api_server(resources: Sequence[Any]) -> tuple[Address, int]:
    """The API server's endpoints and port from the stack declaration; ApiServerUnknown when not declared."""
    declaration = read_declaration(resources)
    raw = declaration.get(DECLARATION_API_SERVER_ENDPOINTS)
    where = f"{declaration.where} data.{DECLARATION_API_SERVER_ENDPOINTS}"
    if not isinstance(raw, str) or not raw.strip():
        raise ApiServerUnknown(
            f"the API server's endpoints are not declared; set {DECLARATION_API_SERVER_ENDPOINTS} (comma-separated "
            f"endpoint addresses, e.g. \"192.0.2.10,192.0.2.11\") and {DECLARATION_API_SERVER_PORT} in the stack "
            "declaration ConfigMap")
    try:
        networks = tuple(ipaddress.ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip())
    except ValueError as error:
        raise ApiServerUnknown(f"{where}: {error}; write endpoint addresses such as 192.0.2.10") from None
    port_raw = declaration.get(DECLARATION_API_SERVER_PORT)
    try:
        port = int(port_raw) if port_raw is not None else DEFAULT_API_SERVER_PORT
    except (TypeError, ValueError):
        raise ApiServerUnknown(f"{declaration.where} data.{DECLARATION_API_SERVER_PORT}: {port_raw!r} is not a "
                               "port number") from None
    return Address("the API server", networks), port


def _short_labels(labels: Mapping[str, str]) -> dict[str, str]:
    chosen = {k: labels[k] for k in (LABEL_NAME, LABEL_INSTANCE) if k in labels}
    return chosen or dict(labels)


def _peer_text(pod: Pod) -> str:
    labels = ", ".join(f"{k}: {v}" for k, v in sorted(_short_labels(pod.labels).items()))
    return (f"{{namespaceSelector: {{matchLabels: {{{LABEL_NAMESPACE_NAME}: {pod.namespace}}}}}, "
            f"podSelector: {{matchLabels: {{{labels}}}}}}}")


def _fix(side: Side, src: Endpoint, dst: Endpoint, port: int | None, protocol: str) -> str:
    port_text = f"port {port}/{protocol}" if port is not None else f"the port/{protocol}"
    if side.direction == "Egress":
        if isinstance(dst, Address):
            blocks = ", ".join(str(n) for n in dst.networks)
            to = f"ipBlock {blocks} (one peer per endpoint)"
        else:
            to = _peer_text(dst)
        return f"add to a NetworkPolicy selecting {src.name} an egress rule to {to} on {port_text}"
    assert isinstance(src, Pod)
    return f"add to a NetworkPolicy selecting {dst.name} an ingress rule from {_peer_text(src)} on {port_text}"


def _absent(what: str, namespace: str, namespaces: set[str]) -> str:
    """Why a flow to a receiver the program does not contain is not checked, and what would settle it."""
    if namespace not in namespaces:
        return (f"{what} is in namespace {namespace}, which this stack does not contain: its receiving end (and the "
                "receiver's labels the sending end's egress is matched against) cannot be evaluated here; check it "
                "with the stack that owns it")
    return (f"{what} is not in the program and no operator the pack models creates it, so the flow cannot be "
            "evaluated; add the workload or fix the flow (or, if something outside the program runs it, check it "
            "there)")


def _service_targets(flow: Flow, services: dict[tuple[str, str], KubeObject], index: PodIndex,
                     pods: dict[int, Pod]) -> tuple[list[tuple[Pod, int | str]], str | None]:
    """(destination pod, port) pairs behind a Service port, or a reason there are none (the Service is in
    the stack: flows to a Service the stack lacks are set aside before)."""
    assert flow.service is not None
    service = services[flow.service]
    selector = mapping(service.spec, "selector")
    if not selector:
        return [], f"{service.label} has no selector, so no pod serves it; give it a selector"
    entry = None
    for candidate in items(service.spec, "ports"):
        number_ = number(get(candidate, "port"))
        if flow.port == text(candidate, "name") or (number_ is not None and flow.port == int(number_)):
            if (text(candidate, "protocol") or "TCP") == flow.protocol:
                entry = candidate
                break
    if entry is None:
        return [], f"{service.label} exposes no port {flow.port}/{flow.protocol}; add it to the Service"
    target = get(entry, "targetPort")
    if target is None:
        target = get(entry, "port")
    target_port: int | str = target if isinstance(target, str) else int(number(target) or 0)
    behind = [pods[id(run)] for run in index.matching(service.namespace or "default", selector)]
    if not behind:
        return [], None  # the workload behind it is not in the program: not checked (the caller says why)
    return [(pod, target_port) for pod in behind], None


def check_flows(resources: Sequence[Any]) -> Iterator[tuple[str, str | None]]:
    run_pods = stack_pods(resources)
    sources: list[tuple[RunPod, Pod]] = [
        (run, pod_from_template(run.label, run.workload.namespace or "default", run.template)) for run in run_pods]
    pods = [pod for _, pod in sources]
    index = PodIndex(run_pods)
    pod_of = {id(run): pod for run, pod in sources}
    try:
        cluster = Cluster.from_objects(objects(resources, NAMESPACE + NETWORK_POLICY), extra_pods=pods)
    except NetpolError as error:
        yield f"{error}; fix the CIDR so connectivity can be evaluated", None
        return
    services = {(s.namespace or "default", s.name or ""): s for s in objects(resources, SERVICE)}
    api: tuple[Address, int] | None = None
    api_error: str | None = None
    namespaces = {o.name for o in objects(resources, NAMESPACE) if o.name}
    namespaces |= {run.workload.namespace or "default" for run in run_pods}
    for run, src in sources:
        for flow in declared_flows(run):
            if isinstance(flow, FlowError):
                yield f"{run.label}: {flow}", run.urn
                continue
            if flow.target == "apiServer":
                if api is None and api_error is None:
                    try:
                        api = api_server(resources)
                    except ApiServerUnknown as error:
                        api_error = str(error)
                if api is None:
                    yield f"{run.label}: {flow.described} cannot be checked: {api_error}", run.urn
                    continue
                targets: list[tuple[Endpoint, int | str]] = [(api[0], api[1])]
            elif flow.target == "cidr":
                assert flow.cidr is not None and flow.port is not None
                targets = [(Address(str(flow.cidr), (flow.cidr,)), flow.port)]
            elif flow.target == "service":
                assert flow.service is not None
                if flow.service not in services:
                    what = f"Service {flow.service[0]}/{flow.service[1]}"
                    yield NotJudged(f"{run.label}: {flow.described} is not checked: "
                                    f"{_absent(what, flow.service[0], namespaces)}", run.urn)
                    continue
                found, reason = _service_targets(flow, services, index, pod_of)
                if reason:
                    yield f"{run.label}: {flow.described}: {reason}", run.urn
                    continue
                if not found:
                    service = services[flow.service]
                    what = f"the pods behind {service.label} (selector {dict(mapping(service.spec, 'selector'))})"
                    yield NotJudged(f"{run.label}: {flow.described} is not checked: "
                                    f"{_absent(what, flow.service[0], namespaces)}", run.urn)
                    continue
                targets = list(found)
            else:
                matching = [pod_of[id(run)] for run in index.matching(flow.namespace or "default",
                                                                       flow.match_labels or {})]
                if not matching:
                    namespace = flow.namespace or "default"
                    labels = ",".join(f"{k}={v}" for k, v in sorted((flow.match_labels or {}).items()))
                    yield NotJudged(f"{run.label}: {flow.described} is not checked: "
                                    f"{_absent(f'a pod with {labels} in {namespace}', namespace, namespaces)}",
                                    run.urn)
                    continue
                assert flow.port is not None
                targets = [(p, flow.port) for p in matching]
            yield from _judge(cluster, run, src, flow, targets)


def _judge(cluster: Cluster, run: RunPod, src: Pod, flow: Flow, targets: list[tuple[Endpoint, int | str]]
           ) -> Iterator[tuple[str, str | None]]:
    for dst, port in targets:
        verdict = cluster.reachable(src, dst, port, flow.protocol)
        if verdict.port is None:
            yield (f"{run.label}: {flow.described}: {dst.name} has no container port named {port!r}; name the "
                   "port on the destination container", run.urn)
            continue
        for side in (verdict.egress, verdict.ingress):
            if side.allowed:
                continue
            end = "source" if side.direction == "Egress" else "destination"
            yield (f"{run.label}: {flow.described} is denied at the {end} ({dst.name} port {verdict.port}/"
                   f"{flow.protocol}): {side.explain()}; {_fix(side, src, dst, verdict.port, flow.protocol)}", run.urn)


FLOWS_ADMITTED = StackRule(
    name="system-flows-admitted",
    description="Every flow a component declares is admitted by the NetworkPolicies at both ends.",
    clause="5",
    specification="Nicht-konforme Services sind nicht mergefähig.",
    severity=Severity.HIGH,
    remediation=(
        "Declare what each workload must reach in its pod template annotation cdb-infra.io/flows (a JSON list "
        "of {service|pods|apiServer|cidr, port, purpose}); for every flow, allow it in a NetworkPolicy selecting "
        "the source (egress) and one selecting the destination (ingress). Allow the API server by its endpoint "
        "addresses and port (api-server-endpoints/api-server-port in the stack declaration), never the "
        "kubernetes Service ClusterIP."
    ),
    tags=("network", "whole-system"),
    check=check_flows,
)

RULES = [FLOWS_ADMITTED]
