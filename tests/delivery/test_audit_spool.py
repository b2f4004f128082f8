"""`cdb audit` writers sharing one spool, as processes against moto's S3, killed at the worst moments:
every record is stored exactly once, none is lost, no run crashes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.delivery.conftest import ROOT, run_cli
from tests.delivery.test_audit import KEY, merge, preview_file, records, signing_key, write_chain  # noqa: F401
from tests.delivery.test_audit_signing import _append


# A `cdb audit` process; KILL_AT makes it die by SIGKILL right before or right after the store takes a
# record (the two moments where a crash used to lose or double a record), KILL_AFTER after that many puts.
WRITER = """
import os, signal, sys
from cdb_ops.audit import store
where, after = os.environ.get("KILL_AT"), int(os.environ.get("KILL_AFTER", "1"))
if where:
    put, done = store.S3Store.put_locked, []
    def dying_put(self, key, body, now=None):
        if where == "before-put" and len(done) + 1 == after:
            os.kill(os.getpid(), signal.SIGKILL)
        put(self, key, body, now)
        done.append(key)
        if where == "after-put" and len(done) == after:
            os.kill(os.getpid(), signal.SIGKILL)
    store.S3Store.put_locked = dying_put
from cdb_cli import main
for argv in [line.split("\\t") for line in sys.argv[1].splitlines()]:
    print("start", argv[3], flush=True)  # kills happen only at a put, after this run spooled its record
    code = main(argv)
    if code not in (0, 1):
        sys.exit(code)
