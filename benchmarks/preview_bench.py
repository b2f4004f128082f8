"""Benchmark of the two verdict paths: `cdb preview` of synthetic stacks with N stateless services and
`cdb check` of N Deployments as YAML, plus the dev stack.

Each measurement runs in a fresh process: wall time and CPU time of the command (CPU of cdb and of the
processes it waited for; on a shared machine it varies far less than wall time), peak memory of the cdb
process and of the processes it starts (the policy pack). Baselines from the same run make the figures
comparable on a shared, noisy machine:

- preview: the same-payload floor. The registrations the preview's program made (types, names,
  providers, inputs) are captured and replayed by a bare program (benchmarks/replay.py: one
  `pulumi.CustomResource` per registration, no components, no pack) under the same mock runtime. The
  preview's cost over that floor is what our components, the pack and the report add (goal: 1.3x or
  less); the two sizes show how time and memory grow from 100 to 1,000 services.
- check: the time of parsing the same YAML with PyYAML's C loader alone, and the same check with the
  pack as a separate process over gRPC (`--pack-process`, the route `pulumi preview` takes).

    python -m benchmarks.preview_bench            # the full table (N = 100, 1000; check 2000)
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
    """The prod stack's own settings with its services replaced by n synthetic ones in one large zone."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, folder / name)
    config = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    config["config"].update({
        "cdb-infra:gitRevision": "0" * 40,
        "cdb-infra:zones": [{"name": "apps", "cpuQuota": "4000", "memoryQuota": "8000Gi", "podQuota": 5000}],
        "cdb-infra:services": [_service(i) for i in range(n)],
    })
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


