"""Benchmark of NetworkPolicy path enumeration (`Cluster.allowed_paths()`, which the HTML picture draws)
against asking `reachable` for every pod pair (`allowed_paths_pairwise`, the definition and the code
before the grouped enumeration), on the synthetic stacks of the system-rules benchmark (N services in
one namespace, each with a NetworkPolicy and a flow to NATS). Both run in the same process; the table
shows each time and the ratio old/new. The pack's connectivity rule (`system-flows-admitted`) asks
`reachable` per declared flow through the same model; its time and its growth from the smaller N are
shown too (10x more services should cost about 10x).

    python -m benchmarks.netpol_bench            # N = 100, 1000
    python -m benchmarks.netpol_bench --quick    # N = 30, 300
"""

from __future__ import annotations

import argparse
import time

from benchmarks.system_rules_bench import Resource, make
from cdb_engine.reports.diff import normalize, shown
from cdb_engine.reports.zones import _GraphResource
from policy_pack.rules.connectivity import NAMESPACE, NETWORK_POLICY, check_flows
from policy_pack.rules.helpers.netpol import Cluster, pod_from_template
from policy_pack.rules.helpers.objects import objects
from policy_pack.rules.helpers.operators import stack_pods


def cluster_of(n: int) -> Cluster:
    graph = [_GraphResource(type_, shown(normalize(props)), urn) for type_, props, urn in make(n)
             if type_.startswith("kubernetes:")]
    pods = [pod_from_template(run.label, run.workload.namespace or "default", run.template) for run in stack_pods(graph)]
    return Cluster.from_objects(objects(graph, NAMESPACE + NETWORK_POLICY), extra_pods=pods)


def timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    sizes = (30, 300) if parser.parse_args().quick else (100, 1000)
    print(f"{'N':>6} {'pods':>6} {'paths':>6} {'pairwise s':>11} {'grouped s':>10} {'old/new':>8} "
          f"{'pack flows s':>13} {'growth':>7}")
    first = None
    for n in sizes:
        old_s, old = timed(cluster_of(n).allowed_paths_pairwise)  # a fresh cluster each: no warm caches
        new_s, new = timed(cluster_of(n).allowed_paths)
        assert new == old, "grouped enumeration differs from the pairwise one"
        resources = [Resource(*entry) for entry in make(n)]
        flows, _ = timed(lambda: list(check_flows(resources)))
        first = first or flows
        print(f"{n:>6} {len(cluster_of(n).pods):>6} {len(new):>6} {old_s:>11.2f} {new_s:>10.3f} "
              f"{old_s / new_s:>8.0f} {flows:>13.3f} {flows / first:>7.1f}")


if __name__ == "__main__":
    main()
