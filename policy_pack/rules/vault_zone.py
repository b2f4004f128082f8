"""Clause 6: the vault zone. Its namespace runs Vault and nothing else, Vault runs nowhere else, and
traffic into it is an allow-list.

The zone is a Namespace labelled ``cdb-infra.io/zone-class: vault``. Because only pods of a namespace
can mount its PersistentVolumeClaims, "Vault only" in the zone also means its volumes are mounted by
Vault only. Without a NetworkPolicy that selects every pod for Ingress, Kubernetes admits all traffic,
so the zone needs a default deny plus rules whose peers are all specific.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import Severity

from .helpers.access import get, indexed, items, mapping, shown, text
from .helpers.conventions import LABEL_NAMESPACE_NAME, LABEL_ZONE_CLASS, ZONE_CLASS_VAULT
from .helpers.metadata import StackRule
from .helpers.objects import KubeObject, objects, workloads
from .helpers.podspec import Container, containers
from .helpers.images import image_name

VAULT_IMAGES = frozenset(("vault", "openbao", "bao"))
NAMESPACE = (("core", "Namespace"),)
NETWORK_POLICY = (("networking.k8s.io", "NetworkPolicy"),)


def network(cidr: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A CIDR as a network (host bits ignored, as the API server's validation of ipBlock allows), or None."""
    if not isinstance(cidr, str):
        return None
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return None


def is_open_cidr(cidr: Any) -> bool:
    """Every address of its family: 0.0.0.0/0, ::/0, ::0/0, 0.0.0.0/00 and the like."""
    parsed = network(cidr)
    return parsed is not None and parsed.prefixlen == 0


