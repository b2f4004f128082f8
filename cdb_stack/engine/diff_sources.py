"""The two sides of `cdb preview --diff BASE`: the objects this run declares, and the base's.

BASE is a rendered folder (a `cdb render` output) or a Git revision, whose committed `deploy/<stack>`
folder is exported with `git archive` (the render --check in CI keeps that folder equal to what the
base's code renders). Only Kubernetes objects are compared: they are what the folder holds.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import yaml

from components.conventions import ANNOTATION_GIT_REVISION
from cdb_stack.engine.diff import Diff, Identity, diff, identity, prepare
from cdb_stack.engine.model import Resource
from cdb_stack.errors import CdbError
from cdb_stack.render.objects import skip_reason
from cdb_stack.yaml_limits import load_all

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


def _git(project_dir: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(project_dir), *args], capture_output=True, check=False, timeout=120)
    except FileNotFoundError:
        raise CdbError("--diff: git is not installed; pass a rendered folder as BASE instead") from None
    if done.returncode != 0:
        raise CdbError(f"--diff: git {args[0]} failed: {done.stderr.decode(errors='replace').strip().splitlines()[-1:]}")
    return done.stdout


def revision_objects(project_dir: Path, revision: str, stack: str, scratch: Path) -> tuple[dict[Identity, dict[str, Any]], str]:
    """The objects of `deploy/<stack>` as committed at `revision`, exported into `scratch`."""
    check = subprocess.run(["git", "-C", str(project_dir), "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
                           capture_output=True, check=False, text=True)
    if check.returncode != 0:
        raise CdbError(f"--diff {revision}: neither a folder nor a Git revision of {project_dir}; "
                       "pass a branch, tag or commit (in CI fetch the base branch first) or a rendered folder")
    sha = check.stdout.strip()
    prefix = _git(project_dir, "rev-parse", "--show-prefix").decode().strip()
    tree = f"{prefix}deploy/{stack}"
    listing = _git(project_dir, "ls-tree", "--name-only", sha, tree)
    if not listing.strip():
        raise CdbError(f"--diff {revision}: the revision has no rendered {tree}/ folder; render it there "
                       f"(cdb render --stack {stack}) or pass a rendered folder as BASE")
    archive = _git(project_dir, "archive", "--format=tar", sha, tree)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(scratch, filter="data")
    return folder_objects(scratch / tree, f"{revision}:{tree}"), f"{revision} ({sha[:12]}) {tree}"


def diff_against(base: str, project_dir: Path, stack: str, resources: list[Resource], scratch: Path) -> Diff:
    """This run's objects against BASE: a folder if one exists at that path, else a Git revision."""
    folder = Path(base)
    if folder.is_dir():
        if not any(folder.rglob("*.y*ml")):
            raise CdbError(f"--diff {base}: the folder holds no YAML; pass a folder written by cdb render")
        old, described = folder_objects(folder, base), f"folder {base}"
    else:
        old, described = revision_objects(project_dir, base, stack, scratch)
    return diff(old, head_objects(resources), described)
