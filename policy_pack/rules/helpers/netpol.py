"""NetworkPolicy semantics as one pure model: who may talk to whom, and which policy decides.

Used by the connectivity rule (every declared flow is admitted at both ends), by the AI-isolation rule
and by anything that draws reachability (e.g. an HTML picture of the zones). Three steps:

1. ``Cluster.from_objects(objects)`` parses Namespaces, NetworkPolicies and workloads (one ``Pod`` per
   pod template) into plain frozen dataclasses; ``Cluster(...)`` can also be built by hand.
2. ``cluster.reachable(src, dst, port, protocol)`` answers one question with a ``Verdict``: the egress
   side (policies selecting ``src``) and the ingress side (policies selecting ``dst``) each say whether
   they isolate the pod for that direction and which policy admits the connection, if any.
3. ``cluster.allowed_paths()`` enumerates every admitted (source, destination, port) and
   ``zone_paths`` groups them by (source namespace, destination namespace).

Semantics implemented (networking.k8s.io/v1, as the API server defaults and CNIs enforce them):
- ``policyTypes`` omitted means ``[Ingress]``, plus ``Egress`` when the policy has a non-empty egress list.
- A pod is isolated for a direction only when some policy of its namespace selects it for that direction;
  then the union of all those policies' rules is what is allowed (no ordering, no deny rules).
- A rule with no ``from``/``to`` admits every peer; with no ``ports`` every port.
- Peers: ``podSelector`` alone means pods of the policy's namespace; ``namespaceSelector`` alone means every
  pod of the matching namespaces; both in ONE peer means matching pods in matching namespaces (two separate
  peers are a union). Namespaces are matched by their labels, ``kubernetes.io/metadata.name`` included.
- ``ipBlock`` with ``except`` is evaluated with ``ipaddress`` networks. It matches address endpoints (the API
  server's endpoints, an external CIDR). Pod IPs are not known offline: an ipBlock matches a pod only when
  it overlaps one of ``Cluster.pod_networks`` outside its excepts (empty by default: no match; pass the
  whole address space to get the conservative "may reach" answer an isolation check needs).
- Ports: ``protocol`` (default TCP), numeric ``port`` with optional ``endPort`` range, named ports resolved
  against the destination pod's container ports (name and protocol), no port meaning every port.
- Pods with ``hostNetwork: true`` are outside NetworkPolicy: never isolated.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Union, cast

from .access import get, items, mapping, number, text
from .conventions import LABEL_NAMESPACE_NAME
from .objects import KubeObject, selector_matches
from .podspec import PodTemplate, containers

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
INGRESS, EGRESS = "Ingress", "Egress"


@dataclass(frozen=True)
class ContainerPort:
    number: int
    name: str | None = None
    protocol: str = "TCP"


@dataclass(frozen=True)
class Pod:
    """A pod the stack runs (one per pod template: replicas share labels, so they share verdicts)."""

    name: str  # how messages name it, e.g. "Deployment apps/web"
    namespace: str
    labels: Mapping[str, str]
    ports: tuple[ContainerPort, ...] = ()
    host_network: bool = False

    def port_named(self, name: str, protocol: str) -> int | None:
        return next((p.number for p in self.ports if p.name == name and p.protocol == protocol), None)


@dataclass(frozen=True)
class Address:
    """A destination or source outside the pod network: the API server's endpoints, an external CIDR."""

    name: str
    networks: tuple[Network, ...]


Endpoint = Union[Pod, Address]


@dataclass(frozen=True)
class IpBlock:
    cidr: Network
    excepts: tuple[Network, ...] = ()

    def covers(self, network: Network) -> bool:
        """Every address of ``network`` is in the block and outside its excepts."""
        if network.version != self.cidr.version or not network.subnet_of(self.cidr):  # type: ignore[arg-type]
            return False
        return not any(network.overlaps(e) for e in self.excepts)

    def overlaps(self, network: Network) -> bool:
        """Some address of ``network`` is in the block and outside its excepts."""
        if network.version != self.cidr.version or not network.overlaps(self.cidr):
            return False
        inside = network if network.subnet_of(self.cidr) else self.cidr  # type: ignore[arg-type]
        remaining = [inside]
        for excluded in self.excepts:
            remaining = [piece for net in remaining for piece in _minus(net, excluded)]
        return bool(remaining)


