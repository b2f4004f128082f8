"""The hosted components with the arguments the reference stack gives them (captured from a run of the
dev stack), plus a Kafka cluster (off in both stacks), for comparing the Python and the provider paths."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from components.kafka import KafkaClusterArgs, KafkaTopicSpec
from components.network import Destination
from components.provenance import Provenance
from provider import package

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Case:
    hosted: package.Hosted
    name: str
    args: BaseModel


# Filled by `capture()`; the test program (program_main.py) builds these.
CASES: list[Case] = []


def capture(stack: str = "dev") -> list[Case]:
    """Every hosted component the stack builds, with its validated arguments."""
    from cdb_engine.preview.program import run_program
    from cdb_core.project import load_project

    found: list[Case] = []
    originals: dict[type, Any] = {}

    def recorder(hosted: package.Hosted, original: Any) -> Any:
        def __init__(self, name: str, args: Any, opts: Any = None) -> None:  # noqa: N807
            found.append(Case(hosted, name, hosted.args.parse(args)))
            original(self, name, args, opts)

        return __init__

    for hosted in package.HOSTED:
        originals[hosted.component] = hosted.component.__init__
        hosted.component.__init__ = recorder(hosted, hosted.component.__init__)
    try:
        run_program(load_project(ROOT, stack))
    finally:
        for component, original in originals.items():
            component.__init__ = original
    return found


def kafka_case() -> Case:
    provenance = Provenance(part_of="cdb", git_revision="unknown", source="provider-test/dev")
    args = KafkaClusterArgs(
        provenance=provenance, namespace="kafka", replicas=3, client_from=[{"namespace": "apps"}],
        topics=[KafkaTopicSpec(name="orders", partitions=3)],
        kubernetes_api=[Destination(cidr="172.18.0.2/32", ports=(6443,))],
    )  # fmt: skip
    return Case(package.BY_NAME["KafkaCluster"], "kafka", args)
