"""Benchmark of the secret rules' cost per resource: the whole pack over N Deployments (10 env values, a few
args each) and N ConfigMaps (a 20-line config file each), Analyze per resource through the pack's own
servicer, as `cdb check` and the Pulumi CLI ask it.

Baselines from the same run: the same pack with detect-secrets' patterns switched off (what the second
opinion costs), and the pack with the secret rules skipped altogether (what all other rules cost).

    python -m benchmarks.secrets_bench            # N = 1000
    python -m benchmarks.secrets_bench --n 200
"""

from __future__ import annotations

import argparse
import time

from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel

import policy_pack.rules.helpers.secret_values as secret_values
from policy_pack.rules import PACK_NAME, POLICIES
from policy_pack.rules.helpers.no_exceptions import RefuseWeakening
from policy_pack.server import Servicer

META = {"labels": {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/component": "service"},
        "annotations": {"cdb-infra.io/git-revision": "0123456789abcdef0123456789abcdef01234567"}}


class _Pack(RefuseWeakening, Servicer):
    pass


def documents(n: int) -> list[tuple[str, dict]]:
    docs = []
    for i in range(n):
        container = {"name": "app", "image": f"registry.example/svc-{i}:1.0.{i}",
                     "env": [{"name": f"SETTING_{k}", "value": f"https://api.example/v{k}/resource-{i}"} for k in range(10)],
                     "args": ["--port", "8080", "--log-level", "info"]}
        docs.append(("kubernetes:apps/v1:Deployment", {"apiVersion": "apps/v1", "kind": "Deployment",
                     "metadata": {"name": f"svc-{i}", **META},
                     "spec": {"template": {"metadata": {"labels": META["labels"]}, "spec": {"containers": [container]}}}}))
        docs.append(("kubernetes:core/v1:ConfigMap", {"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": f"svc-{i}", **META},
                     "data": {"app.conf": "\n".join(f"key_{k} = value-{k}-{i}" for k in range(20))}}))
    return docs


def _requests(docs: list[tuple[str, dict]]) -> list:
    out = []
    for index, (resource_type, props) in enumerate(docs):
        struct = struct_pb2.Struct()
        struct.update(props)
        out.append(analyzer_pb2.AnalyzeRequest(type=resource_type, properties=struct, urn=f"urn:{index}", name=str(index)))
    return out


def _run(requests: list, policies: list) -> float:
    secret_values._value_kind.cache_clear()  # each run starts cold; values within a run are all distinct
    pack = _Pack(name=PACK_NAME, version="0.1.0", policies=policies, enforcement_level=EnforcementLevel.MANDATORY)
    start = time.perf_counter()
    for request in requests:
        pack.Analyze(request, None)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    requests = _requests(documents(args.n))
    secret_rules = {"no-plaintext-secrets", "helm-values-no-literal-secrets", "vault-secret-no-literal-data"}
    without = [p for p in POLICIES if p.name not in secret_rules]
    patterns = secret_values.DETECT_SECRETS_PATTERNS
    rows = []
    for _ in range(3):  # interleaved, best of three: the machine is shared
        rows.append(("pack", _run(requests, POLICIES)))
        secret_values.DETECT_SECRETS_PATTERNS = ()
        rows.append(("pack, no detect-secrets", _run(requests, POLICIES)))
        secret_values.DETECT_SECRETS_PATTERNS = patterns
        rows.append(("pack without secret rules", _run(requests, without)))
    best = {label: min(t for l, t in rows if l == label) for label, _ in rows}
    base = best["pack without secret rules"]
    print(f"{len(requests)} resources, best of 3")
    for label, seconds in best.items():
        print(f"{label:28s} {seconds * 1e6 / len(requests):8.1f} us/resource  x{seconds / base:.2f}")


if __name__ == "__main__":
    main()
