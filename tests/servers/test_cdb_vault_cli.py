"""`cdb vault configure|check` as an operator runs it: exit codes, one-line errors, nothing half-written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from cdb_cli import main
from cdb_ops.events.localservers import free_port
from tests.servers.openbao_cluster import RenderedCluster
from tests.servers.vault_fixtures import ROOT_TOKEN, OpenBao, openbao  # noqa: F401 (fixture)

pytestmark = pytest.mark.servers
ROOT = Path(__file__).resolve().parents[2]


def cdb(*argv: str) -> list[str]:
    return ["vault", *argv, "--cwd", str(ROOT)]


@pytest.fixture(autouse=True)
def _no_ambient_vault(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BAO_TOKEN", "VAULT_TOKEN", "BAO_ADDR", "VAULT_ADDR", "BAO_CACERT", "VAULT_CACERT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def uninitialised(tmp_path: Path) -> Iterator[RenderedCluster]:
    """The dev stack's single rendered member before the key ceremony."""
    member = RenderedCluster(tmp_path, "dev")
    member.ceremony_key()
    member.start(0)
    member.wait("member listening", lambda: member.health(0, "/v1/sys/health") == 501)
    yield member
    member.stop_all()


def test_print_shows_the_desired_state_without_a_server(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(cdb("configure", "--stack", "prod", "--print")) == 0
    state = yaml.safe_load(capsys.readouterr().out)
    assert set(state["writes"]) >= {"sys/policies/acl/storage-minio-read", "auth/kubernetes/role/storage-minio"}
    assert "kv/data/storage/minio/minio-root" in state["secrets"]


def test_without_a_token_configure_stops_with_one_line_naming_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(cdb("configure", "--stack", "dev", "--address", "http://127.0.0.1:1")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "set BAO_TOKEN" in err and "Traceback" not in err


def test_an_unreachable_address_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BAO_TOKEN", "t")
    assert main(cdb("check", "--stack", "dev", "--address", f"http://127.0.0.1:{free_port()}")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach the API" in err


def test_before_the_key_ceremony_configure_says_so_and_writes_nothing(
        uninitialised: RenderedCluster, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BAO_TOKEN", "t")
    assert main(cdb("configure", "--stack", "dev", "--address", uninitialised.address(0))) == 2
    err = capsys.readouterr().err
    assert "not initialised; run the key ceremony first" in err and err.count("\n") == 1


def test_dry_run_lists_every_change_and_writes_nothing(openbao: OpenBao, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BAO_TOKEN", ROOT_TOKEN)
    assert main(cdb("configure", "--stack", "dev", "--address", openbao.address, "--dry-run")) == 1
    out = capsys.readouterr().out
    assert "would apply: enable mounts kv (kv)" in out and "would apply: create sys/policies/acl/apps-orders-api-read" in out
    assert "problem: audit device 'file'" in out  # a dev server runs without the rendered config's audit device
    assert "kv/" not in openbao.ok("GET", "sys/mounts")["data"]
    assert "apps-orders-api-read" not in openbao.ok("GET", "sys/policies/acl?list=true")["data"]["keys"]


def test_a_server_error_on_a_write_is_one_line_naming_the_path(openbao: OpenBao, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    # Outside a pod the server has no service-account CA: Kubernetes auth cannot be configured there.
    monkeypatch.setenv("BAO_TOKEN", ROOT_TOKEN)
    assert main(cdb("configure", "--stack", "dev", "--address", openbao.address)) == 2
    err = capsys.readouterr().err
    assert err.startswith("cdb vault: error: write auth/kubernetes/config: ") and err.count("\n") == 1


def test_a_token_without_rights_is_refused_with_the_runbook(openbao: OpenBao, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BAO_TOKEN", openbao.token_for(["no-such-policy"]))
    assert main(cdb("configure", "--stack", "dev", "--address", openbao.address)) == 2
    assert "permission denied; the token needs the rights listed in docs/openbao-runbook.md" in capsys.readouterr().err


def test_check_on_an_unconfigured_server_lists_what_is_not_applied(openbao: OpenBao, monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BAO_TOKEN", ROOT_TOKEN)
    assert main(cdb("check", "--stack", "dev", "--address", openbao.address)) == 1
    out = capsys.readouterr().out
    assert "not applied: enable mounts kv (kv)" in out and "not applied: create auth/kubernetes/role/storage-minio" in out
    assert "missing secret: kv/data/storage/minio/minio-root (read by storage-minio)" in out
    assert "kv/" not in openbao.ok("GET", "sys/mounts")["data"]  # check never writes


def test_a_conflicting_mount_stops_configure_before_it_writes_anything(
        openbao: OpenBao, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    openbao.ok("POST", "sys/auth/kubernetes", {"type": "userpass"})  # someone else's method on the stack's path
    monkeypatch.setenv("BAO_TOKEN", ROOT_TOKEN)
    assert main(cdb("configure", "--stack", "dev", "--address", openbao.address)) == 2
    err = capsys.readouterr().err
    assert "auth kubernetes: is a 'userpass', the stack wants 'kubernetes'" in err and err.count("\n") == 1
    assert "kv/" not in openbao.ok("GET", "sys/mounts")["data"]  # nothing half-written
    assert "apps-orders-api-read" not in openbao.ok("GET", "sys/policies/acl?list=true")["data"]["keys"]
