"""`cdb check` judges in-process with the verdicts of the pack process."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from cdb_cli import main
from cdb_engine.judge import local_pack, pack_process
from cdb_engine.run import check

from tests.engine.conftest import COMPLIANT_CONTAINER, PACKS, deployment
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


def test_a_large_input_judged_in_process_gets_the_pack_processs_report(tmp_path, capsys):
    broken = dict(COMPLIANT_CONTAINER, livenessProbe=None, resources={"requests": {"cpu": "100m"}})
    documents = [deployment(f"web-{i}", broken if i % 7 == 0 else None) for i in range(460)]
    path = _write(tmp_path / "many.yaml", documents)
    in_process = _report([path], capsys=capsys)
    over_grpc = _report([path], "--pack-process", capsys=capsys)
    assert in_process == over_grpc
    flagged = {v["name"] for v in in_process["violations"] if v["policy"] == "k8s-probes-required"}
    assert flagged == {f"apps/web-{i}" for i in range(0, len(documents), 7)}


def test_a_policy_that_raises_in_process_makes_the_verdict_an_error(tmp_path):
    path = _write(tmp_path / "objects.yaml", [deployment(f"web-{i}") for i in range(3)])
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


def test_the_pack_metadata_tells_resource_policies_from_stack_policies(tmp_path):
    from policy_pack.rules import RULES
    from policy_pack.rules.helpers.metadata import StackRule

    path = _write(tmp_path / "objects.yaml", [deployment("web")])
    expected = {rule.name: "stack" if isinstance(rule, StackRule) else "resource" for rule in RULES}
    for pack_process_route in (False, True):
        verdict = check([path], pack_process=pack_process_route)
        assert {p.name: p.kind for p in verdict.pack.policies} == expected
    assert set(expected.values()) == {"stack", "resource"}


def test_a_pack_whose_pack_module_is_not_the_wiring_is_never_imported(tmp_path):
    folder = tmp_path / "other_pack"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "pack.py").write_text("raise SystemExit('imported, though it serves at import time')\n")
    assert local_pack.load(folder) is None
