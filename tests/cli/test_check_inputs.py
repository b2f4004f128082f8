"""`cdb check` on what users really point it at: empty input, GitOps folders with charts, values and
kustomize files, standard input, and a refused policy config."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cdb_cli import main
from tests.engine.conftest import deployment

CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: apps\ndata: {a: '1'}\n"


def write(folder: Path, relative: str, text: str) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize("text", ["", "# nothing but a comment\n", "---\n---\n", "# a\n---\n# b\n"])
def test_checking_an_empty_file_is_an_error_not_a_pass(tmp_path, capsys, text):
    path = write(tmp_path, "empty.yaml", text)
    assert main(["check", str(path)]) == 2
    out, err = capsys.readouterr()
    assert "no Kubernetes objects found" in err and "no violations" not in out


def test_a_folder_of_only_comments_and_values_is_an_error(tmp_path, capsys):
    write(tmp_path, "a.yaml", "# comment\n")
    write(tmp_path, "values.yaml", "replicaCount: 2\nimage: {repository: web, tag: '1.0'}\n")
    assert main(["check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no Kubernetes objects found (1 file(s) or folder(s) skipped as not Kubernetes)" in err


def gitops_repository(root: Path) -> Path:
    write(root, "apps/web/configmap.yaml", CONFIG_MAP)
    write(root, "apps/web/kustomization.yaml", "resources: [configmap.yaml]\nnamePrefix: prod-\n")
    write(root, "apps/web/kustomizeconfig.yaml", "nameReference:\n  - kind: ConfigMap\n    fieldSpecs: []\n")
    write(root, "charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.2.3\n")
    write(root, "charts/web/values.yaml", "replicaCount: 2\n")
    write(root, "charts/web/templates/deployment.yaml", "apiVersion: apps/v1\nkind: {{ .Values.kind }}\n")
    write(root, "values/prod-values.yaml", "replicaCount: 3\nresources: {limits: {cpu: 1}}\n")
    write(root, "ansible/site.yml", "- hosts: all\n  tasks: []\n")
    write(root, "clusters/prod/flux-kustomization.yaml",
          "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../../apps]\n")
    return root


def test_a_gitops_repository_is_checked_and_what_is_not_kubernetes_is_skipped_and_said(tmp_path, capsys):
    root = gitops_repository(tmp_path)
    code = main(["check", str(root), "--format", "json"])
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert code in (0, 1) and [r["name"] for r in report["resources"]] == ["apps/settings"]
    skipped = {item["path"]: item["reason"] for item in report["skipped"]}
    assert "Helm chart" in skipped[f"{root}/charts/web/"]
    assert "kustomize" in skipped[f"{root}/apps/web/kustomization.yaml"]
    assert "kustomize" in skipped[f"{root}/apps/web/kustomizeconfig.yaml"]
    assert "Helm values" in skipped[f"{root}/values/prod-values.yaml"]
    assert "list" in skipped[f"{root}/ansible/site.yml"]
    assert any("kustomize build configuration" in reason for reason in skipped.values())
    assert f"skipped {root}/charts/web/" in err


def test_exclude_leaves_out_folders_and_files_by_glob(tmp_path, capsys):
    root = gitops_repository(tmp_path)
    write(root, "apps/broken/bad.yaml", "kind: Deployment\nmetadata: {name: x}\n")
    assert main(["check", str(root)]) == 2
    assert "missing apiVersion" in capsys.readouterr().err
    assert main(["check", str(root), "--exclude", "apps/broken", "--format", "json"]) in (0, 1)
    report = json.loads(capsys.readouterr().out)
    assert {"path": f"{root}/apps/broken/", "reason": "excluded by --exclude"} in report["skipped"]
    assert main(["check", str(root), "--exclude", "**/bad.yaml", "--format", "json"]) in (0, 1)
    capsys.readouterr()


def test_an_invalid_manifest_beside_values_files_stays_an_error(tmp_path, capsys):
    write(tmp_path, "values.yaml", "replicaCount: 2\n")
    write(tmp_path, "deploy.yaml", "apiVersion: apps/v1\nmetadata: {name: web}\nspec: {}\n")
    assert main(["check", str(tmp_path)]) == 2
    assert "deploy.yaml:1: missing kind" in capsys.readouterr().err


def test_a_file_mixing_objects_and_other_documents_is_not_skipped(tmp_path, capsys):
    write(tmp_path, "mixed.yaml", CONFIG_MAP + "---\nreplicaCount: 2\n")
    assert main(["check", str(tmp_path)]) == 2
    assert "mixed.yaml:8: missing apiVersion" in capsys.readouterr().err


def _cdb(args: list[str], stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from cdb_cli import run; run()", *args],
                          input=stdin, capture_output=True, text=True, timeout=120, env=env)


def test_a_dash_reads_the_manifests_from_standard_input():
    bad = dict(deployment("web"))
    bad["spec"]["template"]["spec"]["containers"][0].pop("readinessProbe")
    done = _cdb(["check", "-", "--format", "json"], stdin=json.dumps(bad))
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["resources"][0]["source"]["path"] == "<stdin>"
    done = _cdb(["check", "-"], stdin="kind: [\n")
    assert done.returncode == 2 and done.stderr.startswith("cdb check: error: <stdin>:")


def test_a_refused_policy_config_prints_only_the_error(tmp_path):
    manifest = write(tmp_path, "cm.yaml", CONFIG_MAP)
    config = tmp_path / "weaken.json"
    config.write_text(json.dumps({"all": "advisory"}))
    done = _cdb(["check", str(manifest), "--policy-config", str(config)])
    assert done.returncode == 2
    assert done.stdout == "" and "no violations" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("cdb check: error:")


def test_a_missing_pack_prints_only_the_error(tmp_path):
    manifest = write(tmp_path, "cm.yaml", CONFIG_MAP)
    done = _cdb(["check", str(manifest), "--policy-pack", str(tmp_path / "nope")])
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
