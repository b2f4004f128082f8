"""`cdb check` judges in-process (and on two cores for large inputs) with the verdicts of the pack process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cdb_stack.cli import main
from cdb_stack.engine import forked, local_pack, manifest_split, pack_process
from cdb_stack.engine.manifests import load_manifests
from cdb_stack.engine.run import check
from cdb_stack.errors import ManifestError

from tests.cdb_stack.conftest import COMPLIANT_CONTAINER, PACKS, deployment
from tests.policy_pack.cases import CASES

UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's unknown sentinel


def _manifest(resource_type: str, props: dict) -> dict | None:
    """A policy case as the YAML document that `cdb check` would read, or None for non-Kubernetes types."""
    if not resource_type.startswith("kubernetes:"):
        return None
    _, group_version, kind = resource_type.split(":")
    api_version = group_version.removeprefix("core/")
    return {"apiVersion": api_version, "kind": kind, **props}


def _case_documents() -> list[dict]:
    documents = []
    for kinds in CASES.values():
        for cases in kinds.values():
            for case in cases:
                doc = _manifest(*case.resource)
                if doc is not None:
                    documents.append(doc)
    return documents


def _report(paths: list[str], *extra: str, capsys) -> dict:
    code = main(["check", *paths, "--format", "json", *extra])
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["exitCode"] == code
    return report


def _write(path: Path, documents: list[dict]) -> str:
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return str(path)


def test_every_policy_case_gets_the_same_report_in_process_and_from_the_pack_process(tmp_path, capsys):
    documents = _case_documents()
    assert len(documents) > 40
    unknown = deployment("later", dict(COMPLIANT_CONTAINER, image=UNKNOWN_VALUE))
    path = _write(tmp_path / "cases.yaml", documents + [unknown])
    in_process = _report([path], capsys=capsys)
    over_grpc = _report([path], "--pack-process", capsys=capsys)
    assert in_process == over_grpc
    assert in_process["violations"] and in_process["unchecked"]


def test_a_large_input_judged_on_two_cores_gets_the_pack_processs_report(tmp_path, capsys):
    broken = dict(COMPLIANT_CONTAINER, livenessProbe=None, resources={"requests": {"cpu": "100m"}})
    documents = [deployment(f"web-{i}", broken if i % 7 == 0 else None) for i in range(forked.MIN_RESOURCES + 60)]
    path = _write(tmp_path / "many.yaml", documents)
    assert Path(path).stat().st_size > manifest_split.PARALLEL_BYTES
    in_process = _report([path], capsys=capsys)
    over_grpc = _report([path], "--pack-process", capsys=capsys)
    assert in_process == over_grpc
    flagged = {v["name"] for v in in_process["violations"] if v["policy"] == "k8s-probes-required"}
    assert flagged == {f"apps/web-{i}" for i in range(0, len(documents), 7)}


@pytest.mark.parametrize("count", [3, forked.MIN_RESOURCES + 10], ids=["small", "split-across-processes"])
def test_a_policy_that_raises_in_process_makes_the_verdict_an_error(tmp_path, count):
    path = _write(tmp_path / "objects.yaml", [deployment(f"web-{i}") for i in range(count)])
    verdict = check([path], PACKS / "in_process_raises")
    assert verdict.exit_code() == 2
    assert verdict.errors == ["policy pack: Analyze failed: RuntimeError: policy bug: boom"]
    assert verdict.violations == []


def test_a_policy_that_never_returns_in_process_hits_the_call_deadline(tmp_path, monkeypatch):
    monkeypatch.setattr(pack_process, "CALL_TIMEOUT_S", 1.0)
    path = _write(tmp_path / "objects.yaml", [deployment("web")])
    verdict = check([path], PACKS / "in_process_stalls")
    assert verdict.exit_code() == 2
    assert verdict.errors == ["policy pack: Analyze did not answer within 1s"]


def test_a_pack_without_wiring_is_started_as_a_process(tmp_path):
    assert local_pack.load(PACKS / "raises") is None
    path = _write(tmp_path / "objects.yaml", [deployment("web")])
    verdict = check([path], PACKS / "raises")
    assert any("Analyze failed" in e and "boom" in e for e in verdict.errors), verdict.errors


def test_a_copy_of_the_pack_in_a_project_is_judged_in_process_under_its_own_name(tmp_path):
    import shutil

    import policy_pack

    copy = tmp_path / "policy_pack"
    shutil.copytree(Path(policy_pack.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    wiring = local_pack.load(copy)
    assert wiring is not None and wiring.__name__.startswith("_cdb_pack_")
    path = _write(tmp_path / "objects.yaml", [deployment("web", dict(COMPLIANT_CONTAINER, readinessProbe=None))])
    verdict = check([path], copy)
    assert "k8s-probes-required" in {v.policy for v in verdict.violations}
    assert verdict.violations == check([path]).violations


# --- parsing on two cores -------------------------------------------------------------------------


def test_a_split_keeps_every_line_where_it_was():
    text = "a: 1\n---\nb: 2\n---\nc: 3\n"
    head, tail = manifest_split.split_text(text)
    assert head == "a: 1\n---\nb: 2\n"
    assert tail.splitlines()[3:] == ["---", "c: 3"] and tail.count("\n") == text.count("\n")


@pytest.mark.parametrize("text", ["%YAML 1.1\n---\na: 1\n---\nb: 2\n", "a: 1\nb: |\n  ---x\n"],
                         ids=["directive", "no-marker"])
def test_a_text_with_a_directive_or_without_a_marker_is_not_split(text):
    assert manifest_split.split_text(text) is None


def test_parsing_on_two_cores_reads_what_one_core_reads(tmp_path, monkeypatch):
    big = _write(tmp_path / "big.yaml", [deployment(f"web-{i}") for i in range(500)])
    small = _write(tmp_path / "small.yaml", [deployment("solo")])
    parallel = load_manifests([small, big])
    monkeypatch.setattr(manifest_split, "PARALLEL_BYTES", 10**12)
    sequential = load_manifests([small, big])
    assert parallel == sequential
    assert [r.source.line for r in parallel[-3:]] == [r.source.line for r in sequential[-3:]]


@pytest.mark.parametrize("where", [0.2, 0.9], ids=["first-half", "second-half"])
def test_a_problem_in_either_half_is_reported_as_one_core_reports_it(tmp_path, monkeypatch, where):
    lines = yaml.safe_dump_all([deployment(f"web-{i}") for i in range(500)], sort_keys=False).splitlines()
    bad = next(i for i in range(int(len(lines) * where), len(lines)) if lines[i].startswith("  name: "))
    lines[bad] = "  name: [unclosed"
    path = tmp_path / "broken.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ManifestError) as parallel:
        load_manifests([str(path)])
    monkeypatch.setattr(manifest_split, "PARALLEL_BYTES", 10**12)
    with pytest.raises(ManifestError) as sequential:
        load_manifests([str(path)])
    assert str(parallel.value) == str(sequential.value)
    assert f"broken.yaml:{bad + 2}:" in str(parallel.value) or f"broken.yaml:{bad + 1}:" in str(parallel.value)


def test_the_pack_metadata_tells_resource_policies_from_stack_policies(tmp_path):
    from policy_pack.rules import RULES
    from policy_pack.rules.metadata import StackRule

    path = _write(tmp_path / "objects.yaml", [deployment("web")])
    expected = {rule.name: "stack" if isinstance(rule, StackRule) else "resource" for rule in RULES}
    for pack_process_route in (False, True):
        verdict = check([path], pack_process=pack_process_route)
        assert {p.name: p.kind for p in verdict.pack.policies} == expected
    assert set(expected.values()) == {"stack", "resource"}


def test_a_system_that_cannot_fork_gets_the_same_verdict_from_one_process(tmp_path, monkeypatch):
    documents = [deployment(f"web-{i}", None if i % 5 else dict(COMPLIANT_CONTAINER, readinessProbe=None))
                 for i in range(forked.MIN_RESOURCES + 20)]
    path = _write(tmp_path / "many.yaml", documents)
    on_two_cores = check([path])

    def no_fork():
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(forked.os, "fork", no_fork)
    on_one_core = check([path])
    assert on_one_core.violations == on_two_cores.violations and not on_one_core.errors
    assert on_one_core.resources == on_two_cores.resources


def test_a_pack_whose_pack_module_is_not_the_wiring_is_never_imported(tmp_path):
    folder = tmp_path / "other_pack"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "pack.py").write_text("raise SystemExit('imported, though it serves at import time')\n")
    assert local_pack.load(folder) is None
