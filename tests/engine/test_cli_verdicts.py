"""`cdb preview` and `cdb check` called as users call them: exit codes, formats, messages."""

from __future__ import annotations

import json
import textwrap

import pytest

from cdb_cli import main

NO_PROBES_PROGRAM = """
import pulumi_kubernetes as k8s
k8s.apps.v1.Deployment("web", metadata={"name": "web", "namespace": "apps"}, spec={
    "replicas": 2,
    "selector": {"matchLabels": {"app": "web"}},
    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "web", "image": "registry.example/web:1.4.2",
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}},
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}]}}})
"""

NO_PROBES_YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: apps}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: web
          image: registry.example/web:1.4.2
          resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: "1", memory: 128Mi}}
          securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
"""


def test_a_program_deployment_without_probes_fails_naming_container_and_probe(make_project, capsys):
    folder = make_project(NO_PROBES_PROGRAM)
    assert main(["preview", "--stack", "dev", "--cwd", str(folder)]) == 1
    out = capsys.readouterr().out
    assert 'containers[0] (name "web"): livenessProbe is missing' in out
    assert 'containers[0] (name "web"): readinessProbe is missing' in out
    assert "k8s-probes-required" in out


def test_a_yaml_deployment_without_probes_fails_naming_container_and_probe(tmp_path, capsys):
    manifest = tmp_path / "web.yaml"
    manifest.write_text(NO_PROBES_YAML)
    assert main(["check", str(manifest), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    messages = [v["message"] for v in report["violations"] if v["policy"] == "k8s-probes-required"]
    assert any('(name "web"): livenessProbe is missing' in m for m in messages)
    assert all(v["clause"] == "5" for v in report["violations"] if v["policy"] == "k8s-probes-required")
    assert report["summary"]


def test_malformed_yaml_is_file_and_line_with_exit_2(tmp_path, capsys):
    manifest = tmp_path / "broken.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n")
    assert main(["check", str(manifest)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"cdb check: error: {manifest}:")
    assert "\n" not in err and "Traceback" not in err


def test_json_report_lists_resources_with_parents(make_project, capsys):
    folder = make_project(NO_PROBES_PROGRAM)
    assert main(["preview", "--stack", "dev", "--cwd", str(folder), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    web = next(r for r in report["resources"] if r["name"] == "web")
    assert web["type"] == "kubernetes:apps/v1:Deployment"
    assert web["urn"] == "urn:pulumi:dev::probe::kubernetes:apps/v1:Deployment::web"
    assert web["parent"] == "urn:pulumi:dev::probe::pulumi:pulumi:Stack::probe-dev"
    assert {v["enforcement"] for v in report["violations"]} == {"mandatory"}


def test_sarif_output_goes_to_the_named_file(make_project, tmp_path, capsys):
    folder = make_project(NO_PROBES_PROGRAM)
    target = tmp_path / "out.sarif"
    assert main(["preview", "--stack", "dev", "--cwd", str(folder), "--format", "sarif", "--output", str(target)]) == 1
    sarif = json.loads(target.read_text())
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert any(r["ruleId"] == "k8s-probes-required" and r["level"] == "error" for r in results)
    location = results[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "__main__.py" and location["region"]["startLine"] == 3


def test_an_output_folder_that_does_not_exist_is_an_input_error(make_project, tmp_path, capsys):
    folder = make_project(NO_PROBES_PROGRAM)
    assert main(["preview", "--stack", "dev", "--cwd", str(folder), "--output", str(tmp_path / "no" / "r.txt")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_values_unknown_at_preview_are_listed_as_not_checked(make_project, capsys):
    program = NO_PROBES_PROGRAM.replace('"image": "registry.example/web:1.4.2"', '"image": ns.id') 
    program = program.replace("import pulumi_kubernetes as k8s", 'import pulumi_kubernetes as k8s\nns = k8s.core.v1.Namespace("apps", metadata={"name": "apps"})')
    folder = make_project(program)
    assert main(["preview", "--stack", "dev", "--cwd", str(folder), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    unchecked = {u["policy"] for u in report["unchecked"]}
    assert "k8s-image-pinned" in unchecked
    assert all(u["policy"] != "k8s-image-pinned" for u in report["violations"])


def test_a_missing_stack_is_one_line_and_exit_2(make_project, capsys):
    folder = make_project("pass\n")
    assert main(["preview", "--stack", "qa", "--cwd", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Pulumi.qa.yaml: no such stack file" in err


def test_a_settings_error_in_the_real_stack_is_one_line_naming_the_key(tmp_path, capsys):
    from pathlib import Path
    import shutil

    root = Path(__file__).resolve().parents[2]
    project = tmp_path / "stack"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(root / name, project / name)
    (project / "Pulumi.dev.yaml").write_text(textwrap.dedent("""\
        config:
          cdb-infra:environment: dev
          cdb-infra:zones: [{name: apps}]
          cdb-infra:services:
            - {name: web, zone: apps, image: "nginx:latest"}
        """))
    assert main(["preview", "--stack", "dev", "--cwd", str(project)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "Pulumi.dev.yaml: cdb-infra:services[0].image:" in err and "latest" in err and "Traceback" not in err


def test_help_explains_exit_codes(capsys):
    with pytest.raises(SystemExit):
        from cdb_cli import build_parser

        build_parser().parse_args(["preview", "--help"])
    assert "exit codes" in capsys.readouterr().out


def test_the_console_entry_point_writes_its_whole_report_before_its_quick_exit(tmp_path):
    import subprocess
    import sys

    manifest = tmp_path / "web.yaml"
    manifest.write_text(NO_PROBES_YAML)
    done = subprocess.run([sys.executable, "-c", "from cdb_cli import run; run()", "check", str(manifest),
                           "--format", "json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["summary"]["exitCode"] == 1
