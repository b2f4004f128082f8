"""Benchmark of the two verdict paths: `cdb preview` of synthetic stacks with N stateless services and
`cdb check` of N Deployments as YAML, plus the dev stack and the Pulumi SDK's own floor.

Each measurement runs in a fresh process (wall time of the command, peak memory of the cdb process and,
separately, of the processes it starts: the policy pack, or the forked copy that shares `cdb check`'s
work). Baselines from the same run make the figures comparable on a shared, noisy machine: for preview
the cost per resource relative to the smallest N (flat means linear) and relative to a program of bare
ConfigMaps with as many resources (the SDK's registration path with no component code at all); for
check the time of parsing the same YAML with PyYAML's C loader alone, and the same check with the pack
as a separate process over gRPC (`--pack-process`, the route `pulumi preview` takes).

    python -m benchmarks.preview_bench            # the full table (N = 10, 100, 1000; check 2000)
    python -m benchmarks.preview_bench --quick    # N = 10, 100 only
"""

from __future__ import annotations

import argparse
import json
import os
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


BARE_PROGRAM = """\
import pulumi_kubernetes as k8s
for i in range({n}):
    k8s.core.v1.ConfigMap(f"cm-{{i}}", metadata={{"name": f"cm-{{i}}", "namespace": "apps"}}, data={{"k": "v"}})
"""


def make_bare(folder: Path, n: int) -> None:
    """A program of n bare ConfigMaps (n + 1 resources with the stack): the SDK's floor per resource."""
    (folder / "Pulumi.yaml").write_text("name: bare\nruntime: python\n")
    (folder / "Pulumi.bench.yaml").write_text("config: {}\n")
    (folder / "__main__.py").write_text(BARE_PROGRAM.format(n=n - 1))


def one(kind: str, n: int) -> dict:
    """Run one measurement in this (fresh) process and return its figures."""
    from cdb_stack.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        setup_started = time.perf_counter()
        if kind in ("preview", "bare"):
            (make_stack if kind == "preview" else make_bare)(folder, n)
            argv = ["preview", "--stack", "bench", "--cwd", str(folder), "--policy-pack", str(ROOT / "policy_pack"),
                    "--format", "json", "--output", str(folder / "report.json")]
            baseline = None
        else:
            make_manifests(folder / "deployments.yaml", n)
            argv = ["check", str(folder / "deployments.yaml"), "--format", "json", "--output", str(folder / "report.json")]
            argv += ["--pack-process"] if kind == "check-process" else []
            started = time.perf_counter()
            list(yaml.load_all((folder / "deployments.yaml").read_text(), Loader=yaml.CSafeLoader))
            baseline = time.perf_counter() - started
        setup = time.perf_counter() - setup_started  # writing the input and the baseline parse
        started = time.perf_counter()
        code = main(argv)
        wall = time.perf_counter() - started
        report = json.loads((folder / "report.json").read_text())
    return {
        "kind": kind, "n": n, "exit": code, "wall_s": wall, "resources": len(report["resources"]), "setup_s": setup,
        "violations": len(report["violations"]), "baseline_s": baseline,
        "rss_cdb_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_pack_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def measure(kind: str, n: int) -> dict:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "benchmarks.preview_bench", "--one", kind, str(n)],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    # Interpreter start, cdb's imports and the command; not the writing of the input nor the baseline parse.
    figures["process_s"] = time.perf_counter() - started - figures["setup_s"]
    return figures


def dev_preview(runs: int) -> list[float]:
    """Whole-process wall time of `cdb preview --stack dev`, as a user runs it (console script)."""
    cdb = Path(sys.executable).with_name("cdb")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(cdb), "preview", "--stack", "dev"], cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return sorted(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]))), flush=True)
        os._exit(0)  # as the `cdb` console script leaves: without freeing every object one by one
    sizes = (10, 100) if args.quick else (10, 100, 1000)
    dev = dev_preview(3 if args.quick else 7)
    rows = [measure("preview", n) for n in sizes]
    rows.append(measure("bare", rows[-1]["resources"]))
    checks = (*sizes, 2000)
    rows += [measure("check", n) for n in checks]
    rows += [measure("check-process", checks[-1])]
    print(f"dev stack, whole process over {len(dev)} runs: fastest {dev[0]:.2f} s, median {dev[len(dev) // 2]:.2f} s")
    print()
    print("| command | N | resources | wall (s) | whole process (s) | ms per resource | vs smallest N | peak RSS cdb / children (MB) | vs baseline |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    preview_rows = [r for r in rows if r["kind"] == "preview"]
    bare = next(r for r in rows if r["kind"] == "bare")
    in_process = [r for r in rows if r["kind"] == "check"]
    over_grpc = next(r for r in rows if r["kind"] == "check-process")
    for group in (preview_rows, [bare], in_process, [over_grpc]):
        unit = group[0]["wall_s"] / group[0]["resources"]
        for r in group:
            per = r["wall_s"] / r["resources"]
            if r["kind"] == "preview" and r["resources"] == bare["resources"]:
                base = f"{r['wall_s'] / bare['wall_s']:.2f}x bare"
            elif r["kind"] == "check" and r["n"] == over_grpc["n"]:
                base = f"{r['wall_s'] / r['baseline_s']:.1f}x parse, {r['wall_s'] / over_grpc['wall_s']:.2f}x gRPC"
            elif r["baseline_s"]:
                base = f"{r['wall_s'] / r['baseline_s']:.1f}x parse"
            else:
                base = "-"
            label = {"preview": "cdb preview", "bare": "cdb preview (bare ConfigMaps)", "check": "cdb check",
                     "check-process": "cdb check --pack-process"}[r["kind"]]
            print(f"| {label} | {r['n']} | {r['resources']} | {r['wall_s']:.2f} | {r['process_s']:.2f} | "
                  f"{per * 1000:.2f} | {per / unit:.2f} | {r['rss_cdb_mb']:.0f} / {r['rss_pack_mb']:.0f} | {base} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