def _minus(network: Network, excluded: Network) -> list[Network]:
    if network.version != excluded.version or not network.overlaps(excluded):
        return [network]
    if network.subnet_of(excluded):  # type: ignore[arg-type]
        return []
    return list(network.address_exclude(excluded))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Peer:
    pod_selector: Mapping[str, Any] | None = None
    namespace_selector: Mapping[str, Any] | None = None
    ip_block: IpBlock | None = None


@dataclass(frozen=True)
class PortRule:
    protocol: str = "TCP"
    port: int | str | None = None  # None: every port of the protocol
    end_port: int | None = None


@dataclass(frozen=True)
class Rule:
    peers: tuple[Peer, ...] | None  # None: the rule has no from/to, every peer
    ports: tuple[PortRule, ...] | None  # None: every port


@dataclass(frozen=True)
class Policy:
    name: str
    namespace: str
    pod_selector: Mapping[str, Any]
    types: frozenset[str]
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()

    @property
    def label(self) -> str:
        return f"NetworkPolicy {self.namespace}/{self.name}"

    def selects(self, pod: Pod) -> bool:
        return pod.namespace == self.namespace and selector_matches(self.pod_selector, pod.labels)


@dataclass(frozen=True)
class Side:
    """One end's answer: whether policies isolate the pod for this direction, and who admits the flow."""

    direction: str
    isolated: bool
    selecting: tuple[Policy, ...] = ()
    admitted_by: Policy | None = None

    @property
    def allowed(self) -> bool:
        return not self.isolated or self.admitted_by is not None

    def explain(self) -> str:
        if not self.isolated:
            return f"{self.direction.lower()} is not isolated (no NetworkPolicy selects the pod for {self.direction})"
        if self.admitted_by is not None:
            return f"{self.direction.lower()} admitted by {self.admitted_by.label}"
        names = ", ".join(p.label for p in self.selecting)
        return f"{self.direction.lower()} denied: selected by {names}, none of which admits it"


@dataclass(frozen=True)
class Verdict:
    source: Endpoint
    destination: Endpoint
    port: int | None
    protocol: str
    egress: Side
    ingress: Side

    @property
    def allowed(self) -> bool:
        return self.egress.allowed and self.ingress.allowed


@dataclass(frozen=True)
class Path:
    source: Endpoint
    destination: Endpoint
    port: int
    protocol: str
    egress_by: Policy | None  # None: the source is not isolated for egress
    ingress_by: Policy | None  # None: the destination is not isolated for ingress (or is an address)


_OPEN = Side(EGRESS, False)


