"""The YAML program of the README, given to the provider as the engine gives it: it builds."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import yaml

from tests.provider.harness import ROOT, EngineSide


def _readme_program() -> dict:
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    programs = [yaml.safe_load(b) for b in blocks if "cdb:index:StatelessService" in b]
    assert len(programs) == 1
    return programs[0]


def test_the_readme_yaml_program_constructs_its_zone_and_service():
    program = _readme_program()
    assert program["packages"]["cdb"].endswith("cdb-infra.git/provider@v1.0.0")
    side = EngineSide()
    try:
        stub = side.start_provider(Path(tempfile.mkdtemp()))
        for name, resource in program["resources"].items():
            response = side.construct(stub, resource["type"], name, resource["properties"])
            assert response.urn.endswith(f"{resource['type']}::{name}")
        service = dict(side.construct(stub, "cdb:index:StatelessService", "api2",
                                      program["resources"]["api"]["properties"]).state)  # fmt: skip
        assert service["host"] == "api2.apps.svc.cluster.local" and service["port"] == 8080
        kinds = {r.type for r in side.resources()}
        assert {"kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Namespace"} <= kinds
    finally:
        side.close()