"""


def writer(runs: list[list[str]], **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, "\n".join("\t".join(r) for r in runs)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, **env})


def glass(ticket: str) -> list[str]:
    return ["audit", "breakglass", "--ticket", ticket, "--reason", "incident", "--responsible", "dora",
            "--expires-in", "1h"]


def assert_each_once(s3, bucket: str, expected: set[str]) -> list[dict]:
    chain = records(s3, bucket)
    seen = [r["data"].get("commit") or r["data"].get("ticket") for r in chain]
    assert sorted(seen) == sorted(set(seen)), f"stored twice: {[x for x in seen if seen.count(x) > 1]}"
    assert set(seen) == expected
    assert len({r["recordId"] for r in chain}) == len(chain)
    return chain


def test_writer_processes_sharing_one_spool_store_every_record_once_and_never_crash(
        capsys, tmp_path, s3, audit_env):
    preview = preview_file(tmp_path)
    procs = [writer([merge(f"{w}{n:039d}", preview) if n % 2 else glass(f"INC-{w}{n}") for n in range(5)])
             for w in range(4)]
    outputs = [p.communicate(timeout=240) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0 and "Traceback" not in err, err
        # every break-glass run printed its own audit reference
        assert out.count("cdb-infra.io/break-glass-audit:") == 3, out
    expected = {f"{w}{n:039d}" for w in range(4) for n in (1, 3)} | {f"INC-{w}{n}" for w in range(4) for n in (0, 2, 4)}
    assert_each_once(s3, audit_env["CDB_AUDIT_BUCKET"], expected)
    assert list(Path(audit_env["CDB_AUDIT_SPOOL_DIR"]).glob("*.json")) == []
    assert run_cli(capsys, "audit", "verify")[0] == 0


@pytest.mark.parametrize("where", ["after-put", "before-put"])
def test_a_writer_killed_mid_send_leaves_each_record_stored_exactly_once(capsys, tmp_path, s3, audit_env, where):
    preview = preview_file(tmp_path)
    proc = writer([merge("1" * 40, preview)], KILL_AT=where)
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    spool = Path(audit_env["CDB_AUDIT_SPOOL_DIR"])
    assert len(list(spool.glob("*.json"))) == 1  # never told "recorded", so it is still spooled
    assert len(records(s3, audit_env["CDB_AUDIT_BUCKET"])) == (1 if where == "after-put" else 0)
    code, out, err = run_cli(capsys, *merge("2" * 40, preview))
    assert code == 0, err
    chain = assert_each_once(s3, audit_env["CDB_AUDIT_BUCKET"], {"1" * 40, "2" * 40})
    assert [r["data"]["commit"] for r in chain] == ["1" * 40, "2" * 40]
    assert list(spool.glob("*.json")) == []
    assert run_cli(capsys, "audit", "verify")[0] == 0


def test_writers_killed_at_random_points_lose_nothing_they_reported_and_store_nothing_twice(
        capsys, tmp_path, s3, audit_env):
    rng, preview = random.Random(15), preview_file(tmp_path)
    procs = []
    for w in range(6):
        where = rng.choice(["after-put", "before-put", ""])
        runs = [merge(f"{w}{n:039d}", preview) for n in range(4)]
        procs.append(writer(runs, KILL_AT=where, KILL_AFTER=str(rng.randint(1, 4))))
    outputs = [p.communicate(timeout=240) for p in procs]
    started = [{line.split()[1] for line in out.splitlines() if line.startswith("start ")} for out, _ in outputs]
    for proc, (_, err) in zip(procs, outputs):
        assert proc.returncode in (0, -signal.SIGKILL) and "Traceback" not in err, err
    assert any(p.returncode == -signal.SIGKILL for p in procs) and any(p.returncode == 0 for p in procs)
    code, _, err = run_cli(capsys, *merge("f" * 40, preview))  # the next run sends what the dead left
    assert code == 0, err
    # Every started run spooled its record before its process could die at a put: all stored, once.
    assert_each_once(s3, audit_env["CDB_AUDIT_BUCKET"], set().union(*started) | {"f" * 40})
    assert list(Path(audit_env["CDB_AUDIT_SPOOL_DIR"]).glob("*.json")) == []
    assert run_cli(capsys, "audit", "verify")[0] == 0


def test_a_put_that_landed_but_answered_conflict_is_not_stored_again(capsys, tmp_path, s3, audit_env, monkeypatch):
    # botocore retries a put whose answer was lost; the retry then meets our own record (412).
    from cdb_ops.audit import store
    from cdb_ops.audit.store import StoreConflict

    put = store.S3Store.put_locked

    def lost_answer(self, key, body, now=None):
        put(self, key, body, now)
        raise StoreConflict(key)

    monkeypatch.setattr(store.S3Store, "put_locked", lost_answer)
    code, out, err = run_cli(capsys, *merge("1" * 40, preview_file(tmp_path)))
    assert code == 0 and "recorded merge seq 0" in out, err
    monkeypatch.undo()
    assert [r["seq"] for r in records(s3, audit_env["CDB_AUDIT_BUCKET"])] == [0]


def test_verify_reports_a_record_stored_twice(capsys, tmp_path, s3, audit_env):
    from cdb_ops.audit.records import Pending, chain, encode
    from cdb_ops.audit.signing import load_signer

    write_chain(capsys, tmp_path)
    bucket = audit_env["CDB_AUDIT_BUCKET"]
    first, head = records(s3, bucket)[0], records(s3, bucket)[-1]
    again = Pending(first["kind"], first["recordedAt"], first["data"], first["recordId"])
    _append(s3, bucket, json.loads(encode(chain(again, head["seq"] + 1, head["hash"], load_signer()))))
    code, out, _ = run_cli(capsys, "audit", "verify")
    assert code == 1 and f"{KEY.format(4)}: record {first['recordId']} is already stored as {KEY.format(0)}" in out


def test_a_record_spooled_by_the_previous_cdb_is_still_sent_once(capsys, tmp_path, s3, audit_env):
    spool = Path(audit_env["CDB_AUDIT_SPOOL_DIR"])
    spool.mkdir()
    old = {"kind": "drift", "recordedAt": "2026-11-25T10:00:00Z", "data": {"n": 1}}  # no recordId yet
    (spool / "00000000000000000001-drift.json").write_text(json.dumps(old))
    code, out, err = run_cli(capsys, *merge("1" * 40, preview_file(tmp_path)))
    assert code == 0 and out.count("recorded") == 2, err
    chain = records(s3, audit_env["CDB_AUDIT_BUCKET"])
    assert [r["kind"] for r in chain] == ["drift", "merge"] and chain[0]["recordId"].startswith("spool-")
    assert list(spool.glob("*.json")) == [] and run_cli(capsys, "audit", "verify")[0] == 0
