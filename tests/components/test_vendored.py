"""Vendored upstream manifests: what is committed is what the lock records, and the refresh script
takes files from the pinned tag of the upstream repository (a real git repository here, no network)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from components import vendored
from components.errors import ComponentArgsError

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "vendor-upstream.py"


def _script():
    spec = importlib.util.spec_from_file_location("vendor_upstream", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "HOME": str(repo), "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout.strip()


def test_every_vendored_file_matches_the_checksum_its_lock_records():
    assert _script().verify(ROOT / "components" / "vendor") == []
    lock = vendored.lock()
    assert set(lock) == {"flux-operator", "nack", "vault-secrets-operator", "strimzi"}
    for name, entry in lock.items():
        assert len(entry["commit"]) == 40 and entry["repository"].startswith("https://github.com/"), name
        assert all(len(f["sha256"]) == 64 for f in entry["files"]), name


def test_a_hand_edited_vendored_file_is_found_by_verify_and_refused_by_the_components(tmp_path):
    copy = tmp_path / "vendor"
    shutil.copytree(ROOT / "components" / "vendor", copy)
    target = copy / "nack" / "0.34.0" / "crds.yml"
    target.write_text(target.read_text().replace("jetstream.nats.io", "jetstream.example.org", 1))
    (copy / "nack" / "0.34.0" / "extra.yaml").write_text("kind: ConfigMap\n")
    assert _script().verify(copy) == ["vendor/nack/0.34.0/crds.yml: sha256 differs from the lock",
                                      "vendor/nack/0.34.0/extra.yaml: not listed in the lock"]
    with pytest.raises(ComponentArgsError, match=r"differs from its pinned sha256; restore it"):
        vendored.vendored("nack", "crds.yml", vendor_dir=copy).documents()


def test_refresh_takes_the_files_of_the_pinned_tag_and_records_its_commit_and_checksums(tmp_path):
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    _git(upstream, "init", "-q")
    (upstream / "deploy").mkdir()
    (upstream / "deploy" / "crds.yml").write_text("kind: CustomResourceDefinition\nmetadata: {name: a}\n")
    _git(upstream, "add", ".")
    _git(upstream, "commit", "-qm", "v1")
    _git(upstream, "tag", "v1.0.0")
    tagged = _git(upstream, "rev-parse", "HEAD")
    (upstream / "deploy" / "crds.yml").write_text("kind: CustomResourceDefinition\nmetadata: {name: changed}\n")
    _git(upstream, "commit", "-qam", "after the tag")
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    (vendor / "upstream.lock.json").write_text(json.dumps({"demo": {
        "repository": "https://github.com/example/demo", "version": "0.9.0", "ref": "v0.9.0", "commit": "",
        "files": [{"name": "crds.yml", "path": "deploy/crds.yml", "sha256": ""}]}}))
    (vendor / "demo" / "0.9.0").mkdir(parents=True)
    (vendor / "demo" / "0.9.0" / "crds.yml").write_text("old")

    rc = _script().main(["--vendor", str(vendor), "refresh", "demo", "--ref", "v1.0.0", "--version", "1.0.0",
                         "--git-dir", str(upstream / ".git")])

    assert rc == 0
    entry = json.loads((vendor / "upstream.lock.json").read_text())["demo"]
    assert entry["commit"] == tagged and entry["ref"] == "v1.0.0" and entry["version"] == "1.0.0"
    written = vendor / "demo" / "1.0.0" / "crds.yml"
    assert "name: a}" in written.read_text() and not (vendor / "demo" / "0.9.0").exists()
    assert entry["files"][0]["sha256"] == vendored.sha256_of(written)
    assert _script().verify(vendor) == []


def test_refresh_of_a_tag_that_does_not_exist_writes_nothing_and_exits_2(tmp_path, capsys):
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    _git(upstream, "init", "-q")
    (upstream / "f.yml").write_text("kind: ConfigMap\n")
    _git(upstream, "add", ".")
    _git(upstream, "commit", "-qm", "one")
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    lock = {"demo": {"repository": "https://github.com/example/demo", "version": "1.0.0", "ref": "v1.0.0",
                     "commit": "", "files": [{"name": "f.yml", "path": "f.yml", "sha256": ""}]}}
    (vendor / "upstream.lock.json").write_text(json.dumps(lock))

    rc = _script().main(["--vendor", str(vendor), "refresh", "demo", "--git-dir", str(upstream / ".git")])

    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("vendor-upstream: error: git rev-parse") and err.count("\n") == 1
    assert json.loads((vendor / "upstream.lock.json").read_text()) == lock
    assert sorted(p.name for p in vendor.iterdir()) == ["upstream.lock.json"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl renders kustomize folders")
def test_a_kustomize_folder_is_rendered_as_the_upstream_release_workflow_renders_it(tmp_path):
    upstream = tmp_path / "upstream"
    (upstream / "config" / "default").mkdir(parents=True)
    _git(upstream, "init", "-q")
    (upstream / "config" / "default" / "kustomization.yaml").write_text(
        "namespace: flux-system\nresources: [sa.yaml]\n")
    (upstream / "config" / "default" / "sa.yaml").write_text("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: op}\n")
    _git(upstream, "add", ".")
    _git(upstream, "commit", "-qm", "one")
    _git(upstream, "tag", "v2.0.0")
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    (vendor / "upstream.lock.json").write_text(json.dumps({"op": {
        "repository": "https://github.com/example/op", "version": "2.0.0", "ref": "v2.0.0", "commit": "",
        "files": [{"name": "install.yaml", "kustomize": "config/default", "sha256": ""}]}}))

    assert _script().main(["--vendor", str(vendor), "refresh", "op", "--git-dir", str(upstream / ".git")]) == 0
    assert "namespace: flux-system" in (vendor / "op" / "2.0.0" / "install.yaml").read_text()


def test_vendored_files_read_the_same_data_as_pyyamls_pure_safe_loader():
    """The C loader that reads vendored YAML gives exactly what yaml.safe_load_all gives."""
    import yaml

    for name in vendored.lock():
        for file in vendored.files(name):
            expected = [d for d in yaml.safe_load_all(file.path.read_text(encoding="utf-8")) if d]
            assert file.data() == expected, file.path
