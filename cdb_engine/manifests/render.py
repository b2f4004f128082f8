"""`cdb render`: the stack's Kubernetes objects as the YAML folder Flux syncs (CDB_INFRA_POLICY 2.1, 2.2).

The program runs offline exactly as for `cdb preview`; the recorded manifests are written one object
per file with a kustomization.yaml. Which revision the objects are stamped with is decided here:
`--revision`, else the stack's `cdb-infra:gitRevision`, else the placeholder `unknown`. Never the
work tree's HEAD or the CI commit: a commit cannot contain its own sha, and output that changed with
every commit could not be checked for drift.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from components.conventions import UNKNOWN_REVISION
from cdb_core.project import NAMESPACE, Project
from cdb_core.errors import CdbError
from cdb_engine.manifests.layout import KUSTOMIZATION, render_files
from cdb_engine.manifests.objects import Manifest, Rendered, RenderError, Skipped, collect
from cdb_engine.manifests.output import Difference, check_target, compare, drift_cause, mask_revision, write_tree

REVISION_KEY = f"{NAMESPACE}:gitRevision"
_SHA = re.compile(r"^[0-9a-f]{7,64}$")


def render_revision(configured: str | None, given: str | None) -> str:
    """The revision stamped on rendered objects: explicit, configured, or the fixed placeholder."""
    revision = given or configured or UNKNOWN_REVISION
    if revision != UNKNOWN_REVISION and not _SHA.match(revision):
        raise CdbError(f"revision {revision!r} is not a lower-case hex commit sha (git rev-parse HEAD) or 'unknown'")
    return revision


def render_stack(project_dir: str | Path, stack: str, revision: str | None = None) -> Rendered:
    """Run the stack's program offline and collect its Kubernetes objects."""
    from cdb_core.project import load_project

    return render_project(load_project(project_dir, stack), revision)


def render_project(project: Project, revision: str | None = None) -> Rendered:
    """Render a loaded project (its config as loaded, plus the revision to stamp)."""
    from cdb_engine.preview.program import run_program

    stamped = render_revision(project.config.get(REVISION_KEY), revision)
    project = dataclasses.replace(project, config={**project.config, REVISION_KEY: stamped})
    run = run_program(project)
    if run.errors:
        raise RenderError(f"the program logged an error, nothing was written: {run.errors[0]}")
    rendered = collect(run.resources, project.name, project.stack)
    rendered.warnings = list(run.warnings)
    return rendered


__all__ = [
    "KUSTOMIZATION", "Difference", "Manifest", "RenderError", "Rendered", "Skipped", "check_target", "compare", "drift_cause", "mask_revision",
    "render_files", "render_project", "render_revision", "render_stack", "write_tree",
]
