"""Test images built offline: OCI image layouts written from Python (gzip layers, config, manifest,
optionally a multi-platform index), as `umoci` or `buildah` would lay them out."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path


def _digest(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def layer(files: dict[str, bytes]) -> bytes:
    """A gzip layer tar; a name `dir/.wh.file` is an OCI whiteout deleting `dir/file`."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


class Layout:
    """An OCI layout folder; `add` writes one image (or one platform of an index) and returns its digest."""

    def __init__(self, root: Path, algorithm: str = "sha256"):
        self.root, self.algorithm = root, algorithm
        (root / "blobs" / algorithm).mkdir(parents=True, exist_ok=True)
        (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
        self.index: list[dict] = []
        self._write_index()

    def blob(self, data: bytes) -> str:
        digest = _digest(data, self.algorithm)
        (self.root / "blobs" / self.algorithm / digest.split(":")[1]).write_bytes(data)
        return digest

    def manifest(self, runtime: dict | None = None, layers: list[bytes] = (), arch: str = "amd64") -> dict:
        diff_ids = [_digest(gzip.decompress(data), self.algorithm) for data in layers]
        config = json.dumps({"architecture": arch, "os": "linux", "config": runtime or {},
                             "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               "digest": self.blob(config), "size": len(config)},
                    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                "digest": self.blob(data), "size": len(data)} for data in layers]}
        data = json.dumps(manifest).encode()
        return {"mediaType": manifest["mediaType"], "digest": self.blob(data), "size": len(data),
                "platform": {"os": "linux", "architecture": arch}}

    def add(self, tag: str, runtime: dict | None = None, layers: list[bytes] = ()) -> str:
        descriptor = self.manifest(runtime, layers)
        descriptor.pop("platform")
        return self._tag(tag, descriptor)

    def add_index(self, tag: str, platforms: dict[str, dict]) -> str:
        """platforms: arch -> runtime config; each platform gets its own config."""
        entries = [self.manifest(runtime, [layer({"etc/arch": arch.encode()})], arch)
                   for arch, runtime in platforms.items()]
        index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}
        data = json.dumps(index).encode()
        return self._tag(tag, {"mediaType": index["mediaType"], "digest": self.blob(data), "size": len(data)})

    def _tag(self, tag: str, descriptor: dict) -> str:
        descriptor["annotations"] = {"org.opencontainers.image.ref.name": tag}
        self.index = [d for d in self.index if d["annotations"]["org.opencontainers.image.ref.name"] != tag]
        self.index.append(descriptor)
        self._write_index()
        return descriptor["digest"]

    def _write_index(self) -> None:
        (self.root / "index.json").write_text(json.dumps(
            {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": self.index}))
