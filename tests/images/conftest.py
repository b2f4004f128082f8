"""A real CNCF distribution registry (Debian `docker-registry`) on loopback, and skopeo to push the
test images into it."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.images.oci import Layout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"docker-registry exited: {log.read_text()[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail("docker-registry did not listen within 20 s")


def _bcrypt(password: str) -> str:
    # The registry's htpasswd accepts bcrypt only; glibc's crypt makes it without another dependency.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))


def _start(folder: Path, auth: str = "") -> Iterator[str]:
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.fail("docker-registry is not installed: run scripts/ensure-test-servers.sh")
    port = _free_port()
    config = folder / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {folder / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n{auth}")
    log = folder / "registry.log"
    with log.open("w") as out:
        process = subprocess.Popen([binary, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait(port, process, log)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """host:port of a fresh registry with its own storage, stopped at the end."""
    yield from _start(tmp_path_factory.mktemp("registry"))


@pytest.fixture(scope="session")
def private_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """A registry behind htpasswd basic auth: (host:port, user, password)."""
    folder = tmp_path_factory.mktemp("private-registry")
    password = secrets.token_urlsafe(16)
    (folder / "htpasswd").write_text(f"ci:{_bcrypt(password)}\n")
    auth = f"auth:\n  htpasswd:\n    realm: cdb-test\n    path: {folder / 'htpasswd'}\n"
    for address in _start(folder, auth):
        yield address, "ci", password


def push(source: str, destination: str) -> None:
    """skopeo copy into the loopback registry (plain HTTP there)."""
    subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--insecure-policy",
                    "--all", source, f"docker://{destination}"], check=True, capture_output=True, timeout=120)


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return Layout(tmp_path / "layout")
