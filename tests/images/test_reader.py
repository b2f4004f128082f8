"""The image reader against real inputs: OCI layouts written here, archives and a loopback
registry filled by skopeo, and the ways they break."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from cdb_release.images.cache import BlobCache
from cdb_stack.images.model import ImageError
from cdb_release.images.reader import read_image
from tests.images.conftest import _free_port, push
from tests.images.oci import Layout, layer

RUNTIME = {"User": "10001", "Env": ["PATH=/bin"], "ExposedPorts": {"8080/tcp": {}}}


def _cache_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_an_oci_layout_resolves_its_tag_to_the_manifest_digest_with_config_and_layers(layout: Layout, tmp_path):
    digest = layout.add("v1", RUNTIME, [layer({"app/run": b"#!/bin/sh\n"})])
    image = read_image(f"oci:{layout.root}:v1", BlobCache(tmp_path / "cache"))
    assert image.digest == digest
    assert image.runtime["User"] == "10001"
    assert len(image.layers) == 1 and image.layers[0].data[:2] == b"\x1f\x8b"


def test_an_index_yields_linux_amd64_unless_another_platform_is_asked_for(layout: Layout, tmp_path):
    layout.add_index("multi", {"arm64": {"User": "1"}, "amd64": {"User": "2"}})
    cache = BlobCache(tmp_path / "cache")
    assert read_image(f"oci:{layout.root}:multi", cache).runtime["User"] == "2"
    assert read_image(f"oci:{layout.root}:multi", cache, platform="linux/arm64").runtime["User"] == "1"
    with pytest.raises(ImageError, match=r"no linux/s390x image in the index \(offered: linux/arm64, linux/amd64\)"):
        read_image(f"oci:{layout.root}:multi", cache, platform="linux/s390x")


def test_a_blob_altered_on_disk_is_refused_and_not_cached(layout: Layout, tmp_path):
    layout.add("v1", RUNTIME, [layer({"a": b"1"})])
    manifest = json.loads(next(p for p in (layout.root / "blobs/sha256").iterdir()
                               if b'"layers"' in p.read_bytes()).read_bytes())
    victim = layout.root / "blobs/sha256" / manifest["layers"][0]["digest"].split(":")[1]
    victim.write_bytes(victim.read_bytes() + b"x")
    cache_root = tmp_path / "cache"
    with pytest.raises(ImageError, match=r"^oci:.*:v1: blob sha256:\w+ has digest sha256:\w+; .*refusing it"):
        read_image(f"oci:{layout.root}:v1", BlobCache(cache_root))
    cached = {p.name for p in _cache_files(cache_root)}
    assert manifest["layers"][0]["digest"].split(":")[1] not in cached
    assert not [name for name in cached if name.startswith(".blob.")]


def test_a_layout_addressed_in_sha512_is_read_and_verified_under_sha512(tmp_path):
    layout = Layout(tmp_path / "layout512", algorithm="sha512")
    digest = layout.add("v1", RUNTIME, [layer({"app/run": b"#!/bin/sh\n"})])
    cache_root = tmp_path / "cache"
    image = read_image(f"oci:{layout.root}:v1", BlobCache(cache_root))
    assert digest.startswith("sha512:") and image.digest == digest
    assert image.layers[0].digest.startswith("sha512:") and image.runtime["User"] == "10001"
    assert {p.relative_to(cache_root).parts[0] for p in _cache_files(cache_root)} == {"sha512"}
    victim = layout.root / "blobs/sha512" / image.layers[0].digest.split(":")[1]
    victim.write_bytes(victim.read_bytes() + b"x")
    with pytest.raises(ImageError, match=r"blob sha512:\w+ has digest sha512:\w+; .*refusing it"):
        read_image(f"oci:{layout.root}:v1", BlobCache(tmp_path / "fresh-cache"))


def test_verified_blobs_are_read_from_the_cache_the_second_time(layout: Layout, tmp_path):
    layout.add("v1", RUNTIME, [layer({"a": b"1"})])
    cache = BlobCache(tmp_path / "cache")
    first = read_image(f"oci:{layout.root}:v1", cache)
    for blob in (layout.root / "blobs/sha256").iterdir():
        if blob.name != first.digest.split(":")[1]:
            blob.unlink()  # only the manifest stays: config and layers must come from the cache
    second = read_image(f"oci:{layout.root}:v1", cache)
    assert second.config == first.config and second.layers[0].data == first.layers[0].data


def test_a_layer_over_the_bound_is_refused_before_it_is_read(layout: Layout, tmp_path):
    layout.add("big", RUNTIME, [layer({"blob": bytes(range(256)) * 4096})])
    with pytest.raises(ImageError, match=r"over the bound of 1000; raise --max-layer-bytes"):
        read_image(f"oci:{layout.root}:big", BlobCache(tmp_path / "cache"), max_layer_bytes=1000)


def test_oci_and_docker_archives_written_by_skopeo_read_like_the_layout(layout: Layout, tmp_path):
    layout.add("v1", RUNTIME, [layer({"etc/app.conf": b"port=8080\n"})])
    oci_archive, docker_archive = tmp_path / "image.oci.tar", tmp_path / "image.docker.tar"
    for destination in (f"oci-archive:{oci_archive}:v1", f"docker-archive:{docker_archive}:example/app:v1"):
        subprocess.run(["skopeo", "copy", "--quiet", "--insecure-policy", f"oci:{layout.root}:v1", destination],
                       check=True, capture_output=True, timeout=120)
    cache = BlobCache(tmp_path / "cache")
    from_oci = read_image(f"oci-archive:{oci_archive}:v1", cache)
    from_docker = read_image(f"docker-archive:{docker_archive}", cache)
    assert from_oci.runtime["User"] == from_docker.runtime["User"] == "10001"
    assert from_docker.runtime["ExposedPorts"] == {"8080/tcp": {}}
    assert len(from_docker.layers) == 1


def test_a_truncated_archive_is_one_error_naming_the_image(layout: Layout, tmp_path):
    layout.add("v1", RUNTIME, [layer({"data": bytes(range(256)) * 512})])
    archive = tmp_path / "image.tar"
    subprocess.run(["skopeo", "copy", "--quiet", "--insecure-policy", f"oci:{layout.root}:v1",
                    f"oci-archive:{archive}:v1"], check=True, capture_output=True, timeout=120)
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(ImageError, match=rf"^oci-archive:{archive}:v1: .*(truncated|missing)"):
        read_image(f"oci-archive:{archive}:v1", BlobCache(tmp_path / "cache"))


def test_a_pushed_image_is_read_through_the_registry_api_at_the_digest_skopeo_reports(registry, layout, tmp_path):
    layout.add("v1", RUNTIME, [layer({"app/run": b"run"})])
    layout.add_index("multi", {"amd64": {"User": "2"}, "arm64": {"User": "1"}})
    push(f"oci:{layout.root}:v1", f"{registry}/team/app:v1")
    push(f"oci:{layout.root}:multi", f"{registry}/team/multi:1")
    inspected = json.loads(subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", f"docker://{registry}/team/app:v1"],
        check=True, capture_output=True, text=True, timeout=60).stdout)
    cache = BlobCache(tmp_path / "cache")
    image = read_image(f"docker://{registry}/team/app:v1", cache)
    assert image.digest == inspected["Digest"]
    assert image.runtime["User"] == "10001"
    assert read_image(f"{registry}/team/app@{image.digest}", cache).config == image.config
    assert read_image(f"{registry}/team/multi:1", cache, platform="linux/arm64").runtime["User"] == "1"


def test_registry_failures_are_one_line_naming_the_image(registry, tmp_path):
    cache_root = tmp_path / "cache"
    with pytest.raises(ImageError, match=rf"^{registry}/team/absent:v9: not found in {registry}/team/absent"):
        read_image(f"{registry}/team/absent:v9", BlobCache(cache_root))
    nobody = f"127.0.0.1:{_free_port()}"
    with pytest.raises(ImageError, match=rf"^docker://{nobody}/x:1: registry {nobody} is unreachable"):
        read_image(f"docker://{nobody}/x:1", BlobCache(cache_root))
    assert _cache_files(cache_root) == []


def _auth_file(folder: Path, registry: str, user: str, password: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    (folder / "config.json").write_text(json.dumps({"auths": {registry: {"auth": token}}}))
    return folder / "config.json"


def test_a_private_registry_is_read_with_the_docker_config_and_refused_with_wrong_credentials(
        private_registry, layout, tmp_path, monkeypatch):
    address, user, password = private_registry
    layout.add("v1", RUNTIME, [layer({"a": b"1"})])
    subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--insecure-policy",
                    "--dest-creds", f"{user}:{password}", f"oci:{layout.root}:v1",
                    f"docker://{address}/team/private:v1"], check=True, capture_output=True, timeout=120)
    cache_root = tmp_path / "cache"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no credentials of the machine's user leak in
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    with pytest.raises(ImageError, match=rf"^{address}/team/private:v1: registry {address} refused access"):
        read_image(f"{address}/team/private:v1", BlobCache(cache_root))
    monkeypatch.setenv("DOCKER_CONFIG", str(_auth_file(tmp_path / "wrong", address, user, "not-it").parent))
    with pytest.raises(ImageError, match=r"refused access.*docker login"):
        read_image(f"{address}/team/private:v1", BlobCache(cache_root))
    assert _cache_files(cache_root) == []
    monkeypatch.setenv("DOCKER_CONFIG", str(_auth_file(tmp_path / "right", address, user, password).parent))
    assert read_image(f"{address}/team/private:v1", BlobCache(cache_root)).runtime["User"] == "10001"


def _helper(folder: Path, name: str, script: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    helper = folder / f"docker-credential-{name}"
    helper.write_text("#!/bin/sh\n" + script)
    helper.chmod(0o755)


@pytest.mark.parametrize(("script", "error"), [
    (None, None),  # the helper answers the right credentials
    ("wrong", r"refused access \(HTTP 401\)"),  # the helper answers another password
    ("echo 'credentials not found in native keychain' >&2\nexit 1\n", r"refused access: .*credential helper"),
    ("echo 'this is not json'\n", r"credential helper docker-credential-cdbtest answered no JSON"),
])
def test_a_docker_credential_helper_named_in_the_docker_config_is_used_and_its_failures_are_one_line(
        script, error, private_registry, layout, tmp_path, monkeypatch):
    address, user, password = private_registry
    layout.add("v1", RUNTIME, [layer({"a": b"helper"})])
    subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--insecure-policy",
                    "--dest-creds", f"{user}:{password}", f"oci:{layout.root}:v1",
                    f"docker://{address}/team/helped:v1"], check=True, capture_output=True, timeout=120)
    answer = json.dumps({"Username": user, "Secret": password if script is None else "not-" + password})
    if script in (None, "wrong"):
        script = f'read host\n[ "$host" = "{address}" ] || exit 1\necho \'{answer}\'\n'
    _helper(tmp_path / "bin", "cdbtest", script)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{__import__('os').environ['PATH']}")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "config.json").write_text(json.dumps({"credHelpers": {address: "cdbtest"}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    cache_root = tmp_path / "cache"
    if error is None:
        assert read_image(f"{address}/team/helped:v1", BlobCache(cache_root)).runtime["User"] == "10001"
        return
    with pytest.raises(ImageError, match=rf"^{address}/team/helped:v1: .*{error}"):
        read_image(f"{address}/team/helped:v1", BlobCache(cache_root))
    assert _cache_files(cache_root) == []


def test_a_docker_config_that_is_not_json_is_one_line(registry, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "config.json").write_text('{"auths": {')
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    with pytest.raises(ImageError, match=rf"^{registry}/team/any:1: a registry credential file is not valid JSON"):
        read_image(f"{registry}/team/any:1", BlobCache(tmp_path / "cache"))


@pytest.fixture
def own_registry(tmp_path):
    """A registry whose storage the test can reach into (to break blobs as a faulty disk or proxy would)."""
    from tests.images.conftest import _start

    folder = tmp_path / "own-registry"
    folder.mkdir()
    generator = _start(folder)
    address = next(generator)
    yield address, folder / "data" / "docker" / "registry" / "v2" / "blobs" / "sha256"
    generator.close()


def _stored(blobs: Path, digest: str) -> Path:
    hexpart = digest.split(":")[1]
    return blobs / hexpart[:2] / hexpart / "data"


def _pushed_manifest(layout: Layout, address: str, name: str) -> dict:
    push(f"oci:{layout.root}:v1", f"{address}/{name}:v1")
    digest = layout.index[-1]["digest"]
    return json.loads((layout.root / "blobs/sha256" / digest.split(":")[1]).read_bytes()) | {"digest": digest}


def test_a_registry_serving_an_altered_layer_or_manifest_is_refused_and_nothing_unverified_is_cached(
        own_registry, layout, tmp_path):
    address, blobs = own_registry
    layout.add("v1", RUNTIME, [layer({"app/run": bytes(range(256)) * 64})])
    manifest = _pushed_manifest(layout, address, "team/altered")
    stored = _stored(blobs, manifest["layers"][0]["digest"])
    data = bytearray(stored.read_bytes())
    data[-40] ^= 0xFF  # same length, one byte flipped
    stored.write_bytes(bytes(data))
    cache_root = tmp_path / "cache"
    with pytest.raises(ImageError, match=rf"^{address}/team/altered:v1: blob {manifest['layers'][0]['digest']} has "
                                         r"digest sha256:\w+; the content was altered"):
        read_image(f"{address}/team/altered:v1", BlobCache(cache_root))
    assert manifest["layers"][0]["digest"].split(":")[1] not in {p.name for p in _cache_files(cache_root)}
    top = _stored(blobs, manifest["digest"])
    top.write_bytes(top.read_bytes().replace(b'"schemaVersion": 2', b'"schemaVersion":  2'))
    with pytest.raises(ImageError, match=rf"^{address}/team/altered:v1: the registry stated manifest digest "
                                         rf"{manifest['digest']} but sent content with digest"):
        read_image(f"{address}/team/altered:v1", BlobCache(tmp_path / "cache2"))
    assert _cache_files(tmp_path / "cache2") == []


def test_a_registry_blob_larger_than_its_descriptor_says_is_cut_off_at_the_bound(own_registry, layout, tmp_path):
    address, blobs = own_registry
    layout.add("v1", RUNTIME, [layer({"app/run": b"small"})])
    manifest = _pushed_manifest(layout, address, "team/grown")
    stored = _stored(blobs, manifest["layers"][0]["digest"])
    stored.write_bytes(stored.read_bytes() + bytes(3 << 20))  # the descriptor still says a few hundred bytes
    with pytest.raises(ImageError, match=rf"^{address}/team/grown:v1: blob sha256:\w+ is over the bound of "
                                         r"1048576 bytes; raise --max-layer-bytes"):
        read_image(f"{address}/team/grown:v1", BlobCache(tmp_path / "cache"), max_layer_bytes=1 << 20)
    cached = {p.name for p in _cache_files(tmp_path / "cache")}
    assert manifest["layers"][0]["digest"].split(":")[1] not in cached  # only the verified manifest and config
    assert manifest["digest"].split(":")[1] in cached


def test_a_truncated_docker_archive_is_one_error_naming_the_image(layout: Layout, tmp_path):
    layout.add("v1", RUNTIME, [layer({"data": bytes(range(256)) * 512})])
    archive = tmp_path / "image.docker.tar"
    subprocess.run(["skopeo", "copy", "--quiet", "--insecure-policy", f"oci:{layout.root}:v1",
                    f"docker-archive:{archive}:example/app:v1"], check=True, capture_output=True, timeout=120)
    whole = archive.read_bytes()
    for cut in (len(whole) // 2, len(whole) - 1024 - 1):
        archive.write_bytes(whole[:cut])
        with pytest.raises(ImageError, match=rf"^docker-archive:{archive}: .*(truncated|missing)"):
            read_image(f"docker-archive:{archive}", BlobCache(tmp_path / "cache"))
    assert _cache_files(tmp_path / "cache") == []
