"""Declared flows: what a workload says it needs to reach, read from the ``cdb-infra.io/flows`` annotation.

The annotation sits on the pod template (or the workload, or a FluxInstance for the controllers it
creates) and holds a JSON list. Each element names exactly one target and, except for the API server,
a port (a number, or a port name: of the Service for ``service``, of the destination container for
``pods``):

    {"service": "event-bus/nats", "port": "client", "purpose": "publish events"}
    {"pods": {"namespace": "event-bus", "matchLabels": {"app.kubernetes.io/name": "nats"}}, "port": 4222}
    {"apiServer": true, "purpose": "watch Streams"}
    {"cidr": "203.0.113.0/24", "port": 443, "purpose": "pull images"}

``protocol`` (TCP, UDP, SCTP; default TCP) and ``purpose`` (free text, shown in messages) are optional;
``component`` limits a flow declared on an operator's custom resource to the pods of that component
(e.g. ``"component": "notification-controller"`` on a FluxInstance).
``pods.namespace`` defaults to the workload's own namespace. Plain YAML writes the same annotation.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .access import get, is_list, is_mapping, mapping, text
from .conventions import ANNOTATION_FLOWS, FLOW_TARGETS
from .operators import RunPod

PROTOCOLS = ("TCP", "UDP", "SCTP")


@dataclass(frozen=True)
class Flow:
    source: RunPod
    index: int
    target: str  # one of FLOW_TARGETS
    service: tuple[str, str] | None = None  # (namespace, name)
    namespace: str | None = None  # pods target
    match_labels: Mapping[str, str] | None = None
    cidr: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    port: int | str | None = None
    protocol: str = "TCP"
    purpose: str = ""

    @property
    def described(self) -> str:
        if self.target == "service" and self.service:
            to = f"Service {self.service[0]}/{self.service[1]} port {self.port}/{self.protocol}"
        elif self.target == "pods":
            labels = ",".join(f"{k}={v}" for k, v in sorted((self.match_labels or {}).items()))
            to = f"pods {labels} in {self.namespace} port {self.port}/{self.protocol}"
        elif self.target == "apiServer":
            to = "the API server"
        else:
            to = f"{self.cidr} port {self.port}/{self.protocol}"
        purpose = f' "{self.purpose}"' if self.purpose else ""
        return f"flow[{self.index}]{purpose} to {to}"


class FlowError(ValueError):
    """A malformed flow declaration; the message names the element and the fix."""


def _port(value: Any, where: str) -> int | str:
    if isinstance(value, bool):
        raise FlowError(f"{where}: port must be a number or a port name")
    if isinstance(value, (int, float)) and float(value).is_integer() and 1 <= int(value) <= 65535:
        return int(value)
    if isinstance(value, str) and value:
        return value
    raise FlowError(f"{where}: port {value!r} is not a port number 1-65535 or a port name")


def parse_flow(source: RunPod, index: int, raw: Any) -> Flow:
    where = f"{ANNOTATION_FLOWS}[{index}]"
    if not is_mapping(raw):
        raise FlowError(f"{where} is not an object; write e.g. {{\"service\": \"ns/name\", \"port\": 80}}")
    targets = [key for key in FLOW_TARGETS if get(raw, key) is not None]
    if len(targets) != 1:
        raise FlowError(f"{where} names {len(targets)} targets; set exactly one of {', '.join(FLOW_TARGETS)}")
    target = targets[0]
    protocol = text(raw, "protocol") or "TCP"
    if protocol not in PROTOCOLS:
        raise FlowError(f"{where}: protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}")
    common: dict[str, Any] = {"source": source, "index": index, "target": target, "protocol": protocol,
                              "purpose": text(raw, "purpose") or ""}
    if target == "apiServer":
        if get(raw, "apiServer") is not True:
            raise FlowError(f"{where}: apiServer must be true")
        return Flow(**common)
    port = _port(get(raw, "port"), where)
    if target == "service":
        name = text(raw, "service") or ""
        namespace, _, service = name.rpartition("/")
        if not service:
            raise FlowError(f'{where}: service {name!r} is not "namespace/name" or "name"')
        return Flow(**common, service=(namespace or source.workload.namespace or "default", service), port=port)
    if target == "pods":
        pods = mapping(raw, "pods")
        labels = mapping(pods, "matchLabels")
        if not labels or not all(isinstance(v, str) for v in labels.values()):
            raise FlowError(f"{where}: pods.matchLabels must name the destination pods' labels")
        return Flow(**common, namespace=text(pods, "namespace") or source.workload.namespace or "default",
                    match_labels=dict(labels), port=port)
    try:
        cidr = ipaddress.ip_network(str(get(raw, "cidr")), strict=False)
    except ValueError:
        raise FlowError(f"{where}: cidr {get(raw, 'cidr')!r} is not a network such as 203.0.113.0/24") from None
    if isinstance(port, str):
        raise FlowError(f"{where}: a cidr flow needs a port number, not a name")
    return Flow(**common, cidr=cidr, port=port)


def declared_flows(pod: RunPod) -> Iterator[Flow | FlowError]:
    """The flows a pod declares (pod template annotation, else the workload's), or the parse errors."""
    raw = get(mapping(pod.template.metadata, "annotations"), ANNOTATION_FLOWS)
    if raw is None:
        raw = get(pod.workload.annotations, ANNOTATION_FLOWS)
    if raw is None:
        return
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else None
    except json.JSONDecodeError as error:
        yield FlowError(f"{ANNOTATION_FLOWS} is not JSON ({error.msg} at {error.pos})")
        return
    if not is_list(parsed):
        yield FlowError(f"{ANNOTATION_FLOWS} must be a JSON list of flows")
        return
    for index, element in enumerate(parsed):
        component = get(element, "component") if is_mapping(element) else None
        if isinstance(component, str) and component != pod.workload.name:
            continue
        try:
            yield parse_flow(pod, index, element)
        except FlowError as error:
            yield error
