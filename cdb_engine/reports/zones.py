"""The stack as zones and paths, for the picture (`--format html`).

Reachability is the policy pack's own evaluation (policy_pack/rules/helpers/netpol.py, with the pods as the
connectivity rule builds them), never a second implementation: what the picture shows as reachable
is what the pack judges.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from cdb_engine.reports.diff import identity, normalize, shown
from cdb_engine.model import Verdict


class _GraphResource:
    """A recorded resource in the shape the pack's rules read (resource_type, props, urn)."""

    def __init__(self, resource_type: str, props: dict[str, Any], urn: str) -> None:
        self.resource_type, self.props, self.urn = resource_type, props, urn


@dataclass
class Row:
    zone: str
    kind: str
    name: str
    urn: str
    change: str = ""  # create/update/replace/delete with --diff, else ""
    violations: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)


@dataclass
class ZoneMap:
    zones: dict[str, list[Row]]  # namespace ("" = cluster-scoped) -> its objects
    paths: dict[tuple[str, str], list[str]]  # (from zone, to zone) -> "pod -> pod:port/proto"
    vault_zones: list[str]
    vault_reachable_from: dict[str, list[str]]  # vault zone -> "pod (zone)" that can reach it
    ai_paths: list[str]
    error: str = ""  # the pack could not evaluate the policies (a malformed CIDR): shown, never hidden
    # With --diff: the base's paths by zone pair, so the picture marks what this change adds or removes.
    base_paths: dict[tuple[str, str], list[str]] | None = None

    def edge_change(self, pair: tuple[str, str]) -> tuple[str, int, int]:
        """("added" | "removed" | "changed" | "same", paths added, paths removed) of one zone pair."""
        now = set(self.paths.get(pair, ()))
        if self.base_paths is None:
            return "same", 0, 0
        before = set(self.base_paths.get(pair, ()))
        added, removed = len(now - before), len(before - now)
        if now and not before:
            return "added", added, 0
        if before and not now:
            return "removed", 0, removed
        return ("changed" if added or removed else "same"), added, removed


def build(verdict: Verdict) -> ZoneMap:
    from policy_pack.rules.ai_isolation import ai_workloads
    from policy_pack.rules.helpers.netpol import Pod, zone_paths
    from policy_pack.rules.vault_zone import vault_zones

    graph = [_GraphResource(r.type, shown(normalize(r.properties)), r.urn) for r in verdict.resources
             if r.custom and r.type.startswith("kubernetes:")]
    rows = _rows(verdict, graph)
    zones: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        zones[row.zone].append(row)
    vault = sorted(vault_zones(graph))
    paths: dict[tuple[str, str], list[str]] = {}
    reach: dict[str, list[str]] = {z: [] for z in vault}
    ai_paths: list[str] = []
    allowed, error = _allowed(graph)
    base_paths = None
    if verdict.diff is not None:
        base_graph = [_GraphResource(token, shown(body), f"base:{i}")
                      for i, (token, body) in enumerate(verdict.diff.base_objects)]
        base_allowed, base_error = _allowed(base_graph)
        base_paths = {pair: sorted({_path_text(p) for p in found}) for pair, found in zone_paths(base_allowed).items()}
        error = error or (f"the base's {base_error}" if base_error else "")
    ai_names = {w.label for w, _ in ai_workloads(graph)}
    for (src, dst), found in sorted(zone_paths(allowed).items()):
        paths[(src, dst)] = sorted({_path_text(p) for p in found})
        if dst in reach and src != dst:
            reach[dst] += sorted({f"{p.source.name} ({src})" for p in found if isinstance(p.source, Pod)})
    for path in allowed:
        if isinstance(path.source, Pod) and path.source.name in ai_names:
            ai_paths.append(_path_text(path))
    for zone in reach:
        reach[zone] = sorted(set(reach[zone]))
    return ZoneMap(dict(sorted(zones.items())), paths, vault, reach, sorted(set(ai_paths)), error, base_paths)


def _allowed(graph: list[_GraphResource]) -> tuple[list[Any], str]:
    """Every admitted pod path of these objects: the same pods and cluster the connectivity rule builds
    (policy_pack/rules/connectivity.py), or the error that kept the policies from being evaluated."""
    from policy_pack.rules.connectivity import NAMESPACE, NETWORK_POLICY
    from policy_pack.rules.helpers.netpol import Cluster, NetpolError, pod_from_template
    from policy_pack.rules.helpers.objects import objects
    from policy_pack.rules.helpers.operators import stack_pods

    pods = [pod_from_template(run.label, run.workload.namespace or "default", run.template) for run in stack_pods(graph)]
    try:
        return Cluster.from_objects(objects(graph, NAMESPACE + NETWORK_POLICY), extra_pods=pods).allowed_paths(), ""
    except NetpolError as exc:
        return [], f"NetworkPolicies could not be evaluated: {exc}"


def _path_text(path: Any) -> str:
    return f"{path.source.name} → {path.destination.name} port {path.port}/{path.protocol}"


def _rows(verdict: Verdict, graph: list[_GraphResource]) -> list[Row]:
    by_urn: dict[str, Row] = {}
    for resource in graph:
        key = identity(resource.props)
        if key is None:
            continue
        by_urn[resource.urn] = Row(key.namespace, key.kind, key.name, resource.urn)
    changes = {}
    if verdict.diff is not None:
        changes = {(c.identity.namespace, c.identity.kind, c.identity.name): c.action for c in verdict.diff.changed}
    rows = list(by_urn.values())
    for row in rows:
        row.change = changes.pop((row.zone, row.kind, row.name), "")
    rows += [Row(ns, kind, name, "", "delete") for (ns, kind, name), action in changes.items() if action == "delete"]
    stack_row = Row("", "Stack", verdict.stack, "")
    for finding in verdict.violations:
        (by_urn.get(finding.urn) or stack_row).violations.append(f"{finding.policy}: {finding.message}")
    for finding in verdict.unchecked:
        (by_urn.get(finding.urn) or stack_row).unchecked.append(f"{finding.policy}: {finding.message}")
    if stack_row.violations or stack_row.unchecked:
        rows.append(stack_row)
    return rows
