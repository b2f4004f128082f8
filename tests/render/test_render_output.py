"""The rendered folder: deterministic, free of machine paths and times, written atomically."""

import os
import re

import pytest
import yaml

from cdb_core.errors import CdbError
from cdb_engine.manifests.render import render_files, render_stack, write_tree
from tests.render.conftest import PROJECT


def test_rendering_twice_gives_the_same_bytes(rendered_stacks):
    again = render_files(render_stack(PROJECT, "dev"))
    assert again == rendered_stacks["dev"][1]


def test_the_output_holds_no_machine_path_and_no_time(rendered_stacks, tmp_path):
    for stack, (_, files) in rendered_stacks.items():
        text = "\n".join(files.values())
        assert str(PROJECT) not in text and str(tmp_path.parent) not in text and os.path.expanduser("~") + "/" not in text
        # Upstream CRDs carry example timestamps in their descriptions (checksummed under components/vendor/).
        ours = "\n".join(body for path, body in files.items() if "/customresourcedefinition-" not in path)
        assert not re.search(r"\b20\d\d-\d\d-\d\dT\d\d:\d\d", ours), stack
        vendored = "\n".join(p.read_text() for p in (PROJECT / "components" / "vendor").rglob("*.y*ml"))
        assert set(re.findall(r"\b20\d\d-\d\d-\d\dT\d\d:\d\d", text)) <= set(re.findall(r"\b20\d\d-\d\d-\d\dT\d\d:\d\d", vendored))


def test_the_kustomization_lists_exactly_the_flux_owned_object_files_and_names_the_others(rendered_stacks):
    rendered, files = rendered_stacks["prod"]
    text = files["kustomization.yaml"]
    kustomization = yaml.safe_load(text)
    assert kustomization["apiVersion"] == "kustomize.config.k8s.io/v1beta1" and kustomization["kind"] == "Kustomization"
    objects = sorted(p for p in files if p != "kustomization.yaml")
    listed = kustomization["resources"]
    assert listed == sorted(listed) and set(listed) < set(objects)
    assert len(listed) == sum(m.flux_owned for m in rendered.manifests)
    # Every file Flux does not apply is named in the header as applied by Pulumi.
    assert {p for p in objects if p not in listed} == {line[4:] for line in text.splitlines()
                                                       if line.startswith("#   ") and line.endswith(".yaml")}


def test_every_object_carries_the_git_revision_it_was_rendered_with(tmp_path):
    files = render_files(render_stack(PROJECT, "dev", revision="0123abc"))
    for path, text in files.items():
        if path != "kustomization.yaml":
            meta = yaml.safe_load(text)["metadata"]
            assert meta["annotations"]["cdb-infra.io/git-revision"] == "0123abc", path


def test_without_a_revision_render_stamps_the_fixed_placeholder_not_head(rendered_stacks, monkeypatch):
    monkeypatch.setenv("GITHUB_SHA", "f" * 40)
    files = render_files(render_stack(PROJECT, "dev"))
    assert "f" * 40 not in "".join(files.values())
    assert files == rendered_stacks["dev"][1]


def test_a_revision_that_is_not_a_sha_is_refused():
    with pytest.raises(CdbError, match="not a lower-case hex commit sha"):
        render_stack(PROJECT, "dev", revision="main")


def test_a_second_render_replaces_the_folder_and_drops_stale_files(rendered_dir, rendered_stacks):
    (rendered_dir / "apps" / "stale.yaml").write_text("kind: Old\n")
    write_tree(rendered_stacks["dev"][1], rendered_dir)
    assert not (rendered_dir / "apps" / "stale.yaml").exists()
    assert sorted(p.name for p in rendered_dir.parent.iterdir()) == ["dev"]  # no staging folders left


def test_a_failed_write_leaves_the_old_output_untouched(rendered_dir, rendered_stacks, monkeypatch):
    before = {p: p.read_bytes() for p in rendered_dir.rglob("*") if p.is_file()}
    real_replace = os.replace

    def failing_replace(src, dst):
        if str(src).rsplit("/", 1)[-1].startswith(".dev.render-"):
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_tree({**rendered_stacks["dev"][1], "extra.yaml": "x: 1\n"}, rendered_dir)
    monkeypatch.undo()
    assert {p: p.read_bytes() for p in rendered_dir.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in rendered_dir.parent.iterdir()) == ["dev"]


def test_render_refuses_to_replace_a_folder_it_did_not_write(tmp_path, rendered_stacks):
    (tmp_path / "notes.txt").write_text("mine\n")
    with pytest.raises(CdbError, match="did not write"):
        write_tree(rendered_stacks["dev"][1], tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine\n"
