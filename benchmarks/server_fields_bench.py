"""What marking the server-filled fields unknown adds to each registration of a preview.

The dev stack's registrations are recorded once, then replayed in this process: the baseline is what the
monitor did per registration before (decode the Struct for the recording, copy it into the answer), the
measured path adds the schema walk and the marking. Reported: microseconds per registration of both and
their ratio, and the one-time load of the API schema (paid once per process, on the first object).

    python -m benchmarks.server_fields_bench
"""

from __future__ import annotations

import time
from pathlib import Path

from google.protobuf import struct_pb2
from pulumi.runtime.proto import resource_pb2

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 20


def main() -> None:
    from cdb_engine.preview import server_fields
    from cdb_engine.preview.monitor import plain_struct
    from cdb_engine.preview.program import run_program
    from cdb_core.project import load_project

    start = time.perf_counter()
    server_fields.object_plan("core", "v1", "Service")
    schema_load = time.perf_counter() - start
    resources = [r for r in run_program(load_project(ROOT, "dev")).resources if r.custom and r.wire is not None]
    structs = [(r.type, struct_pb2.Struct.FromString(r.wire)) for r in resources]

    def baseline() -> None:
        for _, struct in structs:
            plain_struct(struct)
            resource_pb2.RegisterResourceResponse(urn="u", object=struct)

    def marked() -> None:
        for type_, struct in structs:
            properties, _ = plain_struct(struct)
            response = resource_pb2.RegisterResourceResponse(urn="u", object=struct)
            server_fields.mark_unknown(response.object, server_fields.server_filled(type_, properties))

    timings = {}
    for name, fn in (("baseline", baseline), ("marked", marked), ("baseline again", baseline)):
        start = time.perf_counter()
        for _ in range(ROUNDS):
            fn()
        timings[name] = (time.perf_counter() - start) / (ROUNDS * len(structs)) * 1e6
    base = (timings["baseline"] + timings["baseline again"]) / 2
    print(f"registrations: {len(structs)} (dev stack), rounds: {ROUNDS}")
    print(f"schema load (once per process): {schema_load * 1000:.0f} ms")
    print(f"per registration: baseline {base:.1f} us, with server-filled fields {timings['marked']:.1f} us "
          f"(x{timings['marked'] / base:.2f})")


if __name__ == "__main__":
    main()
