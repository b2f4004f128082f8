"""NetworkPolicy semantics of policy_pack/rules/helpers/netpol.py, one table per feature.

Each case is a set of policies (as manifests), a source, a destination and a port, and the verdict the
Kubernetes NetworkPolicy API defines for it.
"""

from __future__ import annotations

import ipaddress

import pytest

from policy_pack.rules.helpers.netpol import (
    Address, Cluster, ContainerPort, NetpolError, Pod, parse_policy, zone_paths,
)
from policy_pack.rules.helpers.objects import KubeObject

WEB = Pod("Deployment apps/web", "apps", {"app": "web", "tier": "front"}, (ContainerPort(8080, "http"),))
API = Pod("Deployment apps/api", "apps", {"app": "api"}, (ContainerPort(9000, "grpc"), ContainerPort(53, "dns", "UDP")))
NATS = Pod("StatefulSet bus/nats", "bus", {"app": "nats"}, (ContainerPort(4222, "client"), ContainerPort(8222, "monitor")))
EXPORTER = Pod("Deployment obs/exporter", "obs", {"app": "exporter"})
APISERVER = Address("api-server", (ipaddress.ip_network("192.0.2.10/32"), ipaddress.ip_network("192.0.2.11/32")))
NAMESPACES = {"apps": {"team": "shop"}, "bus": {"tier": "platform"}, "obs": {"tier": "platform"}}


def policy(name: str, namespace: str, spec: dict) -> KubeObject:
    return KubeObject("networking.k8s.io", "NetworkPolicy",
                      {"metadata": {"name": name, "namespace": namespace}, "spec": spec})


def cluster(*policies: KubeObject, pod_networks: tuple = ()) -> Cluster:
    namespaces = [KubeObject("core", "Namespace", {"metadata": {"name": n, "labels": labels}})
                  for n, labels in NAMESPACES.items()]
    return Cluster.from_objects([*namespaces, *policies], extra_pods=[WEB, API, NATS, EXPORTER],
                                pod_networks=pod_networks)


DENY_ALL_BUS = policy("deny", "bus", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
DENY_ALL_APPS = policy("deny", "apps", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})


def ingress_nats(peers: list | None, ports: list | None = None) -> KubeObject:
    rule: dict = {}
    if peers is not None:
        rule["from"] = peers
    if ports is not None:
        rule["ports"] = ports
    return policy("nats", "bus", {"podSelector": {"matchLabels": {"app": "nats"}}, "policyTypes": ["Ingress"],
                                  "ingress": [rule]})


def egress_web(peers: list | None, ports: list | None = None) -> KubeObject:
    rule: dict = {}
    if peers is not None:
        rule["to"] = peers
    if ports is not None:
        rule["ports"] = ports
    return policy("web", "apps", {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Egress"],
                                  "egress": [rule]})


