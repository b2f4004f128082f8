"""The rendered prod OpenBao configuration runs on the real `bao` binary: three members form a Raft cluster
through `retry_join`, unseal themselves with the ceremony's static key (also after a restart), answer the
rendered probes as Kubernetes needs, and take the stack's configuration from `cdb vault configure`."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cdb_ops import secret_store
from cdb_cli import main
from tests.servers.openbao_cluster import RenderedCluster, http
from tests.servers.openbao_loopback import mount_dir
from tests.stack.platform_stack import stack_config

pytestmark = pytest.mark.servers
ROOT = Path(__file__).resolve().parents[2]


def k8s_ok(code: int) -> bool:
    """Kubernetes counts an httpGet probe as passed for 200 <= status < 400."""
    return 200 <= code < 400


def cluster_ca() -> str:
    """A stand-in for the API server's CA, which a pod reads from its service-account mount."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "kubernetes")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RenderedCluster]:
    members = RenderedCluster(tmp_path_factory.mktemp("openbao"))
    members.ceremony_key()
    for i in range(members.replicas):
        members.start(i)
    try:
        yield members
    finally:
        members.stop_all()


@pytest.fixture(scope="module")
def root_token(cluster: RenderedCluster) -> str:
    """The key ceremony's init on member 0 (recovery shares: the static seal holds the unseal key)."""
    ready, live = cluster.probe_path("readiness"), cluster.probe_path("liveness")
    cluster.wait("every member listening", lambda: all(cluster.health(i, "/v1/sys/health") == 501
                                                       for i in range(cluster.replicas)))
    for i in range(cluster.replicas):
        # Uninitialised: kept out of the Service, but never restarted (the ceremony needs it running).
        assert not k8s_ok(cluster.health(i, ready)) and k8s_ok(cluster.health(i, live))
    status, answer = http(cluster.address(0), "POST", "/v1/sys/init",
                          {"recovery_shares": 5, "recovery_threshold": 3})
    assert status == 200, answer
    assert answer["keys"] == [] and len(answer["recovery_keys"]) == 5  # auto-unseal: only recovery keys exist
    return answer["root_token"]


def raft_voters(cluster: RenderedCluster, token: str) -> list[str]:
    status, answer = http(cluster.address(0), "GET", "/v1/sys/storage/raft/configuration", token=token)
    assert status == 200, answer
    return sorted(s["node_id"] for s in answer["data"]["config"]["servers"] if s["voter"])


def test_three_rendered_members_form_one_raft_cluster_and_unseal_themselves(cluster: RenderedCluster,
                                                                            root_token: str) -> None:
    ready = cluster.probe_path("readiness")
    cluster.wait("three unsealed members", lambda: all(cluster.health(i, ready) == 200 for i in range(3)), 90)
    cluster.wait("three Raft voters", lambda: raft_voters(cluster, root_token) == ["vault-0", "vault-1", "vault-2"], 60)
    seal = http(cluster.address(1), "GET", "/v1/sys/seal-status")[1]
    assert seal["type"] == "static" and seal["sealed"] is False and seal["initialized"] is True
    for i in range(3):
        assert "unknown or unsupported field" not in cluster.log(i)  # the rendered config is all understood


def test_a_restarted_member_unseals_itself_and_the_probes_follow(cluster: RenderedCluster, root_token: str) -> None:
    ready, live = cluster.probe_path("readiness"), cluster.probe_path("liveness")
    cluster.wait("three unsealed members", lambda: all(cluster.health(i, ready) == 200 for i in range(3)), 90)
    roles = {i: http(cluster.address(i), "GET", "/v1/sys/health?standbyok=true")[1]["standby"] for i in range(3)}
    assert sorted(roles.values()) == [False, True, True]  # one active; standbys pass readiness too (standbyok)
    active = next(i for i, standby in roles.items() if not standby)
    assert http(cluster.address(active), "PUT", "/v1/sys/seal", token=root_token)[0] == 204
    cluster.wait(f"member {active} sealed", lambda: cluster.health(active, ready) == 503, 30)
    assert k8s_ok(cluster.health(active, live))  # sealed: out of the Service, but not restarted by liveness
    cluster.stop(active)  # what a rolling update does to the pod
    cluster.start(active)
    cluster.wait(f"member {active} unsealed again after a restart", lambda: cluster.health(active, ready) == 200, 60)
    cluster.wait("an active member again", lambda: [http(cluster.address(i), "GET", "/v1/sys/health")[0]
                                                    for i in range(3)].count(200) == 1, 60)


