"""The two sides of `cdb preview --diff BASE`: what this run declares, and the base's.

BASE is a Git revision, whose own program is previewed (engine/base_preview.py) so every resource type
is compared by URN, or a rendered folder (a `cdb render` output), where only Kubernetes objects exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from components.conventions import ANNOTATION_GIT_REVISION
from cdb_engine.preview.base_preview import preview_revision, resolve
from cdb_engine.reports.diff import Diff, Identity, Key, ResourceKey, diff, identity, prepare
from cdb_engine.model import Resource
from cdb_core.errors import CdbError
from cdb_engine.manifests.objects import skip_reason
from cdb_core.yaml_limits import load_all

# Where the files came from, not what they declare (cdb render --check masks it the same way).
IGNORED = frozenset({ANNOTATION_GIT_REVISION})
KUSTOMIZATION = "kustomization.yaml"


def head_objects(resources: list[Resource]) -> dict[Identity, dict[str, Any]]:
    """The Kubernetes objects a preview run declares, as `cdb render` would write them."""
    objects: dict[Identity, dict[str, Any]] = {}
    for resource in resources:
        if not resource.custom or resource.type.startswith("pulumi:providers:") or skip_reason(resource):
            continue
        key = identity(resource.properties or {})
        if key is not None:
            objects[key] = prepare(resource.properties, IGNORED)
    return objects


def folder_objects(folder: Path, where: str) -> dict[Identity, dict[str, Any]]:
    """Every named object of the YAML files under `folder` (kustomization.yaml is not an object)."""
    objects: dict[Identity, dict[str, Any]] = {}
    for path in sorted(folder.rglob("*.y*ml")):
        if path.name == KUSTOMIZATION or not path.is_file():
            continue
        rel = path.relative_to(folder).as_posix()
        try:
            documents = load_all(path.read_text(encoding="utf-8"), f"{where}/{rel}")
        except (yaml.YAMLError, UnicodeDecodeError, ValueError) as exc:
            raise CdbError(f"{where}/{rel}: not readable YAML ({str(exc).splitlines()[0]}); pass a folder written by cdb render") from None
        for doc in documents:
            key = identity(doc) if isinstance(doc, dict) else None
            if key is not None:
                objects[key] = prepare(doc, IGNORED)
    return objects


def head_resources(resources: list[Resource]) -> dict[Key, dict[str, Any]]:
    """Every custom resource a preview run registers (providers included), by URN, as the engine keys state."""
    found: dict[Key, dict[str, Any]] = {}
    for resource in resources:
        if resource.custom:
            found[_key(resource.urn, resource.type, resource.name, resource.properties)] = prepare(
                resource.properties or {}, IGNORED)
    return found


def base_resources(recorded: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    """The same of a base revision's preview (plain dicts from its process)."""
    return {_key(r["urn"], r["type"], r["name"], r.get("properties") or {}): prepare(r.get("properties") or {}, IGNORED)
            for r in recorded if r.get("custom")}


def _key(urn: str, type_: str, name: str, properties: dict[str, Any]) -> ResourceKey:
    kube = type_.startswith("kubernetes:") and not type_.startswith("pulumi:providers:")
    return ResourceKey(urn, type_, name, identity(properties) if kube else None)


def diff_against(base: str, project_dir: Path, stack: str, resources: list[Resource], scratch: Path) -> Diff:
    """This run against BASE: a folder if one exists at that path (its Kubernetes objects), else a Git
    revision, whose own program is previewed (every resource, by URN)."""
    folder = Path(base)
    if folder.is_dir():
        if not any(folder.rglob("*.y*ml")):
            raise CdbError(f"--diff {base}: the folder holds no YAML; pass a folder written by cdb render")
        old = folder_objects(folder, base)
        found = diff(old, head_objects(resources), f"folder {base}")
        found.base_objects = [(_token(body), body) for body in old.values()]
        return found
    sha = resolve(project_dir, base)
    if sha is None:
        raise CdbError(f"--diff {base}: neither a folder nor a Git revision of {project_dir}; "
                       "pass a branch, tag or commit (in CI fetch the base branch first) or a rendered folder")
    recorded, described = preview_revision(project_dir, base, sha, stack, scratch)
    old = base_resources(recorded)
    found = diff(old, head_resources(resources), described)
    found.base_objects = [(key.type, body) for key, body in old.items()
                          if isinstance(key, ResourceKey) and key.object is not None]
    return found


def _token(body: dict[str, Any]) -> str:
    """The Pulumi type token of a manifest (`apps/v1` Deployment -> kubernetes:apps/v1:Deployment)."""
    api_version = str(body.get("apiVersion", ""))
    return f"kubernetes:{api_version if '/' in api_version else 'core/' + api_version}:{body.get('kind')}"
