"""`cdb audit` signatures against moto's S3: write access to the bucket is not enough to extend the log."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cdb_ops.audit.records import digest
from cdb_ops.audit.signing import generate
from tests.delivery.conftest import run_cli
from tests.delivery.test_audit import KEY, SHA, merge, preview_file, records, signing_key, write_chain  # noqa: F401
from tests.servers.vault_fixtures import openbao  # noqa: F401


def _append(s3, bucket: str, record: dict) -> None:
    """What a forger with write access can do: put a new record after the head, under Object Lock."""
    until = datetime.now(timezone.utc) + timedelta(days=1)
    s3.put_object(Bucket=bucket, Key=KEY.format(record["seq"]), Body=json.dumps(record).encode(),
                  ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)


def _forged_tail(s3, bucket: str, **fields) -> dict:
    head = records(s3, bucket)[-1]
    record = {**head, "seq": head["seq"] + 1, "prevHash": head["hash"], "kind": "merge",
              "data": {"commit": "f" * 40, "author": "mallory", "approvers": ["mallory"]},
              "recordId": "00000000-0000-4000-8000-000000000000", **fields}
    record["hash"] = digest(record)  # a correct link and a correct hash
    return record


def test_verify_catches_a_forged_tail_signed_with_the_forgers_own_key(capsys, tmp_path, s3, audit_env):
    from cdb_ops.audit.signing import Signer, load_signer

    write_chain(capsys, tmp_path)
    assert run_cli(capsys, "audit", "verify")[0] == 0
    forger = Signer(load_signer({"CDB_AUDIT_SIGNING_KEY_FILE": str(_other_key(tmp_path))}).key)
    record = _forged_tail(s3, audit_env["CDB_AUDIT_BUCKET"], keyId=forger.key_id)
    record["signature"] = forger.sign(record["hash"])
    _append(s3, audit_env["CDB_AUDIT_BUCKET"], record)
    code, out, _ = run_cli(capsys, "audit", "verify")
    assert code == 1 and "chain BROKEN: 1 problem(s) in 5 record(s)" in out
    assert f"{KEY.format(4)}: signed by key '{forger.key_id}', which is not a trusted audit key: forged" in out
    # and no honest writer links its record to the forged head
    code, _, err = run_cli(capsys, *merge("2" * 40, preview_file(tmp_path)))
    assert code == 2 and f"{KEY.format(4)}: the newest record is damaged or not signed by a trusted key" in err
    assert len(records(s3, audit_env["CDB_AUDIT_BUCKET"])) == 5


def test_verify_catches_a_forged_tail_claiming_the_trusted_key(capsys, tmp_path, s3, audit_env):
    write_chain(capsys, tmp_path)
    bucket = audit_env["CDB_AUDIT_BUCKET"]
    head = records(s3, bucket)[-1]
    record = _forged_tail(s3, bucket)  # keyId of the real writer, and its last signature replayed
    record["signature"] = head["signature"]
    _append(s3, bucket, record)
    code, out, _ = run_cli(capsys, "audit", "verify")
    assert code == 1 and f"{KEY.format(4)}: signature does not verify with trusted key {head['keyId']}: forged" in out


def test_verify_catches_a_forged_tail_in_the_old_unsigned_format(capsys, tmp_path, s3, audit_env):
    write_chain(capsys, tmp_path)
    bucket = audit_env["CDB_AUDIT_BUCKET"]
    head = records(s3, bucket)[-1]
    legacy = {"schemaVersion": 1, "seq": 4, "prevHash": head["hash"], "kind": "merge",
              "recordedAt": head["recordedAt"], "data": {"commit": "f" * 40}}
    legacy["hash"] = digest(legacy)
    _append(s3, bucket, legacy)
    code, out, _ = run_cli(capsys, "audit", "verify")
    assert code == 1 and f"{KEY.format(4)}: unsigned (schema 1) record after signed records: forged" in out
    assert run_cli(capsys, *merge("2" * 40, preview_file(tmp_path)))[0] == 2


def test_records_of_the_unsigned_format_are_sealed_by_the_next_signed_record(capsys, tmp_path, s3, audit_env):
    bucket, prev = audit_env["CDB_AUDIT_BUCKET"], "sha256:" + "0" * 64
    for seq in range(2):  # a log written by the previous cdb: schema 1, no signature
        legacy = {"schemaVersion": 1, "seq": seq, "prevHash": prev, "kind": "drift",
                  "recordedAt": "2026-11-01T10:00:00Z", "data": {"n": seq, "amount": 1.0}}
        legacy["hash"] = prev = digest(legacy)
        _append(s3, bucket, legacy)
    code, out, _ = run_cli(capsys, "audit", "verify")
    assert code == 1 and "unsigned (schema 1) records at the end of the log" in out
    assert "altered" not in out  # schema 1 hashes keep their own canonical form (1.0 stays 1.0)
    assert run_cli(capsys, "audit", "breakglass", "--ticket", "INC-9", "--reason", "incident",
                   "--responsible", "dora", "--expires-in", "1h")[0] == 0
    code, out, _ = run_cli(capsys, "audit", "verify")
    assert code == 0 and "chain intact: 3 record(s), head seq 2" in out


def _other_key(tmp_path: Path) -> Path:
    folder = tmp_path / "other-key"
    folder.mkdir(exist_ok=True)
    generate(folder / "key.pem", folder / "key.pub", "someone else")
    return folder / "key.pem"


def test_a_writer_whose_key_is_not_trusted_keeps_the_record_spooled(capsys, tmp_path, s3, audit_env, monkeypatch):
    monkeypatch.setenv("CDB_AUDIT_SIGNING_KEY_FILE", str(_other_key(tmp_path)))
    code, _, err = run_cli(capsys, "audit", "merge", "--commit", SHA, "--author", "a", "--approver", "b", "--preview",
                           str(preview_file(tmp_path)))
    assert code == 2 and "is not among the trusted public keys" in err and len(err.strip().splitlines()) == 1
    assert records(s3, audit_env["CDB_AUDIT_BUCKET"]) == []
    assert len(list(Path(audit_env["CDB_AUDIT_SPOOL_DIR"]).glob("*.json"))) == 1


def test_a_writer_without_a_signing_key_is_told_where_to_put_it(capsys, tmp_path, s3, audit_env, monkeypatch):
    monkeypatch.delenv("CDB_AUDIT_SIGNING_KEY_FILE")
    code, _, err = run_cli(capsys, "audit", "merge", "--commit", SHA, "--author", "a", "--preview",
                           str(preview_file(tmp_path)))
    assert code == 2 and "no audit signing key: set CDB_AUDIT_SIGNING_KEY_FILE" in err and "Traceback" not in err
    assert len(list(Path(audit_env["CDB_AUDIT_SPOOL_DIR"]).glob("*.json"))) == 1


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites_it(capsys, tmp_path):
    private, public = tmp_path / "k.pem", tmp_path / "trusted.pub"
    code, out, _ = run_cli(capsys, "audit", "keygen", "--private-key", str(private), "--public-keys", str(public))
    assert code == 0 and "created audit signing key ed25519:" in out
    assert private.stat().st_mode & 0o777 == 0o600 and public.read_text().startswith("ssh-ed25519 ")
    code, _, err = run_cli(capsys, "audit", "keygen", "--private-key", str(private), "--public-keys", str(public))
    assert code == 2 and "never overwrite a signing key" in err and len(public.read_text().splitlines()) == 1


def test_the_repository_trusts_one_committed_public_key_and_holds_no_private_key():
    from cdb_ops.audit.signing import DEFAULT_PUBLIC_KEYS, load_trusted_keys

    assert len(load_trusted_keys({"CDB_AUDIT_PUBLIC_KEYS": str(DEFAULT_PUBLIC_KEYS)})) >= 1
    assert not [p for p in DEFAULT_PUBLIC_KEYS.parent.iterdir() if "PRIVATE KEY" in p.read_text()]


def test_nan_in_the_input_is_refused_before_anything_is_spooled(capsys, tmp_path, s3, audit_env):
    preview = preview_file(tmp_path)
    preview.write_text(preview.read_text().replace('"resources": 42', '"resources": NaN'))
    code, out, err = run_cli(capsys, "audit", "merge", "--commit", SHA, "--author", "a", "--preview", str(preview))
    assert code == 2 and f"{preview}: the preview report is not JSON (NaN is not a JSON value" in err
    assert len(err.strip().splitlines()) == 1 and out == ""
    assert not Path(audit_env["CDB_AUDIT_SPOOL_DIR"]).exists()
    assert records(s3, audit_env["CDB_AUDIT_BUCKET"]) == []


def test_record_hash_is_rfc_8785_so_another_writer_computes_the_same(capsys, tmp_path, s3, audit_env):
    import hashlib as _hashlib

    import rfc8785

    write_chain(capsys, tmp_path)
    for record in records(s3, audit_env["CDB_AUDIT_BUCKET"]):
        body = {k: v for k, v in record.items() if k not in ("hash", "signature")}
        assert record["hash"] == "sha256:" + _hashlib.sha256(rfc8785.dumps(body)).hexdigest()


def test_the_signing_key_is_read_from_openbao(capsys, tmp_path, s3, audit_env, monkeypatch, openbao, signing_key):
    pem = (signing_key / "signing.pem").read_text()
    openbao.ok("POST", "secret/data/cdb/audit-signing", {"data": {"private_key": pem}})
    monkeypatch.delenv("CDB_AUDIT_SIGNING_KEY_FILE")
    monkeypatch.setenv("CDB_AUDIT_SIGNING_KEY_VAULT", "secret/cdb/audit-signing#private_key")
    monkeypatch.setenv("VAULT_ADDR", openbao.address)
    monkeypatch.setenv("VAULT_TOKEN", openbao.token_for(["no-such-policy"]))  # may read nothing
    code, _, err = run_cli(capsys, *merge("1" * 40, preview_file(tmp_path)))
    assert code == 2 and "answered HTTP 403; check the token's policy" in err and len(err.strip().splitlines()) == 1
    openbao.ok("PUT", "sys/policies/acl/audit-writer",
               {"policy": 'path "secret/data/cdb/audit-signing" { capabilities = ["read"] }'})
    monkeypatch.setenv("VAULT_TOKEN", openbao.token_for(["audit-writer"]))
    code, out, err = run_cli(capsys, *merge("2" * 40, preview_file(tmp_path)))
    assert code == 0 and out.count("recorded merge") == 2, err  # the spooled one first
    assert run_cli(capsys, "audit", "verify")[0] == 0
