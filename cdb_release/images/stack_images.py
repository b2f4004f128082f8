"""The images a stack's program declares, as its settings name them (before pinning), and the check
that images.lock is current for them: `cdb images --stack S --lock` records, `--check` verifies."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cdb_stack.images.lock import REFRESH, Entry, cdb_version, key_of
from cdb_stack.images.model import Image
from cdb_release.images.criteria import checks_applied
from cdb_release.images.workloads import Workload, from_documents


def declared(project_dir: Path, stack: str) -> list[Workload]:
    """Every workload container of the stack, rendered offline with pinning off (`cdb-images:lock: tags`),
    so a new image, or one the lock does not know yet, is listed instead of refused."""
    from cdb_core.project import load_project
    from cdb_stack.images.pins import MODE_KEY
    from cdb_engine.manifests.render import render_project

    project = load_project(project_dir, stack)
    project = dataclasses.replace(project, config={**project.config, MODE_KEY: "tags"})
    rendered = render_project(project)
    return from_documents([m.body for m in rendered.manifests], f"the program of stack {stack}")


def recorded(by_key: dict[str, list[Workload]], images: dict[str, Image], failed: set[str],
             locked: dict[str, Entry], platform: str) -> dict[str, Entry]:
    """The stack's lock entries after `--lock`: each declared image that passed at the digest just read,
    a failing one at its earlier entry (if any); images the stack no longer declares are dropped."""
    version = cdb_version()
    entries = {key: entry for key, entry in locked.items() if key in by_key}
    for key, users in by_key.items():
        if key not in failed:
            image = images[key]
            entries[key] = Entry(image.digest, platform, image.platform_digest, checks_applied(users), version)
    return entries


def stale(stack: str, declared_keys: set[str], locked: dict[str, Entry], resolved: dict[str, str],
          running: list[Workload]) -> list[str]:
    """Why images.lock is not current for the stack, one line each; empty when it is.
    `resolved`: lock key -> the digest it resolves to now; `running`: the workloads of deploy/STACK."""
    refresh = REFRESH.format(stack=stack)
    problems = []
    for key in sorted(declared_keys):
        entry = locked.get(key)
        if entry is None:
            problems.append(f"{key}: used by stack {stack}, not in images.lock; run `{refresh}`")
        elif resolved.get(key) not in (None, entry.digest):
            problems.append(f"{key}: now resolves to {resolved[key]}, images.lock checked {entry.digest}: the image "
                            f"changed upstream; run `{refresh}` to check it again")
    for key in sorted(set(locked) - declared_keys):
        problems.append(f"{key}: in images.lock for stack {stack}, no longer used; run `{refresh}`")
    for workload in running:
        key, pinned = key_of(workload.image)
        entry = locked.get(key)
        if entry is None:
            problems.append(f"{workload.image} ({workload.label}, {workload.source}): runs an image images.lock "
                            f"did not check; run `{refresh}` and render again")
        elif pinned is not None and pinned != entry.platform_digest:
            problems.append(f"{workload.image} ({workload.label}, {workload.source}): runs at a digest images.lock "
                            f"did not check ({entry.platform_digest}); render again after `{refresh}`")
    return sorted(set(problems))
