"""Fixtures for delivery tests: the CLI runner, fake secrets made at test time (so the repository
never holds one), a moto S3 server with Object Lock over HTTP, and a free loopback port."""

from __future__ import annotations

import logging
import random
import socket
import string
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from cdb_cli import main

ROOT = Path(__file__).resolve().parents[2]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeSecrets:
    """Credential-shaped values built from a seeded generator. Prefixes are split in the source so
    this file itself carries no token a scanner would (rightly) flag."""

    def __init__(self, seed: int = 5):
        self._random = random.Random(seed)

    def chars(self, count: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        return "".join(self._random.choice(alphabet) for _ in range(count))

    def aws_access_key_id(self) -> str:
        return "AK" + "IA" + self.chars(16, string.ascii_uppercase + string.digits)

    def github_token(self) -> str:
        return "gh" + "p_" + self.chars(36)

    def gitlab_token(self) -> str:
        return "gl" + "pat-" + self.chars(20)

    def slack_token(self) -> str:
        return "xo" + "xb-" + self.chars(11, string.digits) + "-" + self.chars(24, string.ascii_lowercase + string.digits)

    def google_api_key(self) -> str:
        return "AI" + "za" + self.chars(35)

    def pulumi_token(self) -> str:
        return "pu" + "l-" + self.chars(40, "0123456789abcdef")

    def password(self) -> str:
        return self.chars(12) + "!" + self.chars(6)

    def private_key(self) -> str:
        body = "\n".join(self.chars(64, string.ascii_letters + string.digits + "+/") for _ in range(6))
        kind = "RSA " + "PRIVATE KEY"
        return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\n"


@pytest.fixture
def fake() -> FakeSecrets:
    return FakeSecrets()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "moto-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "moto-test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")


_bucket_counter = iter(range(10_000))


@pytest.fixture
def audit_env(s3, moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A fresh Object Lock bucket and the environment `cdb audit` reads."""
    bucket = f"audit-worm-{next(_bucket_counter)}-{random.randrange(1 << 30)}"
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    env = {"CDB_AUDIT_ENDPOINT": moto_endpoint, "CDB_AUDIT_BUCKET": bucket,
           "CDB_AUDIT_SPOOL_DIR": str(tmp_path / "spool"), "CDB_AUDIT_RETENTION_DAYS": "30"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("CDB_AUDIT_PREFIX", raising=False)
    return env


@pytest.fixture
def audit_signing_key(tmp_path_factory, monkeypatch) -> Path:
    """A key pair made for the test: the private key from a file, the public key as the trusted list."""
    from cdb_ops.audit.signing import generate

    folder = tmp_path_factory.mktemp("audit-keys")
    generate(folder / "signing.pem", folder / "trusted.pub", "test writer")
    monkeypatch.setenv("CDB_AUDIT_SIGNING_KEY_FILE", str(folder / "signing.pem"))
    monkeypatch.setenv("CDB_AUDIT_PUBLIC_KEYS", str(folder / "trusted.pub"))
    monkeypatch.delenv("CDB_AUDIT_SIGNING_KEY", raising=False)
    return folder
