"""Benchmark of the HTML picture (`cdb preview --format html`) on synthetic stacks of N services in one
namespace (the system-rules benchmark's stacks: each service with a Service, a NetworkPolicy and a flow
to NATS). The picture evaluates every pod pair with the pack's NetworkPolicy model, so its growth with
N is what to watch; the ratio is to the JSON report of the same verdict, measured in the same run.

    python -m benchmarks.html_bench            # N = 100, 1000
    python -m benchmarks.html_bench --quick    # N = 30, 300
"""

from __future__ import annotations

import argparse
import time

from benchmarks.system_rules_bench import make
from cdb_engine.model import Resource, Verdict
from cdb_engine.reports import render


def verdict_of(n: int) -> Verdict:
    resources = [Resource(urn=urn, type=type_, name=urn.rsplit("::", 1)[-1], custom=True, properties=props)
                 for type_, props, urn in make(n)]
    return Verdict(mode="preview", project="bench", stack="bench", resources=resources)


def timed(verdict: Verdict, fmt: str) -> tuple[float, int]:
    start = time.perf_counter()
    text = render(verdict, fmt)
    return time.perf_counter() - start, len(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    sizes = (30, 300) if parser.parse_args().quick else (100, 1000)
    print(f"{'N':>6} {'html s':>8} {'json s':>8} {'html/json':>9} {'html KiB':>9}")
    for n in sizes:
        verdict = verdict_of(n)
        html, size = timed(verdict, "html")
        json_, _ = timed(verdict, "json")
        print(f"{n:>6} {html:>8.2f} {json_:>8.3f} {html / json_:>9.0f} {size / 1024:>9.0f}")


if __name__ == "__main__":
    main()
