"""Edges found when the parts met: objects Kubernetes makes itself, stack-file key names judged in context,
and event schemas nested too deeply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cdb_cli import main
from cdb_ops.events.schemas import SchemaFileError, read_schema
from tests.engine.conftest import deployment

NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps", "labels": {
    "pod-security.kubernetes.io/enforce": "restricted"}}}


def test_the_root_ca_config_map_and_default_service_account_need_no_producer(tmp_path, capsys):
    web = deployment("web")
    pod = web["spec"]["template"]["spec"]
    pod["volumes"] = [{"name": "token", "projected": {"sources": [
        {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]}}]
    pod["serviceAccountName"] = "default"
    (tmp_path / "all.yaml").write_text(json.dumps(NAMESPACE) + "\n---\n" + json.dumps(web))
    main(["check", str(tmp_path), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    refs = [v["message"] for v in report["violations"] if v["policy"] == "system-references-resolve"]
    assert not any("kube-root-ca.crt" in m or "ServiceAccount apps/default" in m for m in refs), refs

    pod["volumes"][0]["projected"]["sources"][1]["configMap"]["name"] = "app-ca"
    (tmp_path / "all.yaml").write_text(json.dumps(NAMESPACE) + "\n---\n" + json.dumps(web))
    main(["check", str(tmp_path), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert any("app-ca" in v["message"] for v in report["violations"] if v["policy"] == "system-references-resolve")


@pytest.mark.parametrize(("key", "value", "finding"), [
    ("maxTokens", "2048", False),
    ("tokenTtl", "3600s", False),
    ("dbPassword", "hunter2-but-longer", True),
])
def test_scan_judges_stack_file_keys_in_context(tmp_path, capsys, key, value, finding):
    (tmp_path / "Pulumi.dev.yaml").write_text(f"config:\n  probe:{key}: {value}\n")
    code = main(["scan", str(tmp_path), "--root", str(tmp_path), "--format", "json"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert (code == 1 and bool(findings)) is finding


def test_an_event_schema_nested_too_deeply_is_one_line(tmp_path: Path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(SchemaFileError, match="nested too deeply"):
        read_schema(path)
