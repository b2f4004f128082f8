"""The real stack program pins every container image of prod (its own components' and the vendored
installers') to the digest images.lock records, and refuses a prod image the lock lacks."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from cdb_core.errors import CdbError
from cdb_release.images.workloads import from_documents
from cdb_engine.manifests.render import render_stack

ROOT = Path(__file__).resolve().parents[2]


def _images(rendered) -> list[str]:
    return sorted({w.image for w in from_documents([m.body for m in rendered.manifests], "render")})


def _entry(reference: str) -> dict:
    digest = "sha256:" + hashlib.sha256(reference.encode()).hexdigest()  # test data: no registry holds these
    return {"digest": digest, "platform": "linux/amd64", "platformDigest": digest, "checks": ["image-credential"],
            "cdb": "test"}


@pytest.fixture(scope="module")
def tags() -> list[str]:
    """The prod stack's images as its settings and vendored installers name them (no lock: tags)."""
    return _images(render_stack(ROOT, "prod"))


def _project(tmp_path: Path, lock: dict | None) -> Path:
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml", "__main__.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    if lock is not None:
        (tmp_path / "images.lock").write_text(json.dumps({"version": 2, "stacks": {"prod": lock}}))
    return tmp_path


def test_without_a_lock_prod_renders_the_tags_the_committed_manifests_hold(tags):
    assert tags and not [t for t in tags if "@" in t]
    assert "ghcr.io/controlplaneio-fluxcd/flux-operator:v0.58.1" in tags  # a vendored installer's image


def test_with_a_lock_every_prod_image_runs_at_its_recorded_digest(tags, tmp_path):
    lock = {tag: _entry(tag) for tag in tags}
    pinned = _images(render_stack(_project(tmp_path, lock), "prod"))
    assert pinned == sorted(f"{tag}@{lock[tag]['platformDigest']}" for tag in tags)


def test_a_prod_image_missing_from_the_lock_stops_the_program_naming_it(tags, tmp_path):
    missing = "quay.io/openbao/openbao:2.7.2"
    lock = {tag: _entry(tag) for tag in tags if tag != missing}
    with pytest.raises(CdbError, match=rf"images.lock records no checked digest for image {missing} of stack prod: "
                                       r"run `cdb images --stack prod --lock`"):
        render_stack(_project(tmp_path, lock), "prod")