@dataclass(frozen=True)
class Cluster:
    namespaces: Mapping[str, Mapping[str, str]]  # name -> labels (kubernetes.io/metadata.name added)
    policies: tuple[Policy, ...]
    pods: tuple[Pod, ...]
    pod_networks: tuple[Network, ...] = field(default=())
    # Policies of a namespace by one label their podSelector requires, so a pod is compared with the
    # policies that can select it only (stacks hold hundreds of policies); filled on first use.
    _index: dict[str, tuple[dict[tuple[str, Any], list[tuple[int, Policy]]], list[tuple[int, Policy]]]] = field(
        default_factory=dict, compare=False, repr=False)
    # Pods by (namespace,) and (namespace, label key, value), and each peer's matching pods.
    _pod_index: dict[tuple[Any, ...], list[int]] = field(default_factory=dict, compare=False, repr=False)
    _peer_cache: dict[tuple[str, str], frozenset[int]] = field(
        default_factory=dict, compare=False, repr=False)

    # --- construction ---------------------------------------------------------------------------------
    @classmethod
    def from_objects(cls, objects: Iterable[KubeObject], extra_pods: Iterable[Pod] = (),
                     pod_networks: Iterable[Network] = ()) -> Cluster:
        """Parse Namespaces, NetworkPolicies and workloads; ``extra_pods`` adds pods operators create."""
        namespaces: dict[str, Mapping[str, str]] = {}
        policies: list[Policy] = []
        pods: list[Pod] = list(extra_pods)
        for obj in objects:
            if (obj.group, obj.kind) == ("core", "Namespace") and obj.name:
                namespaces[obj.name] = {**_strings(obj.labels), LABEL_NAMESPACE_NAME: obj.name}
            elif (obj.group, obj.kind) == ("networking.k8s.io", "NetworkPolicy"):
                policies.append(parse_policy(obj.props, obj.namespace or "default"))
            else:
                pod = pod_of(obj)
                if pod is not None:
                    pods.append(pod)
        return cls(namespaces, tuple(policies), tuple(pods), tuple(pod_networks))

    def namespace_labels(self, name: str) -> Mapping[str, str]:
        return self.namespaces.get(name) or {LABEL_NAMESPACE_NAME: name}

    # --- questions ------------------------------------------------------------------------------------
    def reachable(self, src: Endpoint, dst: Endpoint, port: int | str, protocol: str = "TCP") -> Verdict:
        """May ``src`` open a connection to ``dst`` on ``port`` (a number, or a container port name of dst)?"""
        if isinstance(dst, Address) and len(dst.networks) > 1:
            # Traffic to a multi-endpoint address goes to any one endpoint: each must be admitted, by any rule.
            parts = [self.reachable(src, Address(dst.name, (n,)), port, protocol) for n in dst.networks]
            worst = next((v for v in parts if not v.allowed), parts[0])
            return Verdict(src, dst, worst.port, protocol, worst.egress, worst.ingress)
        number_ = dst.port_named(port, protocol) if isinstance(port, str) and isinstance(dst, Pod) else port
        resolved = number_ if isinstance(number_, int) else None
        egress = self._side(EGRESS, src, dst, resolved, protocol) if isinstance(src, Pod) else _OPEN
        ingress = (self._side(INGRESS, dst, src, resolved, protocol) if isinstance(dst, Pod)
                   else Side(INGRESS, False))
        return Verdict(src, dst, resolved, protocol, egress, ingress)

    def allowed_paths(self, addresses: Iterable[Address] = (), ports: Mapping[str, Iterable[int]] | None = None
                      ) -> list[Path]:
        """Every admitted (pod -> pod port) and (pod -> address port) connection, in the order of
        ``allowed_paths_pairwise`` (source, then destination, then port), with the same answers.

        Pod destinations are tried on their declared container ports; addresses on ``ports[address.name]``.
        Asking ``reachable`` for every pod pair is quadratic (1,000 services: a million questions). Here
        each destination port is asked once per policy: the sources its ingress admits are sets of pods
        each peer selects (computed once per peer), the sources whose egress admits it are classes of
        pods selected by the same egress policies (computed once per class), and only the smaller of
        the two sets is walked.
        """
        pods = self.pods
        found: list[tuple[int, int, int, Path]] = []
        classes, class_of = self._egress_classes()
        every = frozenset(range(len(pods)))
        for d, dst in enumerate(pods):
            for k, container_port in enumerate(dst.ports):
                port, protocol = container_port.number, container_port.protocol
                # Per egress class: the policy admitting the egress (None: not isolated), or False.
                egress = [None if not selecting else next((p for p in selecting if any(
                    self._rule_admits(r, p.namespace, dst, dst, port, protocol) for r in p.egress)), False)
                    for _, selecting in classes]
                ingress = self._ingress_sets(dst, port, protocol, every)
                open_classes = [members for (members, _), by in zip(classes, egress) if by is not False]
                if sum(map(len, open_classes)) <= sum(len(sources) for _, sources in ingress):
                    candidates: Iterable[int] = (s for members in open_classes for s in members)
                else:
                    candidates = {s for _, sources in ingress for s in sources}
                for s in candidates:
                    egress_by = egress[class_of[s]]
                    ingress_by = next((policy for policy, sources in ingress if s in sources), False)
                    if egress_by is not False and ingress_by is not False and pods[s] is not dst:
                        found.append((s, d, k, Path(pods[s], dst, port, protocol, cast("Policy | None", egress_by),
                                                                   cast("Policy | None", ingress_by))))
        for a, address in enumerate(addresses, start=len(pods)):
            for k, port in enumerate((ports or {}).get(address.name, ())):
                for s, src in enumerate(pods):
                    verdict = self.reachable(src, address, port, "TCP")
                    if verdict.allowed:
                        found.append((s, a, k, Path(src, address, port, "TCP", verdict.egress.admitted_by,
                                                    verdict.ingress.admitted_by)))
        found.sort(key=lambda entry: entry[:3])
        return [path for *_, path in found]

    def allowed_paths_pairwise(self, addresses: Iterable[Address] = (),
                               ports: Mapping[str, Iterable[int]] | None = None) -> list[Path]:
        """``allowed_paths`` by definition: ``reachable`` asked for every pair (the reference its tests and
        benchmark compare with; quadratic)."""
        found = []
        targets: list[tuple[Endpoint, list[tuple[int, str]]]] = [
            (pod, [(p.number, p.protocol) for p in pod.ports]) for pod in self.pods]
        targets += [(a, [(n, "TCP") for n in (ports or {}).get(a.name, ())]) for a in addresses]
        for src in self.pods:
            for dst, dst_ports in targets:
                if dst is src:
                    continue
                for port, protocol in dst_ports:
                    verdict = self.reachable(src, dst, port, protocol)
                    if verdict.allowed:
                        found.append(Path(src, dst, port, protocol, verdict.egress.admitted_by,
                                          verdict.ingress.admitted_by))
        return found

    # --- enumeration helpers --------------------------------------------------------------------------
    def _egress_classes(self) -> tuple[list[tuple[list[int], tuple[Policy, ...]]], list[int]]:
        """The pods grouped by the egress policies selecting them (pods of one class get the same egress
        answer for every destination; the class of no policy is not isolated), and each pod's class."""
        classes: dict[tuple[int, ...], int] = {}
        grouped: list[tuple[list[int], tuple[Policy, ...]]] = []
        class_of: list[int] = []
        for s, pod in enumerate(self.pods):
            selecting = () if pod.host_network else self._selecting(EGRESS, pod)
            key = tuple(map(id, selecting))
            if key not in classes:
                classes[key] = len(grouped)
                grouped.append(([], selecting))
            grouped[classes[key]][0].append(s)
            class_of.append(classes[key])
        return grouped, class_of

    def _ingress_sets(self, dst: Pod, port: int, protocol: str, every: frozenset[int]
                      ) -> list[tuple[Policy | None, frozenset[int]]]:
        """(admitting policy, the source pods it admits), in the order ``_side`` tries the policies."""
        selecting = () if dst.host_network else self._selecting(INGRESS, dst)
        if not selecting:
            return [(None, every)]
        out: list[tuple[Policy | None, frozenset[int]]] = []
        for policy in selecting:
            sources: set[int] = set()
            for rule in policy.ingress:
                if rule.ports is not None and not any(_port_matches(p, dst, port, protocol) for p in rule.ports):
                    continue
                if rule.peers is None:
                    sources = set(every)
                    break
                for peer in rule.peers:
                    sources |= self._peer_pods(peer, policy.namespace)
            if sources:
                out.append((policy, frozenset(sources)))
        return out

    def _selecting(self, direction: str, pod: Pod) -> tuple[Policy, ...]:
        return tuple(p for p in self._candidates(pod) if direction in p.types and p.selects(pod))

    def _peer_pods(self, peer: Peer, namespace: str) -> frozenset[int]:
        """The indices of the pods ``peer`` (of a policy in ``namespace``) matches: candidates from an
        index by namespace and one required label, each confirmed by ``_peer_matches`` itself."""
        key = (repr(peer), namespace)  # equal peers of different policies (`podSelector: {}`) share one answer
        cached = self._peer_cache.get(key)
        if cached is not None:
            return cached
        if not self._pod_index:
            for i, pod in enumerate(self.pods):
                self._pod_index.setdefault((pod.namespace,), []).append(i)
                for label in pod.labels.items():
                    try:
                        self._pod_index.setdefault((pod.namespace, *label), []).append(i)
                    except TypeError:  # an unhashable label value (hand-built pods): found by the scan
                        pass
        if peer.ip_block is not None or peer.namespace_selector is not None:
            spaces = sorted({ns for (ns, *_) in self._pod_index})
        else:
            spaces = [namespace]
        required = next(iter(mapping(peer.pod_selector, "matchLabels").items()), None) if peer.pod_selector else None
        candidates: list[int] = []
        for space in spaces:
            try:
                key_ = (space, *required) if required is not None else (space,)
                candidates += self._pod_index.get(key_, ())
            except TypeError:
                candidates += self._pod_index.get((space,), ())
        matched = frozenset(i for i in candidates if self._peer_matches(peer, namespace, self.pods[i]))
        self._peer_cache[key] = matched
        return matched

    # --- internals ------------------------------------------------------------------------------------
    def _side(self, direction: str, pod: Pod, peer: Endpoint, port: int | None, protocol: str) -> Side:
        if pod.host_network:
            return Side(direction, False)
        selecting = self._selecting(direction, pod)
        if not selecting:
            return Side(direction, False)
        dst = peer if direction == EGRESS else pod
        for policy in selecting:
            for rule in (policy.egress if direction == EGRESS else policy.ingress):
                if self._rule_admits(rule, policy.namespace, peer, dst, port, protocol):
                    return Side(direction, True, selecting, policy)
        return Side(direction, True, selecting, None)

    def _candidates(self, pod: Pod) -> list[Policy]:
        if not self._index:
            for position, policy in enumerate(self.policies):
                keyed, generic = self._index.setdefault(policy.namespace, ({}, []))
                labels = mapping(policy.pod_selector, "matchLabels")
                if labels and not items(policy.pod_selector, "matchExpressions"):
                    keyed.setdefault(next(iter(labels.items())), []).append((position, policy))
                else:
                    generic.append((position, policy))
        keyed, generic = self._index.get(pod.namespace, ({}, []))
        found = list(generic)
        for label in pod.labels.items():
            found += keyed.get(label, ())
        return [policy for _, policy in sorted(found, key=lambda entry: entry[0])]  # manifest order: stable messages

    def _rule_admits(self, rule: Rule, namespace: str, peer: Endpoint, dst: Endpoint, port: int | None,
                     protocol: str) -> bool:
        if rule.ports is not None and not any(_port_matches(p, dst, port, protocol) for p in rule.ports):
            return False
        if rule.peers is None:
            return True
        return any(self._peer_matches(p, namespace, peer) for p in rule.peers)

    def _peer_matches(self, peer: Peer, namespace: str, endpoint: Endpoint) -> bool:
        if peer.ip_block is not None:
            if isinstance(endpoint, Address):
                return bool(endpoint.networks) and all(peer.ip_block.covers(n) for n in endpoint.networks)
            return any(peer.ip_block.overlaps(n) for n in self.pod_networks)
        if isinstance(endpoint, Address):
            return False
        if peer.namespace_selector is None:
            in_namespace = endpoint.namespace == namespace
        else:
            in_namespace = selector_matches(peer.namespace_selector, self.namespace_labels(endpoint.namespace))
        pod_ok = peer.pod_selector is None or selector_matches(peer.pod_selector, endpoint.labels)
        return in_namespace and pod_ok