# --- default allow, default deny, isolation only for listed directions --------------------------------
ISOLATION = [
    ("no policy at all allows everything", [], True),
    ("a deny-all in the destination namespace denies ingress", [DENY_ALL_BUS], False),
    ("a deny-all in the source namespace denies egress", [DENY_ALL_APPS], False),
    ("an Ingress-only deny in the source namespace leaves egress open",
     [policy("deny", "apps", {"podSelector": {}, "policyTypes": ["Ingress"]})], True),
    ("an Egress-only deny in the destination namespace leaves ingress open",
     [policy("deny", "bus", {"podSelector": {}, "policyTypes": ["Egress"]})], True),
    ("policyTypes omitted means Ingress: an empty policy isolates ingress",
     [policy("deny", "bus", {"podSelector": {}})], False),
    ("policyTypes omitted with an empty egress list does not isolate egress",
     [policy("deny", "apps", {"podSelector": {}, "egress": []})], True),
    ("policyTypes omitted with egress rules isolates egress too",
     [policy("only-dns", "apps", {"podSelector": {}, "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]})],
     False),
    ("a deny selecting other pods does not isolate the destination",
     [policy("deny", "bus", {"podSelector": {"matchLabels": {"app": "other"}}, "policyTypes": ["Ingress"]})], True),
    ("a deny in another namespace does not apply",
     [policy("deny", "obs", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})], True),
]


@pytest.mark.parametrize(("label", "policies", "allowed"), ISOLATION, ids=[c[0] for c in ISOLATION])
def test_isolation_follows_policy_types_and_their_defaults(label, policies, allowed):
    assert cluster(*policies).reachable(WEB, NATS, 4222).allowed is allowed


# --- peers: pod selector, namespace selector, both in one peer, separate peers ------------------------
APPS_NS = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "apps"}}}
WEB_PODS = {"podSelector": {"matchLabels": {"app": "web"}}}
PEERS = [
    ("namespace selector by metadata.name", [APPS_NS], WEB, True),
    ("namespace selector by a namespace label", [{"namespaceSelector": {"matchLabels": {"team": "shop"}}}], WEB, True),
    ("namespace selector of another namespace", [{"namespaceSelector": {"matchLabels": {"tier": "platform"}}}],
     WEB, False),
    ("empty namespace selector: every namespace", [{"namespaceSelector": {}}], WEB, True),
    ("pod selector alone means the policy's own namespace", [WEB_PODS], WEB, False),
    ("pod selector alone admits a pod of its own namespace",
     [{"podSelector": {"matchLabels": {"app": "exporter"}}}], EXPORTER, False),
    ("both in one peer: matching pod in matching namespace", [{**APPS_NS, **WEB_PODS}], WEB, True),
    ("both in one peer: other pod of the matching namespace is not admitted", [{**APPS_NS, **WEB_PODS}], API, False),
    ("separate peers are a union: the namespace peer admits any pod of it", [APPS_NS, WEB_PODS], API, True),
    ("matchExpressions In", [{"namespaceSelector": {}, "podSelector": {"matchExpressions": [
        {"key": "app", "operator": "In", "values": ["web", "x"]}]}}], WEB, True),
    ("matchExpressions NotIn", [{"namespaceSelector": {}, "podSelector": {"matchExpressions": [
        {"key": "app", "operator": "NotIn", "values": ["web"]}]}}], WEB, False),
    ("matchExpressions Exists", [{"namespaceSelector": {}, "podSelector": {"matchExpressions": [
        {"key": "tier", "operator": "Exists"}]}}], WEB, True),
    ("matchExpressions DoesNotExist", [{"namespaceSelector": {}, "podSelector": {"matchExpressions": [
        {"key": "tier", "operator": "DoesNotExist"}]}}], WEB, False),
    ("a rule without from admits every source", None, API, True),
    ("a rule with an empty from admits every source", [], API, True),
]


@pytest.mark.parametrize(("label", "peers", "source", "allowed"), PEERS, ids=[c[0] for c in PEERS])
def test_ingress_peers_follow_selector_semantics(label, peers, source, allowed):
    verdict = cluster(DENY_ALL_BUS, ingress_nats(peers)).reachable(source, NATS, 4222)
    assert verdict.ingress.allowed is allowed
    if allowed:
        assert verdict.ingress.admitted_by.name == "nats"


def test_same_namespace_pod_selector_admits_the_exporter_when_it_lives_there():
    exporter_in_bus = Pod("Deployment bus/exporter", "bus", {"app": "exporter"})
    c = cluster(DENY_ALL_BUS, ingress_nats([{"podSelector": {"matchLabels": {"app": "exporter"}}}]))
    assert c.reachable(exporter_in_bus, NATS, 4222).ingress.allowed


