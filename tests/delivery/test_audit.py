"""`cdb audit` against moto's S3 over HTTP, with Object Lock in COMPLIANCE mode."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from cdb_ops.audit.records import digest
from tests.delivery.conftest import free_port, run_cli

KEY = "cdb-audit/records/{:012d}.json"
SHA = hashlib.sha1(b"merged change").hexdigest()


@pytest.fixture(autouse=True)
def signing_key(audit_signing_key) -> Path:
    return audit_signing_key


def preview_file(tmp_path: Path, mandatory: int = 0) -> Path:
    """The shape `cdb preview --format json` writes (schemaVersion 1 with a summary)."""
    path = tmp_path / "cdb-preview.json"
    path.write_text(json.dumps({
        "schemaVersion": 1, "tool": {"name": "cdb", "version": "0.1.0"}, "mode": "preview",
        "project": "cdb-infra", "stack": "dev", "pack": {"name": "cdb-infra-policy", "version": "0.1.0"},
        "resources": [], "violations": [], "unchecked": [], "remote": [], "errors": [],
        "summary": {"resources": 42, "create": 42, "violations": {"mandatory": mandatory, "advisory": 0, "total": mandatory},
                    "unchecked": 0, "remote": 0, "errors": 0, "complete": True, "verdict": "compliant", "exitCode": 0},
    }))
    return path


def pulumi_refresh_digest(tmp_path: Path) -> Path:
    """A PreviewDigest as `pulumi preview --refresh --expect-no-changes --json` prints it."""
    urn = "urn:pulumi:dev::cdb-infra::"
    path = tmp_path / "drift.json"
    path.write_text(json.dumps({
        "config": {"cdb-infra:environment": "dev"},
        "steps": [
            {"op": "same", "urn": urn + "pulumi:pulumi:Stack::cdb-infra-dev", "detailedDiff": None},
            {"op": "update", "urn": urn + "cdb:index:Zone$kubernetes:apps/v1:Deployment::apps-web",
             "provider": "urn:pulumi:dev::cdb-infra::pulumi:providers:kubernetes::default_4_34_2::id",
             "diffReasons": ["spec"], "detailedDiff": {"spec.replicas": {"kind": "update", "inputDiff": False}}},
            {"op": "create", "urn": urn + "kubernetes:core/v1:ConfigMap::settings", "detailedDiff": None},
        ],
        "changeSummary": {"same": 1, "update": 1, "create": 1},
    }))
    return path


def merge(commit: str, preview: Path) -> list[str]:
    return ["audit", "merge", "--commit", commit, "--author", "a", "--approver", "b", "--preview", str(preview)]


def records(s3, bucket: str) -> list[dict]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="cdb-audit/records/").get("Contents", [])
    return [json.loads(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()) for o in listed]


def write_chain(capsys, tmp_path: Path) -> None:
    assert run_cli(capsys, "audit", "merge", "--commit", SHA, "--author", "alice", "--approver", "bob",
                   "--approver", "carol", "--preview", str(preview_file(tmp_path)))[0] == 0
    assert run_cli(capsys, "audit", "drift", "--input", str(pulumi_refresh_digest(tmp_path)), "--stack", "dev")[0] == 1
    assert run_cli(capsys, "audit", "breakglass", "--ticket", "INC-4711", "--reason", "incident",
                   "--responsible", "dora@example.org", "--expires-in", "4h")[0] == 0


def test_merge_drift_and_breakglass_records_form_a_chain_that_verifies(capsys, tmp_path, s3, audit_env):
    write_chain(capsys, tmp_path)
    chain = records(s3, audit_env["CDB_AUDIT_BUCKET"])
    assert [r["kind"] for r in chain] == ["merge", "drift", "drift", "breakglass"]
    assert [r["seq"] for r in chain] == [0, 1, 2, 3]
    assert all(r["schemaVersion"] == 2 and r["hash"] == digest(r) for r in chain)
    assert [r["prevHash"] for r in chain[1:]] == [r["hash"] for r in chain[:-1]]
    merge = chain[0]["data"]
    assert merge["approvers"] == ["bob", "carol"] and merge["preview"]["summary"]["resources"] == 42
    assert {(r["data"]["op"], r["data"]["type"]) for r in chain[1:3]} == {
        ("update", "kubernetes:apps/v1:Deployment"), ("create", "kubernetes:core/v1:ConfigMap")}
    code, out, _ = run_cli(capsys, "audit", "verify")
    assert code == 0 and "chain intact: 4 record(s), head seq 3" in out


def test_every_record_is_written_under_compliance_retention(capsys, tmp_path, s3, audit_env):
    write_chain(capsys, tmp_path)
    head = s3.head_object(Bucket=audit_env["CDB_AUDIT_BUCKET"], Key=KEY.format(0))
    assert head["ObjectLockMode"] == "COMPLIANCE"
    expected = datetime.now(timezone.utc) + timedelta(days=30)
    assert abs(head["ObjectLockRetainUntilDate"] - expected) < timedelta(minutes=5)


def test_a_retention_protected_record_cannot_be_deleted(capsys, tmp_path, s3, audit_env):
    write_chain(capsys, tmp_path)
    bucket, key = audit_env["CDB_AUDIT_BUCKET"], KEY.format(1)
    version = s3.head_object(Bucket=bucket, Key=key)["VersionId"]
    for extra in ({}, {"BypassGovernanceRetention": True}):
        with pytest.raises(ClientError) as refused:
            s3.delete_object(Bucket=bucket, Key=key, VersionId=version, **extra)
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert json.loads(s3.get_object(Bucket=bucket, Key=key, VersionId=version)["Body"].read())["seq"] == 1


def _overwrite(s3, bucket: str, seq: int, change) -> None:
    """What an attacker can do under Object Lock: put a new version over a record key."""
    record = json.loads(s3.get_object(Bucket=bucket, Key=KEY.format(seq))["Body"].read())
    change(record)
    s3.put_object(Bucket=bucket, Key=KEY.format(seq), Body=json.dumps(record).encode())


def test_verify_catches_an_altered_record(capsys, tmp_path, s3, audit_env):
    write_chain(capsys, tmp_path)
    _overwrite(s3, audit_env["CDB_AUDIT_BUCKET"], 0, lambda r: r["data"].update(approvers=["mallory"]))
    code, out, _ = run_cli(capsys, "audit", "verify")
    assert code == 1
    assert f"{KEY.format(0)}: altered: content does not match its hash" in out
    assert f"{KEY.format(0)}: 2 versions: the record was overwritten" in out
    assert "chain BROKEN" in out


def test_verify_catches_an_altered_record_whose_own_hash_was_recomputed(capsys, tmp_path, s3, audit_env):
    write_chain(capsys, tmp_path)

    def forge(record):  # hide a drift and make the record consistent with itself again
        record["data"]["op"] = "same"
        record["hash"] = digest(record)

    _overwrite(s3, audit_env["CDB_AUDIT_BUCKET"], 2, forge)
    code, out, _ = run_cli(capsys, "audit", "verify")
    assert code == 1 and f"{KEY.format(3)}: prevHash does not match the record before it" in out


def test_verify_catches_a_removed_record(capsys, tmp_path, s3, audit_env):
    write_chain(capsys, tmp_path)
    # A delete without a version id is allowed under Object Lock: it hides the record behind a marker.
    s3.delete_object(Bucket=audit_env["CDB_AUDIT_BUCKET"], Key=KEY.format(1))
    code, out, _ = run_cli(capsys, "audit", "verify")
    assert code == 1
    assert f"gap: record(s) 1 missing before {KEY.format(2)}" in out
    assert f"{KEY.format(1)}: hidden by a delete marker" in out
    assert f"{KEY.format(2)}: prevHash does not match" in out


def test_verify_catches_reordered_records(capsys, tmp_path, s3, audit_env, monkeypatch):
    write_chain(capsys, tmp_path)
    source = audit_env["CDB_AUDIT_BUCKET"]
    bodies = [s3.get_object(Bucket=source, Key=KEY.format(i))["Body"].read() for i in range(4)]
    copy = source + "-reordered"
    s3.create_bucket(Bucket=copy, ObjectLockEnabledForBucket=True)
    until = datetime.now(timezone.utc) + timedelta(days=1)
    for seq, body in enumerate([bodies[0], bodies[2], bodies[1], bodies[3]]):
        s3.put_object(Bucket=copy, Key=KEY.format(seq), Body=body, ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=until)
    monkeypatch.setenv("CDB_AUDIT_BUCKET", copy)
    code, out, _ = run_cli(capsys, "audit", "verify")
    assert code == 1
    assert f"{KEY.format(1)}: holds record seq 2: records were moved or reordered" in out
    assert f"{KEY.format(2)}: holds record seq 1: records were moved or reordered" in out


def test_verify_reports_records_without_object_lock(capsys, tmp_path, s3, audit_env, monkeypatch):
    write_chain(capsys, tmp_path)
    source = audit_env["CDB_AUDIT_BUCKET"]
    copy = source + "-unlocked"
    s3.create_bucket(Bucket=copy, ObjectLockEnabledForBucket=True)
    for i in range(4):
        s3.put_object(Bucket=copy, Key=KEY.format(i), Body=s3.get_object(Bucket=source, Key=KEY.format(i))["Body"].read())
    monkeypatch.setenv("CDB_AUDIT_BUCKET", copy)
    code, out, _ = run_cli(capsys, "audit", "verify")
    assert code == 1 and f"{KEY.format(0)}: not under COMPLIANCE retention" in out


def test_unreachable_endpoint_fails_loudly_spools_and_the_next_run_sends_the_spool_first(
        capsys, tmp_path, s3, audit_env, monkeypatch):
    working = audit_env["CDB_AUDIT_ENDPOINT"]
    monkeypatch.setenv("CDB_AUDIT_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    preview = str(preview_file(tmp_path))
    for commit in ("1" * 40, "2" * 40):
        code, out, err = run_cli(capsys, "audit", "merge", "--commit", commit, "--author", "a", "--approver", "b",
                                 "--preview", preview)
        assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert "record(s) kept in" in err and "sent first, in order" in err
    spool = Path(audit_env["CDB_AUDIT_SPOOL_DIR"])
    assert len(list(spool.glob("*.json"))) == 2
    assert records(s3, audit_env["CDB_AUDIT_BUCKET"]) == []

    monkeypatch.setenv("CDB_AUDIT_ENDPOINT", working)
    code, out, _ = run_cli(capsys, "audit", "merge", "--commit", "3" * 40, "--author", "a", "--approver", "b",
                           "--preview", preview)
    assert code == 0 and out.count("recorded merge") == 3
    assert [r["data"]["commit"] for r in records(s3, audit_env["CDB_AUDIT_BUCKET"])] == ["1" * 40, "2" * 40, "3" * 40]
    assert list(spool.glob("*.json")) == []
    assert run_cli(capsys, "audit", "verify")[0] == 0


def test_a_bucket_without_object_lock_is_refused_and_the_record_kept(capsys, tmp_path, s3, audit_env, monkeypatch):
    plain = audit_env["CDB_AUDIT_BUCKET"] + "-plain"
    s3.create_bucket(Bucket=plain)
    monkeypatch.setenv("CDB_AUDIT_BUCKET", plain)
    code, _, err = run_cli(capsys, "audit", "merge", "--commit", SHA, "--author", "a", "--preview",
                           str(preview_file(tmp_path)))
    assert code == 2 and "Object Lock" in err
    assert len(list(Path(audit_env["CDB_AUDIT_SPOOL_DIR"]).glob("*.json"))) == 1


def test_breakglass_prints_the_annotations_with_the_audit_reference(capsys, s3, audit_env):
    code, out, _ = run_cli(capsys, "audit", "breakglass", "--ticket", "SEC-12", "--reason", "security",
                           "--responsible", "erin@example.org", "--time", "2026-11-25T10:00:00Z",
                           "--expires", "2026-11-26T10:00:00Z")
    assert code == 0
    assert 'cdb-infra.io/break-glass-ticket: "SEC-12"' in out
    assert 'cdb-infra.io/break-glass-reason: "security"' in out
    assert 'cdb-infra.io/break-glass-responsible: "erin@example.org"' in out
    assert 'cdb-infra.io/break-glass-time: "2026-11-25T10:00:00Z"' in out
    assert 'cdb-infra.io/break-glass-expiry: "2026-11-26T10:00:00Z"' in out
    assert 'cdb-infra.io/break-glass-audit: "0:sha256:' in out


@pytest.mark.parametrize("args, message", [
    (["--expires", "2026-11-25T09:00:00Z"], "--expires must be later than --time"),
    (["--expires-in", "30d"], "within 7 days"),
    (["--expires", "2026-11-26T10:00:00"], "has no time zone"),
    (["--expires-in", "soon"], "use minutes, hours or days"),
])
def test_invalid_breakglass_input_is_rejected_before_anything_is_recorded(capsys, tmp_path, args, message, audit_env):
    code, out, err = run_cli(capsys, "audit", "breakglass", "--ticket", "INC-1", "--reason", "incident",
                             "--responsible", "erin", "--time", "2026-11-25T10:00:00Z", *args)
    assert code == 2 and message in err and out == ""
    assert not Path(audit_env["CDB_AUDIT_SPOOL_DIR"]).exists()


def test_breakglass_reason_outside_incident_or_security_is_a_usage_error(capsys, audit_env):
    code, _, err = run_cli(capsys, "audit", "breakglass", "--ticket", "INC-1", "--reason", "convenience",
                           "--responsible", "erin", "--expires-in", "1h")
    assert code == 2 and "invalid choice" in err


def test_flux_events_record_each_drifted_object(capsys, tmp_path, s3, audit_env):
    kustomization_event = {
        "involvedObject": {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                           "name": "apps", "namespace": "flux-system", "uid": "7d0cdc51"},
        "metadata": {"kustomize.toolkit.fluxcd.io/revision": "main@sha1:" + SHA},
        "severity": "info", "reason": "Progressing", "reportingController": "kustomize-controller",
        "message": "Deployment/apps/web configured\nService/apps/web unchanged\nConfigMap/apps/settings created",
        "timestamp": "2026-11-25T10:00:00Z",
    }
    helm_event = {  # the same event as a Kubernetes Event object
        "kind": "Event", "apiVersion": "v1", "type": "Warning", "reason": "DriftDetected",
        "metadata": {"name": "redis.1", "namespace": "data", "annotations": {"helm.toolkit.fluxcd.io/revision": "1.2.3"}},
        "involvedObject": {"kind": "HelmRelease", "name": "redis", "namespace": "data"},
        "message": "Cluster state of release data/redis.v3 has drifted from the desired state",
        "source": {"component": "helm-controller"}, "lastTimestamp": "2026-11-25T10:01:00Z",
    }
    events = tmp_path / "events.json"
    events.write_text(json.dumps([kustomization_event, helm_event]))
    code, out, _ = run_cli(capsys, "audit", "drift", "--input", str(events))
    assert code == 1 and "3 drifted resource(s) recorded" in out
    data = [r["data"] for r in records(s3, audit_env["CDB_AUDIT_BUCKET"])]
    assert [(d["kind"], d["name"], d["action"]) for d in data] == [
        ("Deployment", "web", "configured"), ("ConfigMap", "settings", "created"), ("HelmRelease", "redis", "DriftDetected")]
    assert data[0]["revision"] == "main@sha1:" + SHA and data[2]["controller"] == "helm-controller"


def test_a_refresh_preview_without_changes_records_nothing(capsys, tmp_path, s3, audit_env):
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps({"steps": [{"op": "same", "urn": "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev"}],
                                 "changeSummary": {"same": 1}}))
    code, out, _ = run_cli(capsys, "audit", "drift", "--input", str(clean))
    assert code == 0 and "no drift" in out
    assert records(s3, audit_env["CDB_AUDIT_BUCKET"]) == []


@pytest.mark.parametrize("content, message", [
    ("not json", "is not JSON"),
    (json.dumps({"hello": 1}), "neither a Pulumi PreviewDigest"),
    (json.dumps({"steps": [{"op": "update"}]}), "steps[0] has no op/urn"),
])
def test_unreadable_drift_input_is_an_input_error(capsys, tmp_path, content, message, audit_env):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    code, _, err = run_cli(capsys, "audit", "drift", "--input", str(bad))
    assert code == 2 and message in err


def test_merge_needs_a_real_preview_report(capsys, tmp_path, audit_env):
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps({"steps": []}))
    code, _, err = run_cli(capsys, "audit", "merge", "--commit", SHA, "--author", "a", "--preview", str(bad))
    assert code == 2 and "not a cdb preview JSON report" in err
    assert not Path(audit_env["CDB_AUDIT_SPOOL_DIR"]).exists()


def test_missing_bucket_setting_names_the_variable(capsys, monkeypatch):
    monkeypatch.delenv("CDB_AUDIT_BUCKET", raising=False)
    code, _, err = run_cli(capsys, "audit", "verify")
    assert code == 2 and "CDB_AUDIT_BUCKET is not set" in err


def test_concurrent_writers_never_share_a_sequence_number(tmp_path, s3, audit_env):
    from concurrent.futures import ThreadPoolExecutor

    from cdb_ops.audit import Pending, S3Store, Spool, StoreSettings, load_trusted_keys, submit, verify

    def writer(name: str) -> int:
        spool = Spool(tmp_path / f"spool-{name}")
        return sum(len(submit([Pending("drift", "2026-11-25T10:00:00Z", {"writer": name, "n": n})], spool,
                              lambda: S3Store(StoreSettings.from_env()))) for n in range(3))

    with ThreadPoolExecutor(max_workers=2) as pool:
        assert sum(pool.map(writer, ["a", "b"])) == 6
    result = verify(S3Store(StoreSettings.from_env()), load_trusted_keys())
    assert result.intact and result.records == 6, result.problems


def test_listings_page_through_more_than_a_thousand_records_and_their_versions(s3, audit_env):
    """S3 answers at most 1,000 keys a request: both listings must follow the pages to the end."""
    from concurrent.futures import ThreadPoolExecutor

    from cdb_ops.audit import S3Store, StoreSettings

    store = S3Store(StoreSettings.from_env())
    keys = [store.key(seq) for seq in range(1, 1101)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket=audit_env["CDB_AUDIT_BUCKET"], Key=key, Body=b"{}"), keys))
    # Someone wrote over the last record: its key has two versions, on the second page of versions.
    s3.put_object(Bucket=audit_env["CDB_AUDIT_BUCKET"], Key=keys[-1], Body=b"{ }")
    s3.put_object(Bucket=audit_env["CDB_AUDIT_BUCKET"], Key="elsewhere/not-a-record.json", Body=b"{}")
    requests: list[str] = []
    store.client.meta.events.register("before-call.s3.*", lambda model, **_: requests.append(model.name))

    assert store.list_keys() == keys
    counts = store.version_counts()
    assert len(counts) == 1100 and counts[keys[-1]] == 2 and set(counts.values()) == {1, 2}
    assert requests.count("ListObjectsV2") == 2 and requests.count("ListObjectVersions") == 2


def test_a_refused_listing_is_one_store_error_naming_the_bucket(s3, audit_env):
    from cdb_ops.audit import S3Store, StoreSettings
    from cdb_ops.audit.store import StoreUnavailable

    missing = S3Store(StoreSettings.from_env({**audit_env, "CDB_AUDIT_BUCKET": "no-such-bucket-here"}))
    with pytest.raises(StoreUnavailable, match=r"s3://no-such-bucket-here/.*listing records refused \(NoSuchBucket\)"):
        missing.list_keys()
    with pytest.raises(StoreUnavailable, match=r"listing record versions refused \(NoSuchBucket\)"):
        missing.version_counts()