def _port_matches(rule: PortRule, dst: Endpoint, port: int | None, protocol: str) -> bool:
    if rule.protocol != protocol:
        return False
    if rule.port is None:
        return True
    if port is None:
        return False
    if isinstance(rule.port, str):
        return isinstance(dst, Pod) and dst.port_named(rule.port, protocol) == port
    if rule.end_port is not None:
        return rule.port <= port <= rule.end_port
    return rule.port == port


def zone_paths(paths: Iterable[Path]) -> dict[tuple[str, str], list[Path]]:
    """Paths grouped by (source namespace, destination namespace or address name)."""
    grouped: dict[tuple[str, str], list[Path]] = {}
    for path in paths:
        src = path.source.namespace if isinstance(path.source, Pod) else path.source.name
        dst = path.destination.namespace if isinstance(path.destination, Pod) else path.destination.name
        grouped.setdefault((src, dst), []).append(path)
    return grouped


# --- parsing -------------------------------------------------------------------------------------------
class NetpolError(ValueError):
    """A NetworkPolicy field that cannot be evaluated (e.g. a malformed CIDR)."""


def _strings(labels: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): v for k, v in labels.items() if isinstance(v, str)}


def _int(value: Any) -> int | None:
    found = number(value)
    return int(found) if found is not None and found.is_integer() else None


