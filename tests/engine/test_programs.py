"""Realistic user programs through the offline preview, each with the verdict it must get.

Every file in programs/ is a Pulumi program as a team would write it; its header says what the preview
must find (`# expect: ...` lines) and what stack config it needs (`# config: key: value`):

    exit N                          the exit code (0 pass, 1 violations, 3 incomplete)
    violation POLICY [TYPE NAME]    a mandatory violation (the set of violated policies must match exactly)
    not-checked POLICY              the policy could not judge some resource: listed, never a pass
    unexpanded TYPE                 a component the offline engine cannot expand
    unanswered TOKEN                an invoke the offline engine cannot answer
    objects N                       Kubernetes objects registered (children of components included)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cdb_engine.run import preview

PROGRAMS = Path(__file__).parent / "programs"
CASES = sorted(p for p in PROGRAMS.glob("*.py") if not p.name.startswith("_"))
NOT_OBJECTS = ("kubernetes:yaml:", "kubernetes:yaml/", "kubernetes:helm.sh/", "kubernetes:kustomize")


def _header(program: Path) -> tuple[list[list[str]], list[str]]:
    expects, config = [], []
    for line in program.read_text().splitlines():
        if line.startswith("# expect: "):
            expects.append(line[len("# expect: "):].split())
        elif line.startswith("# config: "):
            config.append(line[len("# config: "):])
    return expects, config


def _project(program: Path, folder: Path, config: list[str]) -> Path:
    folder.mkdir()
    (folder / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    body = "".join(f"  {line}\n" for line in config)
    (folder / "Pulumi.dev.yaml").write_text(("config:\n" + body) if body else "config: {}\n")
    shutil.copy(program, folder / "__main__.py")
    shutil.copy(PROGRAMS / "_common.py", folder / "_common.py")
    shutil.copytree(PROGRAMS / "manifests", folder / "manifests")
    return folder


@pytest.mark.parametrize("program", CASES, ids=[p.stem for p in CASES])
def test_each_program_gets_its_expected_verdict(program, tmp_path):
    expects, config = _header(program)
    assert any(e[0] == "exit" for e in expects), f"{program.name}: no `# expect: exit N` line"
    verdict = preview(_project(program, tmp_path / "probe", config), "dev")
    assert not verdict.errors, verdict.errors
    by_urn = {r.urn: r for r in verdict.resources}
    violated = {(f.policy, by_urn[f.urn].type, by_urn[f.urn].name) for f in verdict.mandatory}
    unchecked = {f.policy for f in verdict.unchecked}
    wanted_policies = set()
    for kind, *rest in expects:
        if kind == "exit":
            assert verdict.exit_code() == int(rest[0]), (
                f"exit {verdict.exit_code()}: violations {sorted(violated)}, not checked {sorted(unchecked)}, "
                f"unexpanded {[r.type for r in verdict.remote]}, unanswered {verdict.unanswered}")
        elif kind == "violation":
            wanted_policies.add(rest[0])
            if len(rest) > 1:
                assert (rest[0], rest[1], rest[2]) in violated, sorted(violated)
        elif kind == "not-checked":
            assert rest[0] in unchecked, sorted(unchecked)
        elif kind == "unexpanded":
            assert rest[0] in {r.type for r in verdict.remote}
        elif kind == "unanswered":
            assert rest[0] in verdict.unanswered
        elif kind == "objects":
            objects = [r for r in verdict.resources if r.custom and r.type.startswith("kubernetes:")]
            assert len(objects) == int(rest[0]), [r.name for r in objects]
        else:
            raise AssertionError(f"{program.name}: unknown expectation {kind}")
    # No false alarm: exactly the expected policies fire, and none on a component that is not an object.
    assert {p for p, _, _ in violated} == wanted_policies
    for finding in verdict.violations + verdict.unchecked:
        resource = by_urn.get(finding.urn)
        assert resource is None or not resource.type.startswith(NOT_OBJECTS), (finding.policy, resource.type)
