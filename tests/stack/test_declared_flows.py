"""Every flow the stack needs is declared, so the connectivity rule judges it: the secret operator to the
API server and to Vault, the MinIO servers among themselves, the bucket Job to MinIO. Removing the policy
that admits one turns the committed, rendered stack into a connectivity violation naming it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from cdb_cli import main

ROOT = Path(__file__).resolve().parents[2]
FLOWS = "system-flows-admitted"


def flows_of(path: Path) -> list[dict]:
    doc = yaml.safe_load(path.read_text())
    return json.loads(doc["spec"]["template"]["metadata"]["annotations"]["cdb-infra.io/flows"])


def test_the_secret_operator_declares_the_api_server_and_vault() -> None:
    flows = flows_of(ROOT / "deploy/prod/vault-secrets-operator/deployment-vault-secrets-operator-controller-manager.yaml")
    assert {"apiServer": True, "purpose": "watch VSO resources, write Secrets"} in flows
    assert any(f.get("service") == "vault/vault" and f["port"] == 8200 for f in flows)


def test_distributed_minio_declares_its_peers_and_the_bucket_job_the_s3_service() -> None:
    [server] = flows_of(ROOT / "deploy/prod/storage/statefulset-minio.yaml")
    assert server["pods"] == {"matchLabels": {"app.kubernetes.io/instance": "minio", "app.kubernetes.io/name": "minio"}}
    [job_file] = (ROOT / "deploy/prod/storage").glob("job-minio-audit-bucket-*.yaml")
    assert flows_of(job_file) == [{"port": 9000, "purpose": "create the audit bucket", "service": "storage/minio"}]


@pytest.mark.parametrize(("removed", "who", "where"), [
    ("vault-secrets-operator/networkpolicy-vault-secrets-operator.yaml", "vault-secrets-operator-controller-manager",
     "denied at the source"),
    ("storage/networkpolicy-minio-audit-bucket.yaml", "minio-audit-bucket", "denied at the source"),
])
def test_removing_the_policy_that_admits_a_declared_flow_is_a_connectivity_violation(removed, who, where, tmp_path, capsys):
    folder = tmp_path / "prod"
    shutil.copytree(ROOT / "deploy/prod", folder)
    (folder / removed).unlink()
    report = tmp_path / "check.json"
    code = main(["check", str(folder), "--format", "json", "--output", str(report)])
    capsys.readouterr()
    denied = [v["message"] for v in json.loads(report.read_text())["violations"] if v["policy"] == FLOWS]
    assert code == 1 and any(who in m and where in m for m in denied), denied