def _rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU seconds of this process and of the children it waited for: on a shared machine it varies far
    less than wall time, which includes waiting for a core."""
    return sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))


def one(kind: str, n: int, capture: str | None = None) -> dict:
    """Run one measurement in this (fresh) process and return its figures.

    `preview` writes what its program registered to `capture`; `replay` registers that same payload
    with the bare program of benchmarks/replay.py under the same mock runtime (no components, no pack).
    """
    import pulumi.runtime  # both preview kinds: the SDK's import is not what is compared

    from cdb_cli import main
    from cdb_engine.preview import program

    program_s: list[float] = []
    program_cpu_s: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        setup_started = time.perf_counter()
        baseline = None
        if kind == "preview":
            make_stack(folder, n)
            argv = ["preview", "--stack", "bench", "--cwd", str(folder), "--policy-pack", str(ROOT / "policy_pack"),
                    "--format", "json", "--output", str(folder / "report.json")]
            run_program = program.run_program

            def timed(project):
                started = time.perf_counter()
                cpu_started = _cpu_s()
                result = run_program(project)
                program_s.append(time.perf_counter() - started)
                program_cpu_s.append(_cpu_s() - cpu_started)
                captured.append(result.resources)
                return result

            captured: list = []
            program.run_program = timed
        elif kind == "replay":
            from benchmarks import replay
            from cdb_core.project import load_project

            replay.load(Path(capture))
            replay.make_bare(folder, "bench")
            project = load_project(folder, "bench")
        else:
            make_manifests(folder / "deployments.yaml", n)
            argv = ["check", str(folder / "deployments.yaml"), "--format", "json", "--output", str(folder / "report.json")]
            argv += ["--pack-process"] if kind == "check-process" else []
            started = time.perf_counter()
            list(yaml.load_all((folder / "deployments.yaml").read_text(), Loader=yaml.CSafeLoader))
            baseline = time.perf_counter() - started
        setup = time.perf_counter() - setup_started  # writing the input and the baseline parse
        rss_before, cpu_before = _rss_mb(), _cpu_s()
        started = time.perf_counter()
        if kind == "replay":
            run = program.run_program(project)
            code, resources, violations = 0, len(run.resources), 0
        else:
            code = main(argv)
        wall = time.perf_counter() - started
        cpu = _cpu_s() - cpu_before
        if kind != "replay":
            report = json.loads((folder / "report.json").read_text())
            resources, violations = len(report["resources"]), len(report["violations"])
        if kind == "preview" and capture:
            from benchmarks import replay

            replay.capture(captured[0], Path(capture))
    return {
        "kind": kind, "n": n, "exit": code, "wall_s": wall, "cpu_s": cpu, "resources": resources, "setup_s": setup,
        "violations": violations, "baseline_s": baseline, "program_s": program_s[0] if program_s else None,
        "program_cpu_s": program_cpu_s[0] if program_cpu_s else None,
        "rss_before_mb": rss_before, "rss_cdb_mb": _rss_mb(), "rss_pack_mb": _rss_mb(resource.RUSAGE_CHILDREN),
    }


def measure(kind: str, n: int, capture: str | None = None) -> dict:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "benchmarks.preview_bench", "--one", kind, str(n), *([capture] if capture else [])],
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
    parser.add_argument("--one", nargs="+", metavar="KIND N [CAPTURE]", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]), *args.one[2:])), flush=True)
        os._exit(0)  # as the `cdb` console script leaves: without freeing every object one by one
    sizes = (10, 100) if args.quick else (100, 1000)
    dev = dev_preview(3 if args.quick else 7)
    previews = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            capture = str(Path(tmp) / f"registrations-{n}.pickle")
            previews.append((measure("preview", n, capture), measure("replay", n, capture)))
    checks = (*sizes, 2000)
    rows = [measure("check", n) for n in checks]
    rows += [measure("check-process", checks[-1])]
    print(f"dev stack, whole process over {len(dev)} runs: fastest {dev[0]:.2f} s, median {dev[len(dev) // 2]:.2f} s")
    print()
    print_previews(previews)
    print()
    print_checks(rows)
    return 0


def print_previews(previews: list[tuple[dict, dict]]) -> None:
    print("| N services | resources | cdb preview wall / CPU (s) | its program CPU (s) | same-payload floor wall / CPU (s) "
          "| preview / floor (CPU) | program / floor (CPU) | preview / floor (wall) | peak RSS cdb / pack (MB) "
          "| added by the run: preview / floor (MB) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for p, f in previews:
        print(f"| {p['n']} | {p['resources']} | {p['wall_s']:.2f} / {p['cpu_s']:.2f} | {p['program_cpu_s']:.2f} | "
              f"{f['wall_s']:.2f} / {f['cpu_s']:.2f} | {p['cpu_s'] / f['cpu_s']:.2f}x | {p['program_cpu_s'] / f['cpu_s']:.2f}x | "
              f"{p['wall_s'] / f['wall_s']:.2f}x | {p['rss_cdb_mb']:.0f} / {p['rss_pack_mb']:.0f} | "
              f"{p['rss_cdb_mb'] - p['rss_before_mb']:.0f} / {f['rss_cdb_mb'] - f['rss_before_mb']:.0f} |")
    (small, small_floor), (large, large_floor) = previews[0], previews[-1]

    def grew(key: str, a: dict, b: dict) -> str:
        return f"x{b[key] / max(a[key], 1e-9):.1f}"

    added = {r["kind"] + str(r["n"]): r["rss_cdb_mb"] - r["rss_before_mb"] for pair in previews for r in pair}
    print(f"\nfrom {small['n']} to {large['n']} services: resources x{large['resources'] / small['resources']:.1f}; "
          f"CPU: preview {grew('cpu_s', small, large)}, floor {grew('cpu_s', small_floor, large_floor)}, ratio "
          f"{small['cpu_s'] / small_floor['cpu_s']:.2f}x -> {large['cpu_s'] / large_floor['cpu_s']:.2f}x; memory added: "
          f"preview x{added['preview' + str(large['n'])] / max(added['preview' + str(small['n'])], 1):.1f}, "
          f"floor x{added['replay' + str(large['n'])] / max(added['replay' + str(small['n'])], 1):.1f}, "
          f"pack peak {grew('rss_pack_mb', small, large)}")


def print_checks(rows: list[dict]) -> None:
    print("| command | N | wall (s) | whole process (s) | ms per resource | vs smallest N | peak RSS cdb / children (MB) | vs baseline |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    unit = rows[0]["wall_s"] / rows[0]["resources"]
    largest = {r["kind"]: r for r in rows if r["n"] == rows[-1]["n"]}
    for r in rows:
        per = r["wall_s"] / r["resources"]
        base = f"{r['wall_s'] / r['baseline_s']:.1f}x parse"
        if r["n"] == rows[-1]["n"] and r["kind"] != "check-process":
            base += f", {r['wall_s'] / largest['check-process']['wall_s']:.2f}x gRPC"
        label = {"check": "cdb check", "check-process": "cdb check --pack-process"}[r["kind"]]
        print(f"| {label} | {r['n']} | {r['wall_s']:.2f} | {r['process_s']:.2f} | {per * 1000:.2f} | {per / unit:.2f} | "
              f"{r['rss_cdb_mb']:.0f} / {r['rss_pack_mb']:.0f} | {base} |")


if __name__ == "__main__":
    sys.exit(main())
