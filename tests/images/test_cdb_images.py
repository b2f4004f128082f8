"""`cdb images` judges images pushed to a real loopback registry against the workloads that run them."""

from __future__ import annotations

import json
import re
import random
import string
from pathlib import Path

import pytest

from cdb_cli import main
from tests.images.conftest import push
from tests.images.oci import Layout, layer


def _aws_key() -> str:
    rng = random.Random(14)
    return "AK" + "IA" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))


def _deployment(name: str, image: str, kind: str = "Deployment", run_as_user: int | None = None,
                probe_port: int | None = None) -> str:
    context = f"\n          securityContext: {{runAsNonRoot: true, runAsUser: {run_as_user}}}" if run_as_user \
        else "\n          securityContext: {runAsNonRoot: true}"
    probe = f"\n          readinessProbe: {{httpGet: {{path: /ready, port: {probe_port}}}}}" if probe_port else ""
    return (f"apiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: {name}, namespace: apps}}\nspec:\n"
            f"  template:\n    spec:\n      containers:\n        - name: main\n          image: {image}"
            f"{context}{probe}\n---\n")


def _cdb(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def pushed(registry: str, tmp_path: Path) -> dict[str, str]:
    layout = Layout(tmp_path / "build")
    images = {
        "good": {"User": "10001", "ExposedPorts": {"8080/tcp": {}}},
        "root": {"ExposedPorts": {"8080/tcp": {}}},
        "volume": {"User": "10001", "Volumes": {"/data": {}}},
        "envkey": {"User": "10001", "Env": [f"AWS_ACCESS_KEY_ID={_aws_key()}"]},
    }
    refs = {}
    for tag, runtime in images.items():
        layout.add(tag, runtime, [layer({"app/run": b"run"})])
    key_file = f"[default]\naws_access_key_id = {_aws_key()}\n".encode()
    layout.add("deleted", {"User": "10001"}, [layer({"root/.aws/credentials": key_file}),
                                                layer({"root/.aws/.wh.credentials": b""})])
    layout.add("dotenv", {"User": "10001"}, [layer({"./.env": key_file})])
    for tag in (*images, "deleted", "dotenv"):
        push(f"oci:{layout.root}:{tag}", f"{registry}/cdb/{tag}:1")
        refs[tag] = f"{registry}/cdb/{tag}:1"
    return refs


def _run(capsys, tmp_path: Path, manifest: str, *extra: str) -> tuple[int, str, str]:
    path = tmp_path / "workloads.yaml"
    path.write_text(manifest)
    return _cdb(capsys, "images", str(path), "--cache-dir", str(tmp_path / "cache"), *extra)


def test_a_root_image_is_a_finding_unless_the_workload_sets_run_as_user(pushed, capsys, tmp_path):
    code, out, _ = _run(capsys, tmp_path, _deployment("api", pushed["root"]))
    assert code == 1
    assert f"{pushed['root']} [Deployment/apps/api container main] clause 5: image-runs-as-root" in out
    code, out, _ = _run(capsys, tmp_path, _deployment("api", pushed["root"], run_as_user=10001))
    assert code == 0, out


def test_a_volume_is_refused_in_a_deployment_and_allowed_in_a_statefulset(pushed, capsys, tmp_path):
    code, out, _ = _run(capsys, tmp_path, _deployment("web", pushed["volume"]))
    assert code == 1 and "image-volume-in-stateless: image declares VOLUME /data for a stateless Deployment" in out
    code, out, _ = _run(capsys, tmp_path, _deployment("db", pushed["volume"], kind="StatefulSet"))
    assert code == 0, out


def test_credentials_in_env_and_in_a_file_a_later_layer_deleted_are_found(pushed, capsys, tmp_path):
    code, out, _ = _run(capsys, tmp_path, _deployment("a", pushed["envkey"]) + _deployment("b", pushed["deleted"]))
    assert code == 1
    assert "image-credential: AWSKeyDetector in image ENV" in out
    assert ("image-credential-in-lower-layer: AWSKeyDetector in /root/.aws/credentials added in layer 0 and deleted in "
            "layer 1") in out
    assert _aws_key() not in out
    code, out, _ = _run(capsys, tmp_path, _deployment("c", pushed["dotenv"]))
    assert code == 1 and "image-credential: AWSKeyDetector in /.env (layer 0)" in out


def test_probe_ports_must_be_among_the_exposed_ports(pushed, capsys, tmp_path):
    code, out, _ = _run(capsys, tmp_path, _deployment("api", pushed["good"], probe_port=9090))
    assert code == 1 and "probe port 9090 is not among the image's exposed ports (8080)" in out
    code, out, _ = _run(capsys, tmp_path, _deployment("api", pushed["good"], probe_port=8080))
    assert code == 0, out


def test_json_and_sarif_name_image_workload_clause_and_digest(pushed, capsys, tmp_path):
    code, out, _ = _run(capsys, tmp_path, _deployment("api", pushed["root"]), "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["images"][pushed["root"]].startswith("sha256:")
    assert report["findings"][0] | {"message": ""} == {
        "image": pushed["root"], "workload": "Deployment/apps/api container main", "rule": "image-runs-as-root",
        "message": "", "clause": "5", "source": str(tmp_path / "workloads.yaml")}
    code, out, _ = _run(capsys, tmp_path, _deployment("api", pushed["root"]), "--format", "sarif")
    result = json.loads(out)["runs"][0]["results"][0]
    assert result["ruleId"] == "image-runs-as-root" and result["properties"]["clause"] == "5"
    # code scanning needs a file: the manifest that declares the workload
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("workloads.yaml")


def test_an_image_that_cannot_be_read_is_one_line_and_exit_2(registry, capsys, tmp_path):
    code, out, err = _run(capsys, tmp_path, _deployment("api", f"{registry}/cdb/missing:1"))
    assert code == 2 and out == ""
    assert err == f"cdb images: error: {registry}/cdb/missing:1: not found in {registry}/cdb/missing; " \
                  "check the name and tag\n"


def test_prod_without_a_checked_digest_in_the_lock_is_a_finding(registry, capsys, tmp_path, monkeypatch):
    layout = Layout(tmp_path / "build")
    layout.add("v1", {"User": "10001"}, [layer({"app/run": b"one"})])
    push(f"oci:{layout.root}:v1", f"{registry}/cdb/pinme:1")
    (tmp_path / "repo" / "deploy" / "prod").mkdir(parents=True)
    (tmp_path / "repo" / "deploy" / "prod" / "app.yaml").write_text(_deployment("app", f"{registry}/cdb/pinme:1"))
    monkeypatch.chdir(tmp_path / "repo")
    code, out, _ = _cdb(capsys, "images", "--stack", "prod", "--cache-dir", str(tmp_path / "cache"))
    assert code == 1 and "image-not-pinned: no checked digest in images.lock: it resolves to sha256:" in out
    assert "check and record it with `cdb images --stack prod --lock`, then render again" in out


def _with_probe(manifest: str, probe: str, path: str) -> str:
    return manifest.replace("\n---\n", f"\n          {probe}: {{httpGet: {{path: {path}, port: 8080}}}}\n---\n")


def test_health_path_labels_must_match_the_probes(registry, capsys, tmp_path):
    layout = Layout(tmp_path / "build")
    layout.add("v1", {"User": "10001", "ExposedPorts": {"8080/tcp": {}},
                      "Labels": {"org.cdb.health.liveness": "/livez", "org.cdb.health.readiness": "/readyz"}},
               [layer({"app/run": b"run"})])
    push(f"oci:{layout.root}:v1", f"{registry}/cdb/health:1")
    base = _deployment("api", f"{registry}/cdb/health:1")
    right = _with_probe(_with_probe(base, "livenessProbe", "/livez"), "readinessProbe", "/readyz")
    assert _run(capsys, tmp_path, right)[0] == 0
    code, out, _ = _run(capsys, tmp_path, _with_probe(_with_probe(base, "livenessProbe", "/healthz"),
                                                      "readinessProbe", "/readyz"))
    assert code == 1 and "image-health-path-mismatch: livenessProbe asks /healthz, the image's label " \
                         "org.cdb.health.liveness says /livez" in out
    code, out, _ = _run(capsys, tmp_path, _with_probe(base, "livenessProbe", "/livez"))
    assert "org.cdb.health.readiness=/readyz but the workload has no httpGet readinessProbe" in out


def test_the_rendered_prod_stack_names_every_image_with_its_workload():
    from cdb_release.images.workloads import read_manifests

    root = Path(__file__).resolve().parents[2]
    workloads = read_manifests([root / "deploy" / "prod"])
    images = {w.image for w in workloads}
    assert "quay.io/openbao/openbao:2.7.2" in images and "ghcr.io/cdb/orders-api:1.4.2" in images
    vault = next(w for w in workloads if w.image == "quay.io/openbao/openbao:2.7.2")
    assert vault.kind == "StatefulSet" and not vault.stateless
    orders = next(w for w in workloads if w.image == "ghcr.io/cdb/orders-api:1.4.2")
    assert orders.kind == "Deployment" and orders.probe_ports


@pytest.mark.parametrize(("argv", "message"), [
    (["images", "--lock", "x:1"], "--lock works on a whole stack's images: use --stack STACK"),
    (["images", "--platform", "linux", "oci:/nowhere"], "--platform linux: write OS/ARCH[/VARIANT]"),
    (["images", "oci:/nowhere/at/all:v1"], "oci:/nowhere/at/all:v1: /nowhere/at/all is not a folder"),
    (["images", "ftp://example/x"], "ftp://example/x: unknown transport"),
    (["images"], "name images, manifests or --stack"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys, tmp_path):
    code, out, err = _cdb(capsys, *argv, "--cache-dir", str(tmp_path / "cache"))
    assert code == 2 and out == ""
    assert err.startswith("cdb images: error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "cache").exists()


def test_at_a_terminal_the_report_is_a_table_of_images_with_digests_and_one_of_findings(pushed, tmp_path):
    from tests.cli.terminal import in_pipe, in_terminal, person_env

    path = tmp_path / "workloads.yaml"
    path.write_text(_deployment("api", pushed["root"]) + _deployment("web", pushed["good"], run_as_user=10001))
    argv = ("images", str(path), "--cache-dir", str(tmp_path / "cache"), "--color", "never")
    env = person_env(160)
    code, shown = in_terminal(*argv, env=env)
    piped = in_pipe(*argv, env=env)
    assert code == piped.returncode == 1
    digests = json.loads(in_pipe(*argv[:-2], "--format", "json", env=env).stdout)["images"]
    assert re.search(r"┃ Image +┃ Digest +┃ Findings ┃", shown)
    assert re.search(rf"│ {re.escape(pushed['root'])} +│ {digests[pushed['root']]} │ 1 +│", shown)
    assert re.search(rf"│ {re.escape(pushed['good'])} +│ {digests[pushed['good']]} │ - +│", shown)
    assert re.search(rf"│ {re.escape(pushed['root'])} │ Deployment/apps/api container main │ 5 +│ image-runs-as-root │",
                     shown)
    assert shown.rstrip().endswith("1 finding(s) in 2 image(s)")
    # In a pipe: the plain lines, as before.
    assert "│" not in piped.stdout
    assert piped.stdout.splitlines()[-1] == "1 finding(s) in 2 image(s)"
    assert piped.stdout.startswith(f"{pushed['root']} [Deployment/apps/api container main] clause 5: image-runs-as-root")