def network(value: Any, where: str) -> Network:
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError as error:
        raise NetpolError(f"{where}: {value!r} is not a CIDR ({error})") from None


def parse_policy(props: Mapping[str, Any], namespace: str) -> Policy:
    spec = mapping(props, "spec")
    name = text(mapping(props, "metadata"), "name") or "(unnamed)"
    declared = [t for t in items(spec, "policyTypes") if t in (INGRESS, EGRESS)]
    if not declared:  # the API server's defaulting
        declared = [INGRESS] + ([EGRESS] if items(spec, "egress") else [])
    return Policy(
        name=name, namespace=namespace, pod_selector=mapping(spec, "podSelector"), types=frozenset(declared),
        ingress=tuple(_rule(r, "from", f"NetworkPolicy {namespace}/{name}") for r in items(spec, "ingress")),
        egress=tuple(_rule(r, "to", f"NetworkPolicy {namespace}/{name}") for r in items(spec, "egress")),
    )


def _rule(rule: Any, peers_key: str, where: str) -> Rule:
    # The API treats an absent and an empty from/to (or ports) alike: every peer (or port).
    peers = items(rule, peers_key)
    ports = items(rule, "ports")
    return Rule(peers=tuple(_peer(p, where) for p in peers) if peers else None,
                ports=tuple(_port(p) for p in ports) if ports else None)


