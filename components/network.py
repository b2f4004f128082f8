"""Named network peers for NetworkPolicies: traffic is allowed only to and from what is named here."""

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from components import conventions, names
from components.intent import Intent

Namespace = Annotated[str, AfterValidator(names.dns_label)]
Labels = Annotated[dict[str, str], AfterValidator(names.labels)]


def _peer(namespace: str | None, pod_labels: dict[str, str] | None) -> dict[str, Any]:
    # Both selectors in one peer entry mean "these pods in that namespace" (AND), not either.
    peer: dict[str, Any] = {}
    if namespace is not None:
        peer["namespaceSelector"] = {"matchLabels": {conventions.LABEL_NAMESPACE_NAME: namespace}}
    if pod_labels:
        peer["podSelector"] = {"matchLabels": dict(pod_labels)}
    return peer


class Peer(Intent):
    """Pods allowed to connect: all pods of a namespace, pods with labels (in the policy's own
    namespace unless `namespace` is set), or labelled pods in a named namespace."""

    namespace: Namespace | None = Field(default=None, description="Namespace name the traffic comes from")
    pod_labels: Labels | None = Field(default=None, description="Labels of the pods the traffic comes from")

    @model_validator(mode="after")
    def _named(self) -> "Peer":
        if self.namespace is None and not self.pod_labels:
            raise ValueError("an ingress source names nothing; set namespace, pod_labels or both")
        return self

    def to_k8s(self) -> dict[str, Any]:
        return _peer(self.namespace, self.pod_labels)


class Destination(Intent):
    """Where a workload may send traffic: pods (by namespace and/or labels) or a named network, on given ports."""

    namespace: Namespace | None = Field(default=None, description="Namespace name of the destination pods")
    pod_labels: Labels | None = Field(default=None, description="Labels of the destination pods")
    cidr: str | None = Field(default=None, description="Destination network outside the cluster, e.g. '10.20.0.0/16'")
    ports: tuple[Annotated[int, AfterValidator(names.port_number)], ...] = Field(min_length=1, description="Destination port numbers")
    protocol: Literal["TCP", "UDP"] = Field(default="TCP", description="Transport protocol of the ports")

    @model_validator(mode="after")
    def _named(self) -> "Destination":
        if self.cidr is not None:
            if self.namespace is not None or self.pod_labels:
                raise ValueError("an egress destination is either pods (namespace/pod_labels) or a cidr; split it in two")
            try:
                network = ipaddress.ip_network(self.cidr, strict=True)
            except ValueError:
                raise ValueError(f"cidr {self.cidr!r} is not a network address; write e.g. '10.20.0.0/16'") from None
            if network.prefixlen == 0:
                raise ValueError(f"cidr {self.cidr!r} allows every address; name the destination network instead")
        elif self.namespace is None and not self.pod_labels:
            raise ValueError("an egress destination names nothing; set namespace, pod_labels or cidr")
        return self

    def to_k8s(self) -> dict[str, Any]:
        peer = {"ipBlock": {"cidr": self.cidr}} if self.cidr is not None else _peer(self.namespace, self.pod_labels)
        return {"to": [peer], "ports": [{"protocol": self.protocol, "port": port} for port in self.ports]}


def client_egress_policies(
    clients: tuple[Peer, ...], server_namespace: str, server_labels: dict[str, str], ports: tuple[int, ...]
) -> list[tuple[str, dict[str, Any]]]:
    """The client side of a server's ingress: (namespace, NetworkPolicy spec) per client namespace.

    A server that admits a zone on its port is not reachable until that zone's default-deny also lets
    its pods out to the server; both ends must allow a flow. Only these server pods, only these ports.
    Clients in the server's own namespace are left to the server's own policies.
    """
    server = {"namespaceSelector": {"matchLabels": {conventions.LABEL_NAMESPACE_NAME: server_namespace}},
              "podSelector": {"matchLabels": dict(server_labels)}}
    out = []
    for peer in clients:
        if peer.namespace is None or peer.namespace == server_namespace:
            continue
        out.append((peer.namespace, {
            "podSelector": {"matchLabels": dict(peer.pod_labels)} if peer.pod_labels else {},
            "policyTypes": ["Egress"],
            "egress": [{"to": [server], "ports": [{"protocol": "TCP", "port": port} for port in ports]}],
        }))
    return out
