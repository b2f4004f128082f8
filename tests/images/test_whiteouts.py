"""A secret left in a lower layer is found however a later layer deletes it: a whiteout of the file, of a
folder above it (as `umoci repack` writes after `rm -r`), or an opaque whiteout of its folder."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from cdb_cli import main
from tests.images.conftest import push
from tests.images.oci import Layout, layer
from tests.images.test_cdb_images import _aws_key

KEY_FILE = f"[default]\naws_access_key_id = {_aws_key()}\n".encode()


def _umoci(*argv: str, cwd: Path) -> None:
    subprocess.run(["umoci", *argv], cwd=cwd, check=True, capture_output=True, timeout=120)


def _built_with_umoci(folder: Path) -> Path:
    """Layer 0 adds /opt/app/secrets/credentials and /opt/app/secrets-kept/credentials, layer 1 removes
    the folder /opt/app/secrets (`rm -r`), so umoci writes the whiteout `opt/app/.wh.secrets`."""
    if shutil.which("umoci") is None:
        pytest.fail("umoci is not installed: run scripts/ensure-test-servers.sh")
    _umoci("init", "--layout", "oci", cwd=folder)
    _umoci("new", "--image", "oci:app", cwd=folder)
    _umoci("unpack", "--rootless", "--image", "oci:app", "bundle", cwd=folder)
    for name in ("secrets", "secrets-kept"):
        (folder / "bundle/rootfs/opt/app" / name).mkdir(parents=True)
        (folder / "bundle/rootfs/opt/app" / name / "credentials").write_bytes(KEY_FILE)
    _umoci("repack", "--refresh-bundle", "--image", "oci:app", "bundle", cwd=folder)
    shutil.rmtree(folder / "bundle/rootfs/opt/app/secrets")
    _umoci("repack", "--refresh-bundle", "--image", "oci:app", "bundle", cwd=folder)
    _umoci("config", "--image", "oci:app", "--config.user", "10001", cwd=folder)
    return folder / "oci"


def _images(capsys, tmp_path: Path, *refs: str) -> tuple[int, str]:
    code = main(["images", *refs, "--cache-dir", str(tmp_path / "cache")])
    return code, capsys.readouterr().out


def test_a_folder_removed_with_rm_r_in_a_umoci_layer_still_leaks_the_secret_of_the_layer_below(
        registry, capsys, tmp_path):
    layout = _built_with_umoci(tmp_path)
    push(f"oci:{layout}:app", f"{registry}/cdb/folder-whiteout:1")
    code, out = _images(capsys, tmp_path, f"{registry}/cdb/folder-whiteout:1")
    assert code == 1
    assert ("image-credential-in-lower-layer: AWSKeyDetector in /opt/app/secrets/credentials added in layer 0 and "
            "deleted in layer 1 by a whiteout of /opt/app/secrets: still readable from layer 0") in out
    # the sibling folder whose name only starts the same was never deleted: an ordinary finding
    assert "image-credential: AWSKeyDetector in /opt/app/secrets-kept/credentials (layer 0)" in out
    assert _aws_key() not in out


def test_an_opaque_whiteout_hides_the_lower_layers_files_of_its_folder_but_not_its_own(capsys, tmp_path):
    layout = Layout(tmp_path / "layout")
    layout.add("v1", {"User": "10001"}, [
        layer({"etc/app/aws/credentials": KEY_FILE, "etc/other/credentials": KEY_FILE}),
        layer({"etc/app/.wh..wh..opq": b"", "etc/app/settings": b"mode=prod\n", "etc/app/fresh/credentials": KEY_FILE}),
    ])
    code, out = _images(capsys, tmp_path, f"oci:{layout.root}:v1")
    assert code == 1
    assert ("image-credential-in-lower-layer: AWSKeyDetector in /etc/app/aws/credentials added in layer 0 and "
            "deleted in layer 1 by an opaque whiteout of /etc/app: still readable from layer 0") in out
    assert "image-credential: AWSKeyDetector in /etc/other/credentials (layer 0)" in out
    assert "image-credential: AWSKeyDetector in /etc/app/fresh/credentials (layer 1)" in out


def test_an_opaque_whiteout_of_the_root_hides_everything_below(capsys, tmp_path):
    layout = Layout(tmp_path / "layout")
    layout.add("v1", {"User": "10001"}, [layer({"root/.aws/credentials": KEY_FILE}),
                                         layer({".wh..wh..opq": b"", "app/run": b"run"})])
    code, out = _images(capsys, tmp_path, f"oci:{layout.root}:v1")
    assert code == 1 and ("/root/.aws/credentials added in layer 0 and deleted in layer 1 by an opaque whiteout "
                          "of /: still readable") in out