# --- ports: numbers, named ports, endPort, protocol ---------------------------------------------------
PORTS = [
    ("numeric port matches", [{"port": 4222}], 4222, "TCP", True),
    ("numeric port arriving as a float (protobuf Struct) matches", [{"port": 4222.0}], 4222, "TCP", True),
    ("other numeric port", [{"port": 4223}], 4222, "TCP", False),
    ("protocol defaults to TCP, so UDP is not admitted", [{"port": 4222}], 4222, "UDP", False),
    ("explicit UDP", [{"port": 4222, "protocol": "UDP"}], 4222, "UDP", True),
    ("named port resolved on the destination container", [{"port": "client"}], 4222, "TCP", True),
    ("named port of another number", [{"port": "monitor"}], 4222, "TCP", False),
    ("named port that the destination does not have", [{"port": "http"}], 4222, "TCP", False),
    ("flow given by port name", [{"port": 4222}], "client", "TCP", True),
    ("endPort range includes the port", [{"port": 4000, "endPort": 4300}], 4222, "TCP", True),
    ("endPort range excludes the port", [{"port": 4000, "endPort": 4200}], 4222, "TCP", False),
    ("protocol only: every port of it", [{"protocol": "TCP"}], 4222, "TCP", True),
    ("no ports: every port", None, 8222, "TCP", True),
    ("one of several entries matches", [{"port": 1}, {"port": 8222}], 8222, "TCP", True),
]


@pytest.mark.parametrize(("label", "ports", "port", "protocol", "allowed"), PORTS, ids=[c[0] for c in PORTS])
def test_ports_follow_port_semantics(label, ports, port, protocol, allowed):
    verdict = cluster(DENY_ALL_BUS, ingress_nats([APPS_NS], ports)).reachable(WEB, NATS, port, protocol)
    assert verdict.ingress.allowed is allowed


def test_named_port_in_an_egress_rule_is_resolved_against_the_destination_pod():
    c = cluster(DENY_ALL_APPS, egress_web([{"namespaceSelector": {}}], [{"port": "client"}]))
    assert c.reachable(WEB, NATS, 4222).egress.allowed
    assert not c.reachable(WEB, NATS, 8222).egress.allowed


# --- ipBlock with except, against address endpoints and the pod network -----------------------------
IPBLOCK = [
    ("a /24 holding every endpoint", {"cidr": "192.0.2.0/24"}, True),
    ("one endpoint only is not enough", {"cidr": "192.0.2.10/32"}, False),
    ("an IPv6 block does not cover IPv4 endpoints", {"cidr": "2001:db8::/32"}, False),
    ("an except carving out an endpoint", {"cidr": "192.0.2.0/24", "except": ["192.0.2.11/32"]}, False),
    ("an except elsewhere", {"cidr": "192.0.2.0/24", "except": ["192.0.2.128/25"]}, True),
    ("the Service ClusterIP is not the API server", {"cidr": "10.96.0.1/32"}, False),
    ("everything", {"cidr": "0.0.0.0/0"}, True),
    ("IPv6 everything does not cover IPv4 endpoints", {"cidr": "::/0"}, False),
]


@pytest.mark.parametrize(("label", "block", "allowed"), IPBLOCK, ids=[c[0] for c in IPBLOCK])
def test_ip_blocks_cover_the_api_server_endpoints_as_networks(label, block, allowed):
    c = cluster(DENY_ALL_APPS, egress_web([{"ipBlock": block}], [{"port": 6443}]))
    assert c.reachable(WEB, APISERVER, 6443).allowed is allowed


def test_each_api_server_endpoint_may_be_admitted_by_a_different_peer_or_rule():
    separate_peers = egress_web([{"ipBlock": {"cidr": "192.0.2.10/32"}}, {"ipBlock": {"cidr": "192.0.2.11/32"}}],
                                [{"port": 6443}])
    assert cluster(DENY_ALL_APPS, separate_peers).reachable(WEB, APISERVER, 6443).allowed
    other_rule = policy("second", "apps", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [
        {"to": [{"ipBlock": {"cidr": "192.0.2.11/32"}}], "ports": [{"port": 6443}]}]})
    one = egress_web([{"ipBlock": {"cidr": "192.0.2.10/32"}}], [{"port": 6443}])
    assert cluster(DENY_ALL_APPS, one, other_rule).reachable(WEB, APISERVER, 6443).allowed
    assert not cluster(DENY_ALL_APPS, one).reachable(WEB, APISERVER, 6443).allowed
    assert not cluster(DENY_ALL_APPS, separate_peers).reachable(WEB, APISERVER, 443).allowed


