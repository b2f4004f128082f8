"""Benchmark of the whole-system stack rules (connectivity, capacity, admission, references) against the
stack rules that were there before them, on synthetic stacks of N services in one namespace, each with a
Service, a NetworkPolicy and a declared flow to the NATS Service.

The whole-system rules compare objects with each other (flows with policies, Services with pods), the
place where a quadratic walk would hide; the table shows each rule's time at N and its growth from the
smallest N (10x more services should cost about 10x), and the ratio to `vault-zone-vault-only`, a rule
that reads every workload once, measured in the same run.

    python -m benchmarks.system_rules_bench            # N = 100, 1000
    python -m benchmarks.system_rules_bench --quick    # N = 30, 300
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from typing import Any

from policy_pack.rules import RULES
from tests.policy_pack.fixtures import container, pod_spec, workload
from tests.policy_pack.objects import nodes, obj
from tests.policy_pack.system_cases import system

BASELINE = "vault-zone-vault-only"
MINE = ("system-flows-admitted", "system-quota-fits", "system-pod-security-admission", "system-references-resolve")


@dataclass
class Resource:
    """What a stack rule reads of a PolicyResource (fresh per run: rules memoize on the resource)."""

    resource_type: str
    props: Any
    urn: str
    dependencies: tuple = ()


def make(n: int) -> list[tuple[str, Any, str]]:
    graph = system()
    extra = []
    for i in range(n):
        name = f"svc-{i:04d}"
        token, props = workload("Deployment", pod_spec(container(ports=[{"containerPort": 8080, "name": "http"}])),
                                metadata={"name": name, "namespace": "apps"}, replicas=2)
        template = props["spec"]["template"]["metadata"]
        template["labels"]["app.kubernetes.io/name"] = name
        template["annotations"] = {"cdb-infra.io/flows": json.dumps([{"service": "bus/nats", "port": "client"}])}
        extra += [(token, props),
                  obj("Service", name, "apps", spec={"selector": {"app.kubernetes.io/name": name},
                                                     "ports": [{"port": 80, "targetPort": "http"}]}),
                  obj("NetworkPolicy", name, "apps", spec={
                      "podSelector": {"matchLabels": {"app.kubernetes.io/name": name}}, "policyTypes": ["Ingress"],
                      "ingress": [{"from": [{"podSelector": {}}], "ports": [{"port": 8080}]}]})]
    return [(node.type, node.props, node.urn) for node in graph + nodes(*extra)]


def measure(graph: list[tuple[str, Any, str]], repeat: int = 3) -> dict[str, float]:
    times: dict[str, float] = {}
    for rule in RULES:
        if rule.kind != "stack":
            continue
        best = float("inf")
        for _ in range(repeat):
            resources = [Resource(*entry) for entry in graph]
            start = time.perf_counter()
            # A configurable rule is given its schema defaults, as the engine does when nothing is configured.
            defaults = {key: spec["default"] for key, spec in (rule.config or {}).items() if "default" in spec}
            for _message in (rule.check(resources, defaults) if rule.config else rule.check(resources)):
                pass
            best = min(best, time.perf_counter() - start)
        times[rule.name] = best
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    sizes = (30, 300) if parser.parse_args().quick else (100, 1000)
    results = {n: measure(make(n)) for n in sizes}
    small, large = sizes
    print(f"{'rule':34} {'ms at ' + str(small):>10} {'ms at ' + str(large):>10} {'growth':>8} {'x baseline':>11}")
    for name in (*MINE, BASELINE):
        a, b = results[small][name], results[large][name]
        print(f"{name:34} {a * 1000:10.1f} {b * 1000:10.1f} {b / a:8.1f} {b / results[large][BASELINE]:11.1f}")


if __name__ == "__main__":
    main()
