"""An installed cdb-infra carries the data files its code reads, not only a checkout: the pinned upstream
manifests the components build from, the engine's field table, the pack's and the provider's files."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def test_the_built_wheel_holds_every_data_file_the_packages_read(tmp_path):
    tracked = subprocess.run(["git", "-C", str(PROJECT), "ls-files", "-z"], capture_output=True, text=True,
                             check=True).stdout.split("\0")
    source = tmp_path / "source"
    for name in filter(None, tracked):
        if (PROJECT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT / name, source / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check",
                            "-w", str(tmp_path / "wheel"), str(source)], capture_output=True, text=True, timeout=600,
                           check=False)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel, = (tmp_path / "wheel").glob("cdb_infra-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    vendored = {str(p.relative_to(PROJECT)) for p in (PROJECT / "components" / "vendor").rglob("*") if p.is_file()}
    assert vendored and vendored <= names, sorted(vendored - names)[:5]
    assert {"cdb_engine/preview/server_fields.json", "policy_pack/PulumiPolicy.yaml", "policy_pack/requirements.txt",
            "provider/schema.json", "provider/PulumiPlugin.yaml"} <= names