def test_ip_blocks_do_not_match_pods_unless_a_pod_network_is_given():
    policies = (DENY_ALL_APPS, egress_web([{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}]))
    assert not cluster(*policies).reachable(WEB, NATS, 4222).allowed
    assert not cluster(*policies, pod_networks=(ipaddress.ip_network("10.244.0.0/16"),)).reachable(
        WEB, NATS, 4222).egress.allowed
    assert cluster(*policies, pod_networks=(ipaddress.ip_network("0.0.0.0/0"),)).reachable(
        WEB, NATS, 4222).egress.allowed


def test_selector_peers_never_match_addresses():
    c = cluster(DENY_ALL_APPS, egress_web([{"namespaceSelector": {}}]))
    assert not c.reachable(WEB, APISERVER, 6443).allowed


def test_a_malformed_cidr_is_an_error_naming_the_policy():
    with pytest.raises(NetpolError, match="NetworkPolicy apps/web: ipBlock.cidr: '10.0.0.300/8'"):
        parse_policy({"metadata": {"name": "web"}, "spec": {"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.300/8"}}]}]}},
                     "apps")


# --- both ends, unions, explanations ------------------------------------------------------------------
def test_a_flow_needs_both_the_egress_and_the_ingress_side():
    only_ingress = cluster(DENY_ALL_APPS, DENY_ALL_BUS, ingress_nats([APPS_NS]))
    verdict = only_ingress.reachable(WEB, NATS, 4222)
    assert verdict.ingress.allowed and not verdict.egress.allowed
    assert "egress denied: selected by NetworkPolicy apps/deny" in verdict.egress.explain()
    both = cluster(DENY_ALL_APPS, DENY_ALL_BUS, ingress_nats([APPS_NS]), egress_web([{"namespaceSelector": {}}]))
    assert both.reachable(WEB, NATS, 4222).allowed


def test_policies_selecting_the_same_pod_are_a_union():
    narrow = policy("narrow", "bus", {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {
        "matchLabels": {"tier": "platform"}}}]}]})
    c = cluster(narrow, ingress_nats([APPS_NS], [{"port": 4222}]))
    assert c.reachable(WEB, NATS, 4222).allowed
    assert c.reachable(EXPORTER, NATS, 8222).allowed
    assert not c.reachable(WEB, NATS, 8222).allowed


def test_host_network_pods_are_never_isolated():
    host = Pod("DaemonSet bus/agent", "bus", {"app": "nats"}, host_network=True)
    assert cluster(DENY_ALL_BUS).reachable(WEB, host, 4222).ingress.allowed


def test_allowed_paths_enumerate_admitted_connections_by_zone():
    c = cluster(DENY_ALL_APPS, DENY_ALL_BUS, ingress_nats([APPS_NS], [{"port": "client"}]),
                egress_web([{"namespaceSelector": {"matchLabels": {"tier": "platform"}}}]))
    paths = c.allowed_paths(addresses=[APISERVER], ports={"api-server": [6443]})
    into_bus = {(p.source.name, p.destination.name, p.port) for p in zone_paths(paths)[("apps", "bus")]}
    assert into_bus == {("Deployment apps/web", "StatefulSet bus/nats", 4222)}
    assert ("apps", "api-server") not in zone_paths(paths)  # egress from apps is denied except web->platform
    assert ("obs", "api-server") in zone_paths(paths)  # obs is not isolated at all
    path = zone_paths(paths)[("apps", "bus")][0]
    assert (path.egress_by.name, path.ingress_by.name) == ("web", "nats")
