"""The whole images.lock loop against a loopback registry: images pushed with skopeo, a stack whose
program runs them, `cdb images --lock`, render pinning the digests, an upstream change failing
`--check`, and the deliver gate accepting the checked digest and refusing any other."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cdb_cli import main
from tests.images.conftest import push
from tests.images.oci import Layout, layer

PROGRAM = '''\
import pulumi
import pulumi_kubernetes as k8s
from cdb_stack.images import pins

config = pulumi.Config("loop")
pins.install(pulumi.get_stack(), config.require("environment"), pulumi.Config("cdb-images").get("lock"))
for name, image in sorted(config.require_object("images").items()):
    labels = {"app": name}
    k8s.apps.v1.Deployment(name, metadata={"name": name, "namespace": "apps",
                                           "annotations": {"cdb-infra.io/git-revision": "unknown"}},
                           spec={"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels},
                                 "spec": {"securityContext": {"runAsNonRoot": True},
                                          "containers": [{"name": "main", "image": image}]}}})
'''


def _stack(project: Path, stack: str, environment: str, images: dict[str, str]) -> None:
    config = {"loop:environment": environment, "loop:images": images}
    (project / f"Pulumi.{stack}.yaml").write_text(json.dumps({"config": config}))


@pytest.fixture(autouse=True)
def _collect_garbage():
    # Many in-process program runs leave event loops and gRPC objects to the collector; on CPython 3.11
    # a finalizer that compiles code while pytest's plugin parses a module corrupts the shared AST
    # recursion counter ("AST constructor recursion depth mismatch"). Collecting here keeps them apart.
    yield
    import gc

    gc.collect()


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "Pulumi.yaml").write_text("name: loop\nruntime: python\n")
    (root / "__main__.py").write_text(PROGRAM)
    monkeypatch.chdir(root)
    return root


def _cdb(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _images(capsys, tmp_path: Path, *argv: str) -> tuple[int, str, str]:
    return _cdb(capsys, "images", "--stack", "prod", *argv, "--cache-dir", str(tmp_path / "cache"))


def _digest(reference: str) -> str:
    return json.loads(subprocess.run(["skopeo", "inspect", "--tls-verify=false", f"docker://{reference}"],
                                     check=True, capture_output=True, text=True, timeout=60).stdout)["Digest"]


def _rendered_images(project: Path, stack: str) -> dict[str, str]:
    import yaml

    found = {}
    for path in sorted((project / "deploy" / stack).rglob("deployment-*.yaml")):
        doc = yaml.safe_load(path.read_text())
        found[doc["metadata"]["name"]] = doc["spec"]["template"]["spec"]["containers"][0]["image"]
    return found


def test_lock_render_and_the_deliver_gate_follow_what_was_checked(registry, project, capsys, tmp_path):
    build = Layout(tmp_path / "build")
    build.add("api", {"User": "10001"}, [layer({"app/run": b"api one"})])
    build.add("worker", {"User": "10001"}, [layer({"app/run": b"worker"})])
    api, worker = f"{registry}/loop/api:1.0", f"{registry}/loop/worker:2.0"
    push(f"oci:{build.root}:api", api)
    push(f"oci:{build.root}:worker", worker)
    _stack(project, "prod", "prod", {"api": api, "worker": worker})

    # Until the lock exists: prod renders on tags with a warning, and the gate refuses every image.
    code, _, err = _cdb(capsys, "render", "--stack", "prod")
    assert code == 0 and "cdb render: warning: images.lock records no image of stack prod: its images run on tags" in err
    assert _rendered_images(project, "prod") == {"api": api, "worker": worker}
    code, out, err = _images(capsys, tmp_path, "--check")
    assert code == 1 and f"{api}: used by stack prod, not in images.lock; run `cdb images --stack prod --lock`" in out
    assert "nothing may roll out until it is" in err

    code, out, err = _images(capsys, tmp_path, "--lock")
    assert code == 0, out + err
    first = (project / "images.lock").read_bytes()
    entries = json.loads(first)["stacks"]["prod"]
    assert entries[api]["digest"] == _digest(api) and entries[worker]["digest"] == _digest(worker)
    assert entries[api]["platform"] == "linux/amd64" and entries[api]["cdb"]
    assert "image-runs-as-root" in entries[api]["checks"] and "image-credential" in entries[api]["checks"]
    assert _images(capsys, tmp_path, "--lock")[0] == 0
    assert (project / "images.lock").read_bytes() == first  # same images, same bytes
    assert not [p for p in project.iterdir() if p.name.startswith(".images.lock")]

    # Render pins what was checked; the gate accepts it.
    assert _cdb(capsys, "render", "--stack", "prod")[0] == 0
    assert _rendered_images(project, "prod") == {"api": f"{api}@{_digest(api)}", "worker": f"{worker}@{_digest(worker)}"}
    code, out, _ = _images(capsys, tmp_path, "--check")
    assert code == 0 and "images.lock is current for stack prod (2 image(s)" in out
    assert _images(capsys, tmp_path)[0] == 0  # the required PR check: criteria and pinning

    # A prod image the lock does not record: render and preview refuse with the same one line.
    _stack(project, "prod", "prod", {"api": api, "worker": worker, "extra": f"{registry}/loop/extra:3"})
    refusal = (f"images.lock records no checked digest for image {registry}/loop/extra:3 of stack prod: run "
               "`cdb images --stack prod --lock` with registry access, commit images.lock, render again")
    for command in (["render", "--stack", "prod", "--check"], ["preview", "--stack", "prod"]):
        code, out, err = _cdb(capsys, *command)
        assert code == 2 and refusal in err and err.count("\n") == 1, (command, err)
    _stack(project, "prod", "prod", {"api": api, "worker": worker})

    # The tag moves upstream: --check fails, the rendered digest still is the checked one.
    build.add("api", {"User": "10001"}, [layer({"app/run": b"api two"})])
    push(f"oci:{build.root}:api", api)
    code, out, _ = _images(capsys, tmp_path, "--check")
    assert code == 1 and f"{api}: now resolves to {_digest(api)}, images.lock checked {entries[api]['digest']}" in out

    # The gate refuses a digest nobody checked, written into the manifests Flux syncs.
    assert entries[api]["platformDigest"] == entries[api]["digest"]  # a single-platform image
    manifest = next((project / "deploy" / "prod").rglob("deployment-api.yaml"))
    manifest.write_text(manifest.read_text().replace(entries[api]["digest"], _digest(api)))
    code, out, _ = _images(capsys, tmp_path, "--check")
    assert code == 1 and f"{api}@{_digest(api)} (Deployment/apps/api container main" in out
    assert "runs at a digest images.lock did not check" in out

    # Checked again and rendered again: current.
    assert _images(capsys, tmp_path, "--lock")[0] == 0
    assert _cdb(capsys, "render", "--stack", "prod")[0] == 0
    assert _images(capsys, tmp_path, "--check")[0] == 0


def test_a_failing_image_is_not_recorded_and_a_tag_only_manifest_is_refused_by_the_gate(
        registry, project, capsys, tmp_path):
    build = Layout(tmp_path / "build")
    build.add("root", {}, [layer({"app/run": b"root"})])
    root = f"{registry}/loop/root:1"
    push(f"oci:{build.root}:root", root)
    _stack(project, "prod", "prod", {"root": root})
    code, out, _ = _images(capsys, tmp_path, "--lock")
    assert code == 1 and "image-runs-as-root" in out
    assert json.loads((project / "images.lock").read_text())["stacks"]["prod"] == {}
    assert _cdb(capsys, "render", "--stack", "prod")[0] == 0  # the lock records nothing yet: tags
    code, out, _ = _images(capsys, tmp_path, "--check")
    assert code == 1 and f"{root} (Deployment/apps/root container main" in out and "did not check" in out


def test_dev_renders_on_tags_without_a_lock_and_pins_what_a_lock_records(registry, project, capsys, tmp_path):
    build = Layout(tmp_path / "build")
    build.add("app", {"User": "10001"}, [layer({"app/run": b"dev"})])
    app = f"{registry}/loop/dev-app:1"
    push(f"oci:{build.root}:app", app)
    _stack(project, "dev", "dev", {"app": app, "other": f"{registry}/loop/never-locked:1"})
    assert _cdb(capsys, "render", "--stack", "dev")[0] == 0
    assert _rendered_images(project, "dev")["app"] == app
    _stack(project, "dev", "dev", {"app": app})
    code, out, err = _cdb(capsys, "images", "--stack", "dev", "--lock", "--cache-dir", str(tmp_path / "cache"))
    assert code == 0, out + err
    _stack(project, "dev", "dev", {"app": app, "other": f"{registry}/loop/never-locked:1"})
    assert _cdb(capsys, "render", "--stack", "dev")[0] == 0  # dev: never refused
    assert _rendered_images(project, "dev") == {"app": f"{app}@{_digest(app)}", "other": f"{registry}/loop/never-locked:1"}


@pytest.mark.parametrize(("argv", "message"), [
    (["images", "--check", "x:1"], "--check works on a whole stack's images: use --stack STACK"),
    (["images", "--stack", "prod", "--lock", "--check"], "--lock records, --check verifies: use one of them"),
])
def test_lock_and_check_usage_errors_are_one_line(argv, message, project, capsys):
    code, out, err = _cdb(capsys, *argv)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


def test_a_broken_lock_is_one_line_naming_it(project, capsys):
    (project / "deploy" / "prod").mkdir(parents=True)
    (project / "images.lock").write_text('{"version": 2, "stacks": {"prod": {"a:1": {"digest": "sha256:12"}}}}')
    code, out, err = _cdb(capsys, "images", "--stack", "prod", "--check")
    assert code == 2 and "images.lock: stacks.prod.a:1:" in err and err.count("\n") == 1


def test_a_multi_platform_image_is_locked_at_its_index_digest_with_the_platform_that_was_judged(
        registry, project, capsys, tmp_path):
    build = Layout(tmp_path / "build")
    index = build.add_index("multi", {"amd64": {"User": "0"}, "arm64": {"User": "10001"}})
    multi = f"{registry}/loop/multi:1"
    push(f"oci:{build.root}:multi", multi)
    _stack(project, "prod", "prod", {"multi": multi})
    code, out, _ = _images(capsys, tmp_path, "--lock")  # linux/amd64 by default: that one runs as root
    assert code == 1 and "image-runs-as-root" in out
    code, out, err = _images(capsys, tmp_path, "--lock", "--platform", "linux/arm64")
    assert code == 0, out + err
    entry = json.loads((project / "images.lock").read_text())["stacks"]["prod"][multi]
    arm64 = next(m for m in build.index if m["digest"] == index) and json.loads(
        (build.root / "blobs/sha256" / index.split(":")[1]).read_text())["manifests"][1]["digest"]
    assert entry["digest"] == index and entry["platform"] == "linux/arm64" and entry["platformDigest"] == arm64
    assert _cdb(capsys, "render", "--stack", "prod")[0] == 0
    assert _rendered_images(project, "prod") == {"multi": f"{multi}@{arm64}"}  # what was judged, not the index
    assert _images(capsys, tmp_path, "--check", "--platform", "linux/arm64")[0] == 0
    code, out, err = _images(capsys, tmp_path, "--check", "--platform", "linux/s390x")
    assert code == 2 and "no linux/s390x image in the index (offered: linux/amd64, linux/arm64)" in err
