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

    python -m benchmarks.preview_bench                      # the full table (N = 100, 1000; check 2000)
    python -m benchmarks.preview_bench --quick              # N = 10, 100 only
    python -m benchmarks.preview_bench --previews-only --repeat 5   # preview pairs only, 5 rounds

Preview and floor run as a pair, one after the other, and the pairs of every size alternate over the
rounds (`--repeat`), so each ratio compares two runs that shared the machine's load; the table gives the
fastest and the median of each figure over the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
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
    parser.add_argument("--repeat", type=int, default=3, metavar="R", help="rounds of preview/floor pairs (default 3)")
    parser.add_argument("--previews-only", action="store_true", help="the preview rows only (no dev stack, no check)")
    parser.add_argument("--one", nargs="+", metavar="KIND N [CAPTURE]", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]), *args.one[2:])), flush=True)
        os._exit(0)  # as the `cdb` console script leaves: without freeing every object one by one
    sizes = (10, 100) if args.quick else (100, 1000)
    previews: dict[int, list[tuple[dict, dict]]] = {n: [] for n in sizes}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(max(args.repeat, 1)):
            for n in sizes:
                capture = str(Path(tmp) / f"registrations-{n}.pickle")
                previews[n].append((measure("preview", n, capture), measure("replay", n, capture)))
    if args.previews_only:
        print_previews(previews)
        return 0
    dev = dev_preview(3 if args.quick else 7)
    checks = (*sizes, 2000)
    rows = [measure("check", n) for n in checks]
    rows += [measure("check-process", checks[-1])]
    print(f"dev stack, whole process over {len(dev)} runs: fastest {dev[0]:.2f} s, median {dev[len(dev) // 2]:.2f} s")
    print()
    print_previews(previews)
    print()
    print_checks(rows)
    return 0


def _stats(values: list[float]) -> tuple[float, float]:
    """Fastest (smallest) and median of one figure over the rounds."""
    ordered = sorted(values)
    return ordered[0], statistics.median(ordered)


def print_previews(previews: dict[int, list[tuple[dict, dict]]]) -> None:
    """One row per size: min / median over the rounds; each ratio is taken within its pair, then summarised."""
    print("| N services | resources | rounds | cdb preview wall (s) | same-payload floor wall (s) | preview / floor wall "
          "| preview / floor CPU | its program / floor CPU | peak RSS preview: cdb / pack (MB) | peak RSS floor (MB) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    summary = {}
    for n, pairs in previews.items():
        p_wall = _stats([p["wall_s"] for p, _ in pairs])
        f_wall = _stats([f["wall_s"] for _, f in pairs])
        r_wall = _stats([p["wall_s"] / f["wall_s"] for p, f in pairs])
        r_cpu = _stats([p["cpu_s"] / f["cpu_s"] for p, f in pairs])
        r_prog = _stats([p["program_cpu_s"] / f["cpu_s"] for p, f in pairs])
        rss_p = statistics.median(p["rss_cdb_mb"] for p, _ in pairs)
        rss_pack = statistics.median(p["rss_pack_mb"] for p, _ in pairs)
        rss_f = statistics.median(f["rss_cdb_mb"] for _, f in pairs)
        summary[n] = {"resources": pairs[0][0]["resources"], "p_wall": p_wall[1], "f_wall": f_wall[1], "ratio": r_wall,
                      "rss_p": rss_p, "rss_pack": rss_pack, "rss_f": rss_f}
        print(f"| {n} | {pairs[0][0]['resources']} | {len(pairs)} | {p_wall[0]:.2f} / {p_wall[1]:.2f} | "
              f"{f_wall[0]:.2f} / {f_wall[1]:.2f} | {r_wall[0]:.2f}x / {r_wall[1]:.2f}x | {r_cpu[0]:.2f}x / {r_cpu[1]:.2f}x | "
              f"{r_prog[0]:.2f}x / {r_prog[1]:.2f}x | {rss_p:.0f} / {rss_pack:.0f} | {rss_f:.0f} |")
    print("\n(each cell: fastest / median over the rounds; peak RSS: median)")
    small, large = summary[min(summary)], summary[max(summary)]
    print(f"\nfrom {min(summary)} to {max(summary)} services: resources x{large['resources'] / small['resources']:.1f}; "
          f"median wall: preview x{large['p_wall'] / small['p_wall']:.1f}, floor x{large['f_wall'] / small['f_wall']:.1f}; "
          f"median ratio {small['ratio'][1]:.2f}x -> {large['ratio'][1]:.2f}x; peak RSS: preview x{large['rss_p'] / small['rss_p']:.1f}, "
          f"pack x{large['rss_pack'] / max(small['rss_pack'], 1):.1f}, floor x{large['rss_f'] / small['rss_f']:.1f}")


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
