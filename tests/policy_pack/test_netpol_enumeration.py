"""`Cluster.allowed_paths()` (grouped by peer and egress class) gives exactly the paths, in the same order
and with the same deciding policies, as asking `reachable` for every pair (`allowed_paths_pairwise`).

Clusters are drawn at random from a small vocabulary, so labels, selectors, named ports and namespaces
collide often: the cases where grouping could go wrong (equal selectors in different policies, a pod
selected by several policies, named ports that resolve differently per destination, hostNetwork pods,
ipBlocks that cover the pod network or not).
"""

from __future__ import annotations

import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy_pack.rules.helpers.netpol import Address, Cluster, ContainerPort, Pod, parse_policy, zone_paths

NAMESPACES = ("apps", "bus", "vault")
KEYS = ("app", "tier", "team")
VALUES = ("a", "b", "c")
PORT_NAMES = ("http", "client", "metrics")
NETWORKS = ("10.244.0.0/16", "10.0.0.0/8", "192.0.2.0/24")

labels = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=3)
expression = st.fixed_dictionaries({
    "key": st.sampled_from(KEYS), "operator": st.sampled_from(("In", "NotIn", "Exists", "DoesNotExist")),
}, optional={"values": st.lists(st.sampled_from(VALUES), max_size=2)})
# Mostly tiny selectors, so equal peers in different policies and namespaces are common.
selector = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"matchLabels": st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES[:2]),
                                                          min_size=1, max_size=1)}),
    st.fixed_dictionaries({}, optional={"matchLabels": labels, "matchExpressions": st.lists(expression, max_size=2)}),
)
ip_block = st.fixed_dictionaries({"cidr": st.sampled_from(NETWORKS)},
                                 optional={"except": st.lists(st.sampled_from(("10.244.1.0/24", "192.0.2.128/25")),
                                                              max_size=1)})
peer = st.one_of(
    st.fixed_dictionaries({"podSelector": selector}),
    st.fixed_dictionaries({"namespaceSelector": selector}),
    st.fixed_dictionaries({"podSelector": selector, "namespaceSelector": selector}),
    st.fixed_dictionaries({"ipBlock": ip_block}),
)
port_rule = st.fixed_dictionaries({}, optional={
    "port": st.one_of(st.sampled_from((80, 8080)), st.sampled_from(PORT_NAMES)),
    "protocol": st.sampled_from(("TCP", "TCP", "UDP")),
    "endPort": st.sampled_from((8080, 9100)),
})


def rule(peers_key: str):
    return st.fixed_dictionaries({}, optional={peers_key: st.lists(peer, max_size=3),
                                               "ports": st.lists(port_rule, max_size=2)})


policy_spec = st.fixed_dictionaries({"podSelector": selector}, optional={
    "policyTypes": st.lists(st.sampled_from(("Ingress", "Egress")), max_size=2, unique=True),
    "ingress": st.lists(rule("from"), max_size=2),
    "egress": st.lists(rule("to"), max_size=2),
})
container_port = st.builds(ContainerPort, st.sampled_from((80, 8080, 9000)),
                           st.one_of(st.none(), st.sampled_from(PORT_NAMES)), st.sampled_from(("TCP", "TCP", "UDP")))


@st.composite
def clusters(draw) -> Cluster:
    namespaces = {n: {**draw(labels), "kubernetes.io/metadata.name": n} for n in NAMESPACES[:draw(st.integers(1, 3))]}
    pods = tuple(
        Pod(f"Deployment {ns}/p{i}", ns, draw(labels), tuple(draw(st.lists(container_port, min_size=1, max_size=2))),
            host_network=draw(st.integers(0, 9)) == 0)
        for i, ns in enumerate(draw(st.lists(st.sampled_from(NAMESPACES), min_size=1, max_size=8))))
    policies = tuple(parse_policy({"metadata": {"name": f"np{i}"}, "spec": draw(policy_spec)}, ns)
                     for i, ns in enumerate(draw(st.lists(st.sampled_from(NAMESPACES), max_size=6))))
    pod_networks = tuple(ipaddress.ip_network(n) for n in draw(st.lists(st.sampled_from(NETWORKS[:2]), max_size=1)))
    return Cluster(namespaces, policies, pods, pod_networks)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters())
def test_grouped_enumeration_equals_asking_every_pair(cluster: Cluster) -> None:
    api = Address("api-server", (ipaddress.ip_network("192.0.2.10/32"),))
    expected = cluster.allowed_paths_pairwise([api], {"api-server": [6443, 443]})
    assert cluster.allowed_paths([api], {"api-server": [6443, 443]}) == expected


def test_equal_peers_of_policies_in_different_namespaces_select_each_their_own_pods() -> None:
    pods = tuple(Pod(f"Deployment {ns}/{n}", ns, {}, (ContainerPort(80),)) for ns, n in
                 (("apps", "a"), ("bus", "b"), ("apps", "c"), ("bus", "d")))
    same_peer = {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]}
    cluster = Cluster({}, tuple(parse_policy({"metadata": {"name": "x"}, "spec": same_peer}, ns)
                                for ns in ("apps", "bus")), pods)
    found = cluster.allowed_paths()
    assert found == cluster.allowed_paths_pairwise()
    assert {(p.source.name, p.destination.name) for p in found} == {
        ("Deployment apps/a", "Deployment apps/c"), ("Deployment apps/c", "Deployment apps/a"),
        ("Deployment bus/b", "Deployment bus/d"), ("Deployment bus/d", "Deployment bus/b")}


def test_a_pod_listed_twice_never_reaches_itself_but_reaches_its_equal_twin() -> None:
    web = Pod("Deployment apps/web", "apps", {"app": "web"}, (ContainerPort(8080, "http"),))
    twin = Pod("Deployment apps/web", "apps", {"app": "web"}, (ContainerPort(8080, "http"),))
    cluster = Cluster({}, (), (web, web, twin))
    found = cluster.allowed_paths()
    assert found == cluster.allowed_paths_pairwise()
    assert [(p.source is p.destination) for p in found] == [False] * len(found)
    assert len(found) == 4  # web -> twin twice (web is listed twice), twin -> web twice


def test_a_thousand_services_behind_one_shared_selector_give_the_same_zone_paths() -> None:
    # The benchmark's shape: every service admits `podSelector: {}` on its port; only the bus is open.
    pods = [Pod(f"Deployment apps/s{i}", "apps", {"app": f"s{i}"}, (ContainerPort(8080, "http"),))
            for i in range(120)]
    pods.append(Pod("StatefulSet bus/nats", "bus", {"app": "nats"}, (ContainerPort(4222, "client"),)))
    policies = [parse_policy({"metadata": {"name": f"s{i}"}, "spec": {
        "podSelector": {"matchLabels": {"app": f"s{i}"}}, "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"podSelector": {}}], "ports": [{"port": 8080}]}],
        "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "bus"}}}]}]}},
        "apps") for i in range(120)]
    cluster = Cluster({}, tuple(policies), tuple(pods))
    found = cluster.allowed_paths()
    assert found == cluster.allowed_paths_pairwise()
    assert {k: len(v) for k, v in zone_paths(found).items()} == {("apps", "bus"): 120}
