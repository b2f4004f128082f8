"""`cdb scan`: detectors, allow-list, the three formats, and the repository itself."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import schemas
from tests.delivery.conftest import ROOT, FakeSecrets, run_cli


def scan_dir(capsys, folder: Path, *extra: str) -> tuple[int, str, str]:
    return run_cli(capsys, "scan", str(folder), "--root", str(folder), *extra)


def planted(tmp_path: Path, fake: FakeSecrets) -> tuple[Path, dict[str, str]]:
    """One file per kind of leak; returns the folder and the secret values by file."""
    secrets = {
        "creds.env": fake.aws_access_key_id(),
        "notes.md": fake.github_token(),
        "ci.sh": fake.gitlab_token(),
        "hooks.txt": fake.slack_token(),
        "maps.js": fake.google_api_key(),
        "deploy.sh": fake.pulumi_token(),
        "Pulumi.dev.yaml": fake.password(),
        "secret.yaml": fake.password(),
        "id_rsa": fake.private_key(),
    }
    texts = {
        "creds.env": f"AWS_ACCESS_KEY_ID={secrets['creds.env']}\n",
        "notes.md": f"token: {secrets['notes.md']}\n",
        "ci.sh": f"export GL={secrets['ci.sh']}\n",
        "hooks.txt": f"{secrets['hooks.txt']}\n",
        "maps.js": f"const k = '{secrets['maps.js']}';\n",
        "deploy.sh": f"export PULUMI={secrets['deploy.sh']}\n",
        "Pulumi.dev.yaml": f"config:\n  app:region: eu\n  app:dbPassword: {secrets['Pulumi.dev.yaml']}\n",
        "secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n"
                       f"  pw: {secrets['secret.yaml']}\n",
        "id_rsa": secrets["id_rsa"],
    }
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path, secrets


EXPECTED = {
    "creds.env": "AWSKeyDetector", "notes.md": "GitHubTokenDetector", "ci.sh": "GitLabTokenDetector",
    "hooks.txt": "SlackDetector", "maps.js": "CloudTokenDetector", "deploy.sh": "CloudTokenDetector",
    "Pulumi.dev.yaml": "PulumiPlaintextConfig", "secret.yaml": "KubernetesSecretData", "id_rsa": "PrivateKeyDetector",
}


def test_every_kind_of_planted_secret_is_found_with_file_line_and_detector(capsys, tmp_path, fake):
    folder, _ = planted(tmp_path, fake)
    code, out, _ = run_cli(capsys, "scan", str(folder), "--root", str(folder), "--format", "json")
    assert code == 1
    found = {(f["path"], f["detector"]) for f in json.loads(out)["findings"]}
    for name, detector in EXPECTED.items():
        assert (name, detector) in found, f"{detector} missed the secret in {name}"
    lines = {(f["path"], f["detector"]): f["line"] for f in json.loads(out)["findings"]}
    assert lines[("Pulumi.dev.yaml", "PulumiPlaintextConfig")] == 3
    assert lines[("secret.yaml", "KubernetesSecretData")] == 6


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_no_report_format_contains_a_secret_value(capsys, tmp_path, fake, fmt):
    folder, secrets = planted(tmp_path, fake)
    code, out, err = scan_dir(capsys, folder, "--format", fmt)
    assert code == 1
    for name, value in secrets.items():
        for piece in value.strip().splitlines():
            if len(piece) >= 8:
                assert piece[-8:] not in out + err, f"part of the secret from {name} leaked into {fmt} output"


def test_sarif_report_is_valid_sarif_2_1_0_with_locations(capsys, tmp_path, fake):
    folder, _ = planted(tmp_path, fake)
    report_file = tmp_path / "out" / "scan.sarif"
    code, out, _ = scan_dir(capsys, folder, "--format", "sarif", "--output", str(report_file))
    assert code == 1 and "report written" in out
    sarif = json.loads(report_file.read_text())
    schemas.sarif_validator().validate(sarif)
    results = sarif["runs"][0]["results"]
    rules = [rule["id"] for rule in sarif["runs"][0]["tool"]["driver"]["rules"]]
    assert {r["ruleId"] for r in results} >= {"KubernetesSecretData", "PulumiPlaintextConfig"}
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in results)
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1 for r in results)


def test_encrypted_pulumi_values_and_secret_references_pass(capsys, tmp_path, fake):
    (tmp_path / "Pulumi.prod.yaml").write_text(
        "encryptionsalt: v1:" + fake.chars(16) + "\nconfig:\n"
        f"  app:dbPassword:\n    secure: v1:{fake.chars(24)}:{fake.chars(60)}\n"
        "  app:vaultSecretPath: secret/data/app\n  app:tokenTtl: 3600\n"
        "  app:secretEnv:\n    DATABASE_URL: {secret: orders-db, key: url}\n", encoding="utf-8")
    (tmp_path / "sealed.yaml").write_text(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\n"
        f"spec:\n  encryptedData:\n    pw: {fake.chars(80)}\n", encoding="utf-8")
    (tmp_path / "subst.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  url: ${DB_URL}\n", encoding="utf-8")
    code, out, _ = scan_dir(capsys, tmp_path)
    assert code == 0, out


def test_secrets_inside_a_kubernetes_list_are_found(capsys, tmp_path, fake):
    (tmp_path / "rendered.yaml").write_text(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c}\n"
        "- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\n  data:\n"
        f"    token: {fake.chars(20)}\n", encoding="utf-8")
    code, out, _ = scan_dir(capsys, tmp_path)
    assert code == 1 and "rendered.yaml:11: KubernetesSecretData" in out


def test_inline_pragma_does_not_hide_a_secret(capsys, tmp_path, fake):
    (tmp_path / "a.py").write_text(f"KEY = '{fake.aws_access_key_id()}'  # pragma: allowlist secret\n")
    code, out, _ = scan_dir(capsys, tmp_path)
    assert code == 1 and "a.py:1: AWSKeyDetector" in out


def _allow(tmp_path: Path, body: str) -> Path:
    path = tmp_path / ".secrets-allowlist.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_allow_list_entries_with_reasons_accept_findings_by_line_or_fingerprint(capsys, tmp_path, fake):
    (tmp_path / "a.txt").write_text(f"{fake.github_token()}\n{fake.aws_access_key_id()}\n")
    _, out, _ = scan_dir(capsys, tmp_path, "--format", "json")
    by_detector = {f["detector"]: f for f in json.loads(out)["findings"]}
    _allow(tmp_path, "version: 1\nentries:\n"
           "  - {path: a.txt, detector: GitHubTokenDetector, line: 1, reason: revoked test token}\n"
           f"  - path: a.txt\n    detector: AWSKeyDetector\n    fingerprint: {by_detector['AWSKeyDetector']['fingerprint']}\n"
           "    reason: documented example key\n")
    code, out, _ = scan_dir(capsys, tmp_path)
    assert code == 0 and "(2 allow-listed)" in out


def _git_repository(folder: Path) -> None:
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    subprocess.run(["git", "-C", str(folder), "add", "-A"], check=True)


def test_allow_list_entry_that_matches_nothing_is_reported_on_a_full_repository_scan(capsys, tmp_path):
    (tmp_path / "clean.txt").write_text("nothing here\n")
    _allow(tmp_path, "version: 1\nentries:\n  - {path: gone.txt, detector: AWSKeyDetector, line: 3, reason: old}\n")
    _git_repository(tmp_path)
    code, out, _ = run_cli(capsys, "scan", "--root", str(tmp_path))
    assert code == 0 and "matched nothing (remove it): gone.txt line 3" in out


def test_scanning_a_subset_does_not_call_entries_for_other_files_stale(capsys, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "clean.txt").write_text("nothing here\n")
    _allow(tmp_path, "version: 1\nentries:\n  - {path: other.txt, detector: AWSKeyDetector, line: 3, reason: ok}\n")
    _git_repository(tmp_path)
    code, out, _ = run_cli(capsys, "scan", str(tmp_path / "sub"), "--root", str(tmp_path))
    assert code == 0 and "matched nothing" not in out


def test_a_file_outside_any_git_repository_is_scanned(capsys, tmp_path, fake, monkeypatch):
    outside = tmp_path / "loose"
    outside.mkdir()
    (outside / "creds.env").write_text(f"AWS_ACCESS_KEY_ID={fake.aws_access_key_id()}\n")
    monkeypatch.chdir(outside)
    code, out, err = run_cli(capsys, "scan", str(outside / "creds.env"))
    assert code == 1 and "creds.env" in out and "Traceback" not in err


@pytest.mark.parametrize("entry, message", [
    ("{path: a.txt, detector: AWSKeyDetector, line: 1}", "entry has no reason"),
    ("{path: a.txt, detector: AWSKeyDetector, line: 1, reason: '  '}", "entry has no reason"),
    ("{path: a.txt, detector: AWSKeyDetector, reason: whole file}", "give `line` or `fingerprint`"),
    ("{path: a.txt, detector: AWSKeyDetector, line: 1, reason: x, owner: me}", "unknown key(s) owner"),
    ("{path: a.txt, detector: AWSKeyDetector, fingerprint: abc, reason: x}", "64 hex digits"),
])
def test_invalid_allow_list_entry_is_an_input_error(capsys, tmp_path, entry, message):
    (tmp_path / "a.txt").write_text("nothing\n")
    _allow(tmp_path, f"version: 1\nentries:\n  - {entry}\n")
    code, out, err = scan_dir(capsys, tmp_path)
    assert code == 2 and out == ""
    assert message in err and "entries[0]" in err and len(err.strip().splitlines()) == 1


def test_missing_path_is_an_input_error(capsys, tmp_path):
    code, _, err = run_cli(capsys, "scan", str(tmp_path / "nope"), "--root", str(tmp_path))
    assert code == 2 and "no such file or directory" in err


def test_the_repository_itself_passes_the_scan(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, _ = run_cli(capsys, "scan")
    assert code == 0, out


def _repository_tree(target: Path) -> None:
    """A small Git checkout shaped like this repository (instead of a copy of all of it): its own
    allow-list, a tracked Makefile, a package folder and a source file whose finding the list accepts."""
    for name in (".secrets-allowlist.yaml", ".gitignore", "Makefile", "cdb_stack/__init__.py", "components/redis.py"):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    subprocess.run(["git", "init", "-q", str(target)], check=True)
    subprocess.run(["git", "-C", str(target), "add", "-A"], check=True)


def test_a_planted_secret_in_a_fresh_copy_of_the_repository_fails_the_scan(capsys, tmp_path, fake, monkeypatch):
    copy = tmp_path / "copy"
    _repository_tree(copy)
    token = fake.github_token()
    with (copy / "Makefile").open("a", encoding="utf-8") as handle:  # a tracked file
        handle.write(f"# {token}\n")
    (copy / "cdb_stack" / "leak.yaml").write_text(  # a new file, not yet added to Git
        f"apiVersion: v1\nkind: Secret\nmetadata: {{name: x}}\ndata:\n  key: {fake.chars(24)}\n")
    monkeypatch.chdir(copy)
    code, out, _ = run_cli(capsys, "scan")
    assert code == 1
    assert "Makefile:" in out and "GitHubTokenDetector" in out
    assert "cdb_stack/leak.yaml:5: KubernetesSecretData" in out
    assert token[-8:] not in out
