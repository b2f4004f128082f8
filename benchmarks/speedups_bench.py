"""What each of the offline engine's SDK speed-ups gains, and what the pack's SDK adapter gains.

`cdb preview` of a synthetic stack (benchmarks.preview_bench.make_stack) with every speed-up on, with
each one switched off alone (CDB_SDK_SPEEDUPS_OFF=<name>), and with all off; and `cdb check` of N
Deployments with the pack's own servicer and with the SDK's (CDB_PACK_SDK_ADAPTER=off, the path an SDK
the adapter was not proven with takes). Each measurement is a fresh process; ratios are against the
all-on row of the same run, so the figures compare on a shared, noisy machine.

    python -m benchmarks.speedups_bench              # 300 services, 2,000 Deployments
    python -m benchmarks.speedups_bench --quick      # 30 services, 200 Deployments
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.preview_bench import make_manifests
from cdb_engine.preview.sdk_speedups import SPEEDUPS

ROOT = Path(__file__).resolve().parents[1]


def make_stack(folder: Path, n: int) -> None:
    """The dev stack with n stateless services in the apps zone instead of its own."""
    for name in ("Pulumi.yaml", "__main__.py"):
        (folder / name).write_bytes((ROOT / name).read_bytes())
    for name in ("keys",):
        (folder / name).symlink_to(ROOT / name)
    config = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    config["config"]["cdb-infra:services"] = [
        {"name": f"svc-{i:04d}", "zone": "apps", "image": f"ghcr.io/cdb/svc-{i}:1.0.{i}", "port": 8080,
         "replicas": 2, "config": {"LOG_LEVEL": "info"}} for i in range(n)]
    for zone in config["config"]["cdb-infra:zones"]:
        if zone["name"] == "apps":
            zone.update(cpuQuota="4000", memoryQuota="8000Gi", podQuota=5000)
    (folder / "Pulumi.bench.yaml").write_text(yaml.safe_dump(config))


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    cdb = Path(sys.executable).with_name("cdb")
    started = time.perf_counter()
    done = subprocess.run([str(cdb), *argv], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1, 3):
        raise SystemExit(f"cdb {' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return wall, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--runs", type=int, default=2, help="runs per row; the fastest counts (default 2)")
    args = parser.parse_args()
    services, deployments = (30, 200) if args.quick else (300, 2000)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_stack(folder, services)
        make_manifests(folder / "deployments.yaml", deployments)
        preview = ["preview", "--stack", "bench", "--cwd", str(folder), "--policy-pack", str(ROOT / "policy_pack"),
                   "--format", "json", "--output", str(folder / "report.json")]
        settings = [("all on", ""), *[(f"{name} off", name) for name in SPEEDUPS], ("all off", "all")]
        for label, off in settings:
            wall = min(_run(preview, {"CDB_SDK_SPEEDUPS_OFF": off})[0] for _ in range(args.runs))
            resources = len(json.loads((folder / "report.json").read_text())["resources"])
            rows.append((f"cdb preview, {label}", resources, wall))
        check = ["check", str(folder / "deployments.yaml"), "--format", "json", "--output", str(folder / "c.json")]
        for label, adapter in (("pack's own servicer", ""), ("SDK's own servicer", "off")):
            wall = min(_run(check, {"CDB_PACK_SDK_ADAPTER": adapter})[0] for _ in range(args.runs))
            rows.append((f"cdb check, {label}", deployments, wall))
    print(f"{services} services, {deployments} Deployments; fastest of {args.runs} runs, whole process")
    print()
    print("| command | resources | wall (s) | vs all on | gain of the speed-up |")
    print("|---|---:|---:|---:|---:|")
    base = rows[0][2]
    for label, resources, wall in rows[:-2]:
        gain = "-" if label.endswith("all on") else f"{wall / base:.2f}x"
        print(f"| {label} | {resources} | {wall:.2f} | {wall / base:.2f} | {gain} |")
    ours, stock = rows[-2], rows[-1]
    print(f"| {ours[0]} | {ours[1]} | {ours[2]:.2f} | - | - |")
    print(f"| {stock[0]} | {stock[1]} | {stock[2]:.2f} | - | {stock[2] / ours[2]:.2f}x (adapter) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