def test_cdb_vault_configure_loads_the_rendered_policies_into_the_cluster(
        cluster: RenderedCluster, root_token: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    ready = cluster.probe_path("readiness")
    cluster.wait("three unsealed members", lambda: all(cluster.health(i, ready) == 200 for i in range(3)), 90)
    # Standbys forward to the active member: wait until one is active and the others know it.
    cluster.wait("one active member known to all", lambda: all(
        http(cluster.address(i), "GET", "/v1/sys/leader")[1].get("leader_address") for i in range(3))
        and [cluster.health(i, "/v1/sys/health") for i in range(3)].count(200) == 1, 60)
    monkeypatch.setenv("BAO_TOKEN", root_token)
    target = secret_store.stack_target(ROOT, "prod")
    # The one environment value besides addresses: the API server's CA, which a pod finds in its own mount.
    target = dataclasses.replace(target, config=target.config.model_copy(update={"kubernetes_ca_cert": cluster_ca()}))
    client = secret_store.connect(cluster.address(1))  # a standby: it forwards to the active member
    outcome = secret_store.configure(client, target)
    assert outcome.problems == [] and outcome.undeclared == []  # the rendered audit device runs
    assert secret_store.configure(client, target).changes == []  # idempotent
    want = secret_store.desired_state_of(target)
    for i in range(3):
        for path, body in want["writes"].items():
            if path.startswith("sys/policies/acl/"):
                status, answer = http(cluster.address(i), "GET", f"/v1/{path}", token=root_token)
                assert status == 200 and answer["data"]["policy"] == body["policy"]
    # The audit device the server config declares writes the requests on the audit volume.
    audit_log = Path(http(cluster.address(0), "GET", "/v1/sys/audit", token=root_token)[1]["data"]["file/"]
                     ["options"]["file_path"])
    assert audit_log.is_file() and "sys/policies/acl" in audit_log.read_text()
    # The CLI against the same cluster: every secret missing, then none once seeded.
    assert main(["vault", "check", "--stack", "prod", "--cwd", str(ROOT), "--address", cluster.address(0)]) == 1
    missing = [line for line in capsys.readouterr().out.splitlines() if line.startswith("missing secret:")]
    assert len(missing) == len(want["secrets"]) and any("storage/minio/minio-root" in m for m in missing)
    for path in want["secrets"]:
        assert http(cluster.address(0), "POST", f"/v1/{path}", {"data": {"value": "seeded"}}, token=root_token)[0] == 200
    assert main(["vault", "check", "--stack", "prod", "--cwd", str(ROOT), "--address", cluster.address(0)]) == 0
    assert "not applied" not in capsys.readouterr().out


def test_the_rendered_key_rotation_moves_the_seal_to_the_new_key(tmp_path: Path) -> None:
    """Runbook 'rotate the unseal key': both keys for one restart, then the new key alone still unseals."""
    dev = stack_config("dev").get("cdb-infra:secrets", {})
    first = RenderedCluster(tmp_path, "dev")
    unseal_dir = mount_dir(tmp_path, 0, "/vault/unseal")
    first.ceremony_key()
    first.start(0)
    try:
        first.wait("member listening", lambda: first.health(0, "/v1/sys/health") == 501)
        assert http(first.address(0), "POST", "/v1/sys/init", {"recovery_shares": 1, "recovery_threshold": 1})[0] == 200
        first.wait("unsealed with unseal-1", lambda: first.health(0, first.probe_path("readiness")) == 200)
    finally:
        first.stop_all()
    rotating = RenderedCluster(tmp_path, "dev", first.ports, secrets={
        **dev, "autoUnseal": {"keyId": "unseal-2", "previousKeyId": "unseal-1"}})
    rotating.ceremony_key()  # the new key beside the old one in the Secret
    assert sorted(p.name for p in unseal_dir.iterdir()) == ["unseal-1", "unseal-2"]
    rotating.start(0)
    try:
        rotating.wait("unsealed during the rotation", lambda: rotating.health(0, rotating.probe_path("readiness")) == 200)
    finally:
        rotating.stop_all()
    (unseal_dir / "unseal-1").unlink()  # the old key leaves the Secret
    done = RenderedCluster(tmp_path, "dev", first.ports, secrets={**dev, "autoUnseal": {"keyId": "unseal-2"}})
    done.start(0)
    try:
        done.wait("unsealed with unseal-2 alone", lambda: done.health(0, done.probe_path("readiness")) == 200)
    finally:
        done.stop_all()
