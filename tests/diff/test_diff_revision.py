"""`cdb preview --diff REVISION` previews the revision's own program (in its own process) and compares
every resource by URN: Vault mounts, roles and its provider as well as Kubernetes objects.

Each test builds a real Git repository holding this project, commits a base, changes the stack file in
the work tree as a pull request would, and previews against the commit.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from cdb_cli import main

PROJECT = Path(__file__).resolve().parents[2]
VAULT = {"replicas": 1, "configure": {"via": "pulumi", "address": "https://vault.example.org:8200"}}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                          check=True, capture_output=True, text=True)
    return done.stdout


@pytest.fixture(scope="module")
def project_files() -> list[str]:
    listed = git(PROJECT, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    return [f for f in listed.split("\0") if f and (PROJECT / f).is_file()]


def repository(tmp_path: Path, files: list[str]) -> Path:
    repo = tmp_path / "repo"
    for name in files:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT / name, repo / name)
    git(repo, "init", "-q")
    return repo


def commit(repo: Path, message: str = "base") -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD").strip()


def edit_stack(repo: Path, change) -> None:
    path = repo / "Pulumi.dev.yaml"
    doc = yaml.safe_load(path.read_text())
    change(doc["config"])
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def preview(repo: Path, capsys, base: str, *more: str) -> tuple[int, dict, str]:
    code = main(["preview", "--stack", "dev", "-C", str(repo), "--format", "json", "--diff", base, *more])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else {}, captured.err


def test_settings_changed_since_a_commit_show_vault_provider_and_kubernetes_changes_by_urn(tmp_path, capsys, project_files):
    repo = repository(tmp_path, project_files)
    edit_stack(repo, lambda c: c.__setitem__("cdb-infra:secrets", dict(VAULT)))
    sha = commit(repo)

    def change(config):
        config["cdb-infra:secrets"] = {**VAULT, "authMount": "k8s-login", "kvMount": "secrets",
                                       "configure": {**VAULT["configure"], "address": "https://vault2.example.org:8200"}}
        config["cdb-infra:services"][0]["replicas"] = 2
    edit_stack(repo, change)
    code, report, err = preview(repo, capsys, "HEAD")
    diff = report["diff"]
    assert diff["base"].startswith(f"HEAD ({sha[:12]})") and "previewed" in diff["base"], diff["base"]
    by_object = {c["object"]: c for c in diff["changes"]}

    provider = by_object["pulumi:providers:vault vault"]
    assert provider["action"] == "update"
    assert provider["fields"] == [{"path": "address", "old": "https://vault.example.org:8200",
                                   "new": "https://vault2.example.org:8200"}]
    mount = by_object["vault:index/mount:Mount vault-config-kv"]
    assert (mount["action"], mount["fields"]) == ("update", [{"path": "path", "old": "kv", "new": "secrets"}])
    roles = [c for c in diff["changes"] if c["kind"] == "vault:kubernetes/authBackendRole:AuthBackendRole"]
    assert roles and all(c["action"] == "replace" and c["replaceBecause"] == ["backend"] for c in roles)
    assert all(c["urn"].startswith("urn:pulumi:dev::") for c in diff["changes"])

    service = next(c for c in diff["changes"] if c["kind"] == "Deployment" and c["action"] == "update"
                   and any(f["path"] == "spec.replicas" for f in c["fields"]))
    assert {"path": "spec.replicas", "old": 1, "new": 2} in service["fields"]
    assert diff["counts"]["same"] > 100 and diff["counts"]["create"] == diff["counts"]["delete"] == 0
    assert code == 0, err


def test_an_uncommitted_render_does_not_matter_the_revision_s_program_is_the_base(tmp_path, capsys, project_files):
    repo = repository(tmp_path, project_files)
    shutil.rmtree(repo / "deploy")  # the base never rendered: its program is what counts
    commit(repo)
    edit_stack(repo, lambda c: c["cdb-infra:services"][0].__setitem__("port", 8081))
    code, report, err = preview(repo, capsys, "HEAD")
    changed = {c["object"]: c["action"] for c in report["diff"]["changes"]}
    assert changed and all(a in ("update", "replace") for a in changed.values()), changed
    assert any(o.startswith("Service ") for o in changed) and code == 0, err


def test_a_stack_new_in_this_change_is_all_creates_and_says_so(tmp_path, capsys, project_files):
    repo = repository(tmp_path, project_files)
    stack = (repo / "Pulumi.dev.yaml").read_text()
    (repo / "Pulumi.dev.yaml").unlink()
    commit(repo)
    (repo / "Pulumi.dev.yaml").write_text(stack)
    code, report, err = preview(repo, capsys, "HEAD")
    counts = report["diff"]["counts"]
    assert counts["create"] > 100 and counts["same"] == counts["update"] == counts["delete"] == 0
    assert "has no Pulumi.dev.yaml" in report["diff"]["base"] and code == 0, err


def test_a_base_whose_program_fails_is_a_one_line_error_never_a_diff(tmp_path, capsys, project_files):
    repo = repository(tmp_path, project_files)
    edit_stack(repo, lambda c: c["cdb-infra:services"][0].__setitem__("image", "nginx:latest"))
    commit(repo)
    edit_stack(repo, lambda c: c["cdb-infra:services"][0].__setitem__("image", "nginx:1.27.3"))
    code, report, err = preview(repo, capsys, "HEAD")
    assert code == 2 and report == {}
    assert len(err.strip().splitlines()) == 1
    assert "--diff HEAD: the revision's own preview of stack dev failed" in err and "latest" in err


def test_a_base_that_predates_the_engine_is_a_one_line_error_naming_the_way_out(tmp_path, capsys, project_files):
    repo = repository(tmp_path, project_files)
    shutil.rmtree(repo / "cdb_engine")  # as the project was before it had an offline engine
    commit(repo)
    shutil.copytree(PROJECT / "cdb_engine", repo / "cdb_engine",
                    ignore=shutil.ignore_patterns("__pycache__"))
    code, report, err = preview(repo, capsys, "HEAD")
    assert code == 2 and report == {} and len(err.strip().splitlines()) == 1
    assert "predates cdb's offline engine" in err and "cdb render" in err


def test_secrets_of_a_revision_s_resources_are_compared_but_never_shown() -> None:
    from cdb_engine.reports.diff import diff
    from cdb_engine.reports.diff_sources import base_resources
    from pulumi.runtime import rpc

    def secret(value):
        return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}

    def recorded(token):
        return [{"urn": "urn:pulumi:dev::p::vault:index/mount:Mount::kv", "type": "vault:index/mount:Mount",
                 "name": "kv", "custom": True, "properties": {"path": "kv", "options": {"token": secret(token)}}}]
    changed = diff(base_resources(recorded("old-s3cr3t")), base_resources(recorded("new-s3cr3t")), "base")
    assert [(c.action, [(f.path, f.old, f.new) for f in c.fields]) for c in changed.changes] == [
        ("update", [("options.token", "[secret]", "[secret]")])]
    assert "s3cr3t" not in repr(changed)
    same = diff(base_resources(recorded("same")), base_resources(recorded("same")), "base")
    assert same.counts["same"] == 1