def _peer(peer: Any, where: str) -> Peer:
    block = get(peer, "ipBlock")
    ip_block = None
    if block is not None:
        cidr = network(get(block, "cidr"), f"{where}: ipBlock.cidr")
        excepts = tuple(network(e, f"{where}: ipBlock.except") for e in items(block, "except"))
        ip_block = IpBlock(cidr, excepts)
    pod_selector = get(peer, "podSelector")
    namespace_selector = get(peer, "namespaceSelector")
    return Peer(
        pod_selector=mapping(peer, "podSelector") if pod_selector is not None else None,
        namespace_selector=mapping(peer, "namespaceSelector") if namespace_selector is not None else None,
        ip_block=ip_block,
    )


def _port(entry: Any) -> PortRule:
    raw = get(entry, "port")
    port: int | str | None = raw if isinstance(raw, str) else _int(raw)
    return PortRule(protocol=text(entry, "protocol") or "TCP", port=port, end_port=_int(get(entry, "endPort")))


def pod_of(obj: KubeObject) -> Pod | None:
    """The pod a workload runs, or None for objects without a pod template."""
    group = obj.group if obj.group != "core" else "core"
    template = obj.pod_template(f"kubernetes:{group}/v1:{obj.kind}")
    if template is None:
        return None
    return pod_from_template(obj.label, obj.namespace or "default", template)


def pod_from_template(name: str, namespace: str, template: PodTemplate) -> Pod:
    """A Pod from a pod template: its labels and the ports of its long-running containers."""
    ports = []
    for container in containers(template, ("container", "initContainer")):
        if container.role == "initContainer" and not container.is_sidecar:
            continue
        for entry in items(container.spec, "ports"):
            found = _int(get(entry, "containerPort"))
            if found is not None:
                ports.append(ContainerPort(found, text(entry, "name"), text(entry, "protocol") or "TCP"))
    return Pod(name=name, namespace=namespace, labels=_strings(mapping(template.metadata, "labels")),
               ports=tuple(ports), host_network=get(template.spec, "hostNetwork") is True)


def iter_denied(verdict: Verdict) -> Iterator[Side]:
    """The sides of a verdict that deny it (none when allowed)."""
    for side in (verdict.egress, verdict.ingress):
        if not side.allowed:
            yield side
