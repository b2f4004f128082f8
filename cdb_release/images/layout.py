"""Local inputs: an OCI image layout folder (`oci:`), the same as a tar (`oci-archive:`), and
`docker save` / skopeo's `docker-archive:` tar. Each yields the manifest the reference names and
blobs by digest; the reader verifies every blob against its digest."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path, PurePosixPath

from cdb_stack.images.model import ImageError, ImageRef, check_digest, load_json, sha256_digest

REF_NAME = "org.opencontainers.image.ref.name"


class _Files:
    """A folder or a tar, read by relative path, with a size bound on each read."""

    def __init__(self, ref: ImageRef, name: str):
        self.name = name
        self.path = Path(ref.target)
        self._tar: tarfile.TarFile | None = None
        self._members: dict[str, tarfile.TarInfo] = {}
        if ref.transport == "oci":
            if not self.path.is_dir():
                raise ImageError(f"{name}: {self.path} is not a folder; oci: names an OCI image layout folder")
            return
        if not self.path.is_file():
            raise ImageError(f"{name}: {self.path} does not exist or is not a file")
        try:
            self._tar = tarfile.open(self.path)  # noqa: SIM115 - closed by close()
            for member in self._tar.getmembers():
                if member.isfile():
                    self._members[str(PurePosixPath(member.name))] = member
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise ImageError(f"{name}: {self.path} is not a readable tar archive ({exc}); "
                             "it may be truncated: export it again") from None

    def read(self, rel: str, bound: int) -> bytes:
        rel = str(PurePosixPath(rel))
        if self._tar is None:
            target = self.path / rel
            if not target.is_file():
                raise ImageError(f"{self.name}: {rel} is missing from the layout")
            if target.stat().st_size > bound:
                raise ImageError(f"{self.name}: {rel} is {target.stat().st_size} bytes, over the bound of "
                                 f"{bound}; raise --max-layer-bytes to read it")
            return target.read_bytes()
        member = self._members.get(rel)
        if member is None:
            raise ImageError(f"{self.name}: {rel} is missing from the archive; it may be truncated")
        if member.size > bound:
            raise ImageError(f"{self.name}: {rel} is {member.size} bytes, over the bound of {bound}; "
                             "raise --max-layer-bytes to read it")
        try:
            handle = self._tar.extractfile(member)
            data = handle.read() if handle else b""
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise ImageError(f"{self.name}: {rel} cannot be read ({exc}); the archive may be truncated") from None
        if len(data) != member.size:
            raise ImageError(f"{self.name}: {rel} is truncated ({len(data)} of {member.size} bytes)")
        return data

    def close(self) -> None:
        if self._tar is not None:
            self._tar.close()


class OciLayout:
    """`oci:DIR[:TAG]` and `oci-archive:FILE[:TAG]`."""

    def __init__(self, ref: ImageRef, name: str, bound: int):
        self.name, self.ref, self.bound = name, ref, bound
        self.files = _Files(ref, name)

    def top(self) -> dict:
        """The descriptor the tag names in index.json (the only one when no tag is given)."""
        index = load_json(self.files.read("index.json", 4 * 1024 * 1024), f"{self.name}: index.json")
        entries = [d for d in index.get("manifests") or [] if isinstance(d, dict)]
        tags = [d.get("annotations", {}).get(REF_NAME) for d in entries]
        if self.ref.tag:
            chosen = [d for d, t in zip(entries, tags) if t == self.ref.tag]
            if not chosen:
                raise ImageError(f"{self.name}: no image tagged {self.ref.tag!r} in the layout "
                                 f"(tags: {', '.join(str(t) for t in tags if t) or 'none'})")
            return chosen[0]
        if len(entries) != 1:
            raise ImageError(f"{self.name}: the layout holds {len(entries)} images; name one with :TAG "
                             f"(tags: {', '.join(str(t) for t in tags if t) or 'none'})")
        return entries[0]

    def blob(self, digest: str, bound: int, manifest: bool = False) -> bytes:
        algorithm, _, hexpart = check_digest(digest, self.name).partition(":")
        return self.files.read(f"blobs/{algorithm}/{hexpart}", bound)

    def close(self) -> None:
        self.files.close()


class DockerArchive:
    """`docker-archive:FILE[:REF]`: manifest.json lists config and layer tars by path; the config's
    rootfs.diff_ids are the layers' digests, so every file is still checked against a digest."""

    def __init__(self, ref: ImageRef, name: str, bound: int):
        self.name, self.ref, self.bound = name, ref, bound
        self.files = _Files(ref, name)
        self._paths: dict[str, str] = {}

    def _entry(self) -> dict:
        try:
            entries = json.loads(self.files.read("manifest.json", 4 * 1024 * 1024))
        except ValueError as exc:
            raise ImageError(f"{self.name}: manifest.json is not valid JSON ({exc})") from None
        if not isinstance(entries, list) or not entries:
            raise ImageError(f"{self.name}: manifest.json lists no image")
        if self.ref.tag:
            chosen = [e for e in entries if self.ref.tag in (e.get("RepoTags") or [])]
            if not chosen:
                raise ImageError(f"{self.name}: no image tagged {self.ref.tag!r} in the archive")
            return chosen[0]
        if len(entries) != 1:
            raise ImageError(f"{self.name}: the archive holds {len(entries)} images; name one with :REF")
        return entries[0]

    def top(self) -> dict:
        entry = self._entry()
        config_path = str(entry.get("Config") or "")
        config = self.files.read(config_path, 4 * 1024 * 1024)
        config_digest = sha256_digest(config)
        diff_ids = (load_json(config, f"{self.name}: {config_path}").get("rootfs") or {}).get("diff_ids") or []
        layers = entry.get("Layers") or []
        if len(diff_ids) != len(layers):
            raise ImageError(f"{self.name}: manifest.json lists {len(layers)} layers, the config {len(diff_ids)}")
        self._paths[config_digest] = config_path
        descriptors = []
        for path, diff_id in zip(layers, diff_ids):
            self._paths[check_digest(diff_id, self.name)] = str(path)
            descriptors.append({"mediaType": "application/vnd.docker.image.rootfs.diff.tar",
                                "digest": diff_id, "size": self._size(str(path))})
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                               "digest": config_digest, "size": len(config)},
                    "layers": descriptors}
        data = json.dumps(manifest, separators=(",", ":"), sort_keys=True).encode()
        self._inline = {sha256_digest(data): data}
        return {"mediaType": manifest["mediaType"], "digest": sha256_digest(data), "size": len(data)}

    def _size(self, path: str) -> int:
        member = self.files._members.get(str(PurePosixPath(path)))
        return member.size if member is not None else -1

    def blob(self, digest: str, bound: int, manifest: bool = False) -> bytes:
        if digest in getattr(self, "_inline", {}):
            return self._inline[digest]
        path = self._paths.get(digest)
        if path is None:
            raise ImageError(f"{self.name}: blob {digest} is not in the archive")
        return self.files.read(path, bound)

    def close(self) -> None:
        self.files.close()