def _supernet(outer: ipaddress.IPv4Network | ipaddress.IPv6Network,
              inner: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    """outer contains inner; networks of different IP versions never contain each other."""
    if isinstance(outer, ipaddress.IPv4Network) and isinstance(inner, ipaddress.IPv4Network):
        return outer.supernet_of(inner)
    if isinstance(outer, ipaddress.IPv6Network) and isinstance(inner, ipaddress.IPv6Network):
        return outer.supernet_of(inner)
    return False


def block_reaches(block: Mapping[str, Any], cidr_range: str) -> bool:
    """Whether an ipBlock (cidr minus except) still admits some address of the range."""
    allowed, target = network(text(block, "cidr")), network(cidr_range)
    if allowed is None or target is None or allowed.version != target.version or not allowed.overlaps(target):
        return False
    shared = target if _supernet(allowed, target) else allowed
    for excepted in items(block, "except"):
        cut = network(excepted)
        if cut is not None and _supernet(cut, shared):
            return False
    return True


@dataclass(frozen=True)
class Zone:
    name: str
    labels: Mapping[str, Any]


def vault_zones(resources: Sequence[Any]) -> dict[str, Zone]:
    zones = {}
    for namespace in objects(resources, NAMESPACE):
        if get(namespace.labels, LABEL_ZONE_CLASS) == ZONE_CLASS_VAULT and namespace.name:
            # The API server adds kubernetes.io/metadata.name to every namespace; selectors may use it.
            labels = {**namespace.labels, LABEL_NAMESPACE_NAME: namespace.name}
            zones[namespace.name] = Zone(namespace.name, labels)
    return zones


def is_vault_container(container: Container) -> bool:
    parsed = image_name(get(container.spec, "image"))
    return parsed is not None and parsed[1] in VAULT_IMAGES


def runs_vault_server(container: Container) -> bool:
    """A Vault container running the server (the image's default command is the server)."""
    words = [str(w) for w in items(container.spec, "command") + items(container.spec, "args")]
    return is_vault_container(container) and (not words or any("server" in w.split() for w in words))


def check_vault_only(resources: Sequence[Any]) -> Iterator[tuple[str, str | None]]:
    zones = vault_zones(resources)
    for workload, template in workloads(resources):
        pod_containers = containers(template)
        if workload.namespace in zones:
            for container in pod_containers:
                if not is_vault_container(container):
                    yield (f"{workload.label}: {container.where} runs {shown(get(container.spec, 'image'))} in the "
                           "vault zone; only Vault runs there (and only Vault mounts its volumes), move this "
                           "workload to another namespace", workload.urn)
        elif any(runs_vault_server(c) for c in pod_containers):
            yield (f"{workload.label}: runs a Vault server outside a vault zone; run it in a Namespace labelled "
                   f"{LABEL_ZONE_CLASS}={ZONE_CLASS_VAULT}", workload.urn)


def policy_types(policy: KubeObject) -> list[str]:
    """Effective policyTypes: the API defaults to Ingress, plus Egress when egress rules are present."""
    declared = [t for t in items(policy.spec, "policyTypes") if isinstance(t, str)]
    if declared:
        return declared
    return ["Ingress"] + (["Egress"] if get(policy.spec, "egress") is not None else [])


def open_peer(peer: Mapping[str, Any], pod_ranges: Sequence[str] = ()) -> str | None:
    """Why a NetworkPolicy peer admits more than an allow-list does, or None."""
    if not peer:
        return "an empty peer admits everything"
    block = mapping(peer, "ipBlock")
    if block:
        cidr = text(block, "cidr")
        if is_open_cidr(cidr):
            return f"ipBlock {shown(cidr)} admits any address"
        covered = next((r for r in pod_ranges if isinstance(r, str) and block_reaches(block, r)), None)
        return f"ipBlock {shown(cidr)} covers pod range {covered}, so it admits pods of every namespace" \
            if covered else None
    namespace_selector, pod_selector = get(peer, "namespaceSelector"), get(peer, "podSelector")
    if namespace_selector is not None and not mapping(peer, "namespaceSelector"):
        return "namespaceSelector {} admits every namespace"
    if pod_selector is not None and not mapping(peer, "podSelector") and namespace_selector is None:
        return "podSelector {} admits every pod of the namespace"
    return None


POD_RANGES_CONFIG = {"podCidrs": {
    "type": "array", "items": {"type": "string"}, "default": ["10.244.0.0/16"],
    "description": "The cluster's pod address ranges: an ingress ipBlock covering them admits every pod"}}


def check_ingress(resources: Sequence[Any], config: Mapping[str, Any] | None = None) -> Iterator[tuple[str, str | None]]:
    pod_ranges = list((config or {}).get("podCidrs") or ())
    zones = vault_zones(resources)
    if not zones:
        return
    policies = [p for p in objects(resources, NETWORK_POLICY) if p.namespace in zones]
    for zone in zones.values():
        mine = [p for p in policies if p.namespace == zone.name]
        if not any(not mapping(p.spec, "podSelector") and "Ingress" in policy_types(p) for p in mine):
            yield (f"vault zone {zone.name}: no NetworkPolicy selects every pod (podSelector {{}}) for Ingress, "
                   "so all traffic is admitted; add a default-deny ingress policy", None)
        for policy in mine:
            for path, rule in indexed(policy.spec, "ingress", "spec"):
                peers = items(rule, "from")
                if not peers:
                    yield (f"{policy.label}: {path} has no from, which admits every source; list the allowed "
                           "pods and namespaces", policy.urn)
                for index, peer in enumerate(peers):
                    why = open_peer(peer if isinstance(peer, Mapping) else {}, pod_ranges)
                    if why:
                        yield f"{policy.label}: {path}.from[{index}]: {why}; name the allowed clients", policy.urn


VAULT_ONLY = StackRule(
    name="vault-zone-vault-only",
    description="The vault zone runs Vault only (so only Vault mounts its volumes), and Vault runs only there.",
    clause="6",
    specification="Tresor-Zone ist nicht mountbar.",
    severity=Severity.CRITICAL,
    remediation=(
        f"Label the Vault namespace {LABEL_ZONE_CLASS}={ZONE_CLASS_VAULT}, run only Vault/OpenBao images there "
        "(every container, init and ephemeral container), and run Vault servers nowhere else."
    ),
    tags=("secrets", "vault-zone"),
    check=check_vault_only,
)

INGRESS_ALLOW_LIST = StackRule(
    name="vault-zone-ingress-allow-list",
    description="Traffic into the vault zone is an allow-list behind a default deny.",
    clause="6",
    specification="Kein Netzwerkpfad zum Tresor.",
    severity=Severity.CRITICAL,
    remediation=(
        "In the vault zone add a NetworkPolicy with podSelector {} and policyTypes [Ingress] (default deny), "
        "and give every ingress rule a from list of specific peers: no empty peer, no namespaceSelector {}, no "
        "bare podSelector {}, no ipBlock of prefix length 0 (0.0.0.0/0, ::/0) and none covering the pod ranges "
        "(pack config podCidrs) unless its except list cuts them out."
    ),
    tags=("secrets", "vault-zone", "network"),
    check=check_ingress,
    config=POD_RANGES_CONFIG,
)

RULES = [VAULT_ONLY, INGRESS_ALLOW_LIST]
