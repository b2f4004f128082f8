"""Benchmark of the two verdict paths: `cdb preview` of synthetic stacks with N stateless services and
`cdb check` of N Deployments as YAML.

Each measurement runs in a fresh process (wall time of the whole command, peak memory of the cdb process
and, separately, of the policy pack process it starts). Baselines from the same run make the figures
comparable on a shared, noisy machine: for preview the cost per resource relative to the smallest N
(flat means linear), for check the time of parsing the same YAML with PyYAML's C loader alone.

    python -m benchmarks.preview_bench            # the full table (N = 10, 100, 1000; check 2000)
    python -m benchmarks.preview_bench --quick    # N = 10, 100 only
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _service(i: int) -> dict:
    return {"name": f"svc-{i:04d}", "zone": "apps", "image": f"ghcr.io/cdb/svc-{i}:1.0.{i}", "replicas": 2,
            "config": {"LOG_LEVEL": "info"}}


def make_stack(folder: Path, n: int) -> None:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, folder / name)
    config = {"config": {
        "cdb-infra:environment": "prod",
        "cdb-infra:gitRevision": "0" * 40,
        "cdb-infra:zones": [{"name": "apps", "cpuQuota": "4000", "memoryQuota": "8000Gi", "podQuota": 5000}],
        "cdb-infra:services": [_service(i) for i in range(n)],
    }}
    (folder / "Pulumi.bench.yaml").write_text(yaml.safe_dump(config))


DEPLOYMENT = """\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-{i}
  namespace: apps
  labels: {{app.kubernetes.io/name: web-{i}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app.kubernetes.io/name: web-{i}}}}}
  template:
    metadata: {{labels: {{app.kubernetes.io/name: web-{i}}}}}
    spec:
      automountServiceAccountToken: false
      securityContext: {{runAsNonRoot: true, runAsUser: 10001, seccompProfile: {{type: RuntimeDefault}}}}
      containers:
        - name: web
          image: ghcr.io/cdb/web:1.{i}.0
          ports: [{{containerPort: 8080, name: http}}]
          livenessProbe: {{httpGet: {{path: /healthz, port: http}}}}
          readinessProbe: {{httpGet: {{path: /ready, port: http}}}}
          resources: {{requests: {{cpu: 100m, memory: 128Mi}}, limits: {{cpu: 500m, memory: 256Mi}}}}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {{drop: [ALL]}}
"""


def make_manifests(path: Path, n: int) -> None:
    path.write_text("".join(DEPLOYMENT.format(i=i) for i in range(n)))


def one(kind: str, n: int) -> dict:
    """Run one measurement in this (fresh) process and return its figures."""
    from cdb_stack.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if kind == "preview":
            make_stack(folder, n)
            argv = ["preview", "--stack", "bench", "--cwd", str(folder), "--policy-pack", str(ROOT / "policy_pack"),
                    "--format", "json", "--output", str(folder / "report.json")]
            baseline = None
        else:
            make_manifests(folder / "deployments.yaml", n)
            argv = ["check", str(folder / "deployments.yaml"), "--format", "json", "--output", str(folder / "report.json")]
            started = time.perf_counter()
            list(yaml.load_all((folder / "deployments.yaml").read_text(), Loader=yaml.CSafeLoader))
            baseline = time.perf_counter() - started
        started = time.perf_counter()
        code = main(argv)
        wall = time.perf_counter() - started
        report = json.loads((folder / "report.json").read_text())
    return {
        "kind": kind, "n": n, "exit": code, "wall_s": wall, "resources": len(report["resources"]),
        "violations": len(report["violations"]), "baseline_s": baseline,
        "rss_cdb_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_pack_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def measure(kind: str, n: int) -> dict:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "benchmarks.preview_bench", "--one", kind, str(n)],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    figures["process_s"] = time.perf_counter() - started  # includes interpreter start and imports
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]))))
        return 0
    sizes = (10, 100) if args.quick else (10, 100, 1000)
    rows = [measure("preview", n) for n in sizes]
    rows += [measure("check", n) for n in (*sizes, 2000)]
    print("| command | N | resources | wall (s) | whole process (s) | ms per resource | vs smallest N | peak RSS cdb / pack (MB) | vs YAML parse alone |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind in ("preview", "check"):
        mine = [r for r in rows if r["kind"] == kind]
        unit = mine[0]["wall_s"] / mine[0]["resources"]
        for r in mine:
            per = r["wall_s"] / r["resources"]
            base = f"{r['wall_s'] / r['baseline_s']:.1f}x" if r["baseline_s"] else "-"
            print(f"| cdb {kind} | {r['n']} | {r['resources']} | {r['wall_s']:.2f} | {r['process_s']:.2f} | "
                  f"{per * 1000:.2f} | {per / unit:.2f} | {r['rss_cdb_mb']:.0f} / {r['rss_pack_mb']:.0f} | {base} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
