"""Benchmark of `cdb images`' reader against a real loopback registry (issue 14, point 6).

    .venv/bin/python benchmarks/images_bench.py [--images 50] [--layer-kib 512]

Builds N images offline (OCI layout written here), pushes them with skopeo into Debian's docker-registry
on loopback, then measures in one run:
  skopeo inspect      baseline: one `skopeo inspect` process per image (manifest + config)
  cold, config        read_image(layers=False) with an empty blob cache (manifest + config)
  warm, config        the same again: config from the cache, the tag still resolved at the registry
  cold, layers        read_image with layers, empty cache
  warm, layers        the same again: config and layers from the cache
Ratios are against the skopeo baseline of the same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cdb_release.images.cache import BlobCache  # noqa: E402
from cdb_release.images.reader import read_image  # noqa: E402
from tests.images.oci import Layout, layer  # noqa: E402


def _registry(folder: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (folder / "config.yml").write_text(
        f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {folder / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n")
    process = subprocess.Popen([shutil.which("docker-registry") or "docker-registry", "serve",
                                str(folder / "config.yml")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"127.0.0.1:{port}"
        time.sleep(0.05)
    process.terminate()
    raise SystemExit("docker-registry did not start")


def _timed(label: str, action, rows: list) -> None:
    start = time.perf_counter()
    action()
    rows.append((label, time.perf_counter() - start))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--layer-kib", type=int, default=512)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        process, address = _registry(folder)
        try:
            layout = Layout(folder / "build")
            refs = []
            for n in range(args.images):
                payload = os.urandom(args.layer_kib * 1024)  # incompressible, like real binaries
                layout.add(f"i{n}", {"User": "10001", "Env": [f"N={n}"]}, [layer({f"app/blob{n}": payload})])
                subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--insecure-policy",
                                f"oci:{layout.root}:i{n}", f"docker://{address}/bench/app{n}:1"], check=True)
                refs.append(f"{address}/bench/app{n}:1")
            rows: list[tuple[str, float]] = []
            _timed("skopeo inspect", lambda: [subprocess.run(
                ["skopeo", "inspect", "--tls-verify=false", f"docker://{ref}"], check=True,
                capture_output=True) for ref in refs], rows)
            for label, with_layers in (("config", False), ("layers", True)):
                cache = BlobCache(folder / f"cache-{label}")
                for state in ("cold", "warm"):
                    _timed(f"{state}, {label}", lambda: [read_image(ref, cache, layers=with_layers)
                                                         for ref in refs], rows)
        finally:
            process.terminate()
            process.wait(timeout=10)
    base = rows[0][1]
    print(f"{args.images} images, one {args.layer_kib} KiB layer each, loopback registry")
    for label, seconds in rows:
        print(f"  {label:<16} {seconds:7.2f} s  {seconds / args.images * 1000:7.1f} ms/image  "
              f"{seconds / base:5.2f}x skopeo inspect")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
