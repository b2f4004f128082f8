"""Pinned upstream manifests vendored in the repository, read and checked before anything is built.

`components/vendor/upstream.lock.json` names, per project, the upstream repository, the pinned version, the
tag and the commit it resolved to, and for each vendored file where it came from (a path in the
repository, or a kustomize folder rendered with `kubectl kustomize`) and its sha256.
`scripts/vendor-upstream.py` refreshes a project from its pin and rewrites the lock; this module only
reads. A file whose bytes differ from the lock is refused (a hand edit of upstream YAML is never
applied): patches belong in the components, applied to the parsed documents.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from components.errors import ComponentArgsError

# Inside the package, so an installed cdb-infra (not only a checkout) carries its pinned upstream files.
VENDOR_DIR = Path(__file__).resolve().parent / "vendor"
LOCK_FILE = "upstream.lock.json"
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # PyYAML built without libyaml has only the latter


@dataclass(frozen=True)
class VendoredFile:
    project: str
    version: str
    name: str
    path: Path
    sha256: str
    source: str

    def documents(self) -> list[dict[str, Any]]:
        """The file's Kubernetes objects (empty documents dropped), after its checksum is verified."""
        docs = self.data()
        bad = [i for i, d in enumerate(docs) if not isinstance(d, dict) or "kind" not in d]
        if bad:
            raise ComponentArgsError(f"vendor: {self.project}/{self.version}/{self.name}: document {bad[0]} is not a Kubernetes object")
        return docs

    def data(self) -> list[Any]:
        """The file's YAML documents as data (e.g. a chart's values), after its checksum is verified."""
        return copy.deepcopy(list(_documents(self.path, self.sha256)))


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def lock(vendor_dir: Path = VENDOR_DIR) -> dict[str, Any]:
    path = vendor_dir / LOCK_FILE
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data
    except (OSError, ValueError) as exc:
        raise ComponentArgsError(f"vendor: cannot read {path.name}: {exc}; run scripts/vendor-upstream.py") from None


def project(name: str, vendor_dir: Path = VENDOR_DIR) -> dict[str, Any]:
    entry = lock(vendor_dir).get(name)
    if not isinstance(entry, dict):
        raise ComponentArgsError(f"vendor: project {name!r} is not in {LOCK_FILE}; run scripts/vendor-upstream.py refresh {name}")
    return entry


def vendored(name: str, file: str, vendor_dir: Path = VENDOR_DIR) -> VendoredFile:
    """One vendored file of a project at its pinned version."""
    entry = project(name, vendor_dir)
    for spec in entry["files"]:
        if spec["name"] == file:
            source = spec.get("path") or f"kubectl kustomize {spec['kustomize']}"
            return VendoredFile(name, entry["version"], file, vendor_dir / name / entry["version"] / file, spec["sha256"],
                                f"{entry['repository']}@{entry['commit']} ({entry['ref']}): {source}")
    raise ComponentArgsError(f"vendor: {name} {entry['version']} has no file {file!r}; list it in {LOCK_FILE} and refresh")


def files(name: str, vendor_dir: Path = VENDOR_DIR) -> list[VendoredFile]:
    return [vendored(name, spec["name"], vendor_dir) for spec in project(name, vendor_dir)["files"]]


@lru_cache(maxsize=64)
def _documents(path: Path, sha256: str) -> tuple[Any, ...]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ComponentArgsError(f"vendor: {path.name}: {exc.strerror}; run scripts/vendor-upstream.py refresh") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ComponentArgsError(f"vendor: {path.parent.parent.name}/{path.parent.name}/{path.name} differs from its "
                                 f"pinned sha256; restore it with scripts/vendor-upstream.py refresh (patch in code, not in components/vendor/)")
    # libyaml's parser with the safe constructor: the same data as yaml.safe_load_all, read 7x faster
    # (the vendored CRDs and installers are parsed on every preview).
    return tuple(d for d in yaml.load_all(data.decode("utf-8"), Loader=_SAFE_LOADER) if d)
