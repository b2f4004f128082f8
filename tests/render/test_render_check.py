"""`cdb render --check`: the committed folder must equal what the code renders now (clause 2.1)."""

import shutil

import pytest

from cdb_cli import main
from cdb_core.errors import CdbError
from cdb_engine.manifests.render import compare, mask_revision
from tests.render.conftest import PROJECT


def _states(differences):
    return [(d.state, d.path) for d in differences]


def test_a_fresh_render_has_no_drift(rendered_dir, rendered_stacks):
    assert compare(rendered_stacks["dev"][1], rendered_dir) == []


def test_a_hand_edit_is_drift(rendered_dir, rendered_stacks):
    target = rendered_dir / "flux-system" / "kustomization-cdb-infra.yaml"
    target.write_text(target.read_text().replace("prune: true", "prune: false"))
    assert _states(compare(rendered_stacks["dev"][1], rendered_dir)) == [
        ("changed", "flux-system/kustomization-cdb-infra.yaml")
    ]


def test_a_whitespace_only_edit_is_drift_too(rendered_dir, rendered_stacks):
    target = rendered_dir / "kustomization.yaml"
    target.write_text(target.read_text() + "\n")
    assert _states(compare(rendered_stacks["dev"][1], rendered_dir)) == [("changed", "kustomization.yaml")]


def test_a_deleted_file_is_drift(rendered_dir, rendered_stacks):
    (rendered_dir / "flux-system" / "alert-flux-audit.yaml").unlink()
    assert _states(compare(rendered_stacks["dev"][1], rendered_dir)) == [
        ("missing", "flux-system/alert-flux-audit.yaml")
    ]


def test_an_extra_file_is_drift(rendered_dir, rendered_stacks):
    (rendered_dir / "apps" / "configmap-hotfix.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n")
    (rendered_dir / ".hidden").write_text("x\n")
    assert _states(compare(rendered_stacks["dev"][1], rendered_dir)) == [
        ("extra", ".hidden"), ("extra", "apps/configmap-hotfix.yaml")
    ]


def test_only_the_revision_value_is_not_compared(rendered_dir, rendered_stacks):
    target = rendered_dir / "flux-system" / "gitrepository-cdb-infra.yaml"
    text = target.read_text()
    assert "cdb-infra.io/git-revision: unknown" in text
    target.write_text(text.replace("cdb-infra.io/git-revision: unknown", "cdb-infra.io/git-revision: 9f8e7d6"))
    assert compare(rendered_stacks["dev"][1], rendered_dir) == []
    target.write_text("".join(line for line in text.splitlines(True) if "git-revision" not in line))
    assert _states(compare(rendered_stacks["dev"][1], rendered_dir)) == [
        ("changed", "flux-system/gitrepository-cdb-infra.yaml")
    ]


def test_the_revision_mask_touches_nothing_but_the_annotation_value():
    text = "  annotations:\n    cdb-infra.io/git-revision: 0123abc\n    other: cdb-infra.io/git-revision: x\n"
    assert mask_revision(text) == (
        "  annotations:\n    cdb-infra.io/git-revision: <git-revision>\n    other: cdb-infra.io/git-revision: x\n"
    )


def test_check_of_a_missing_folder_is_an_error_naming_the_fix(tmp_path, rendered_stacks):
    with pytest.raises(CdbError, match="write it with `cdb render` first"):
        compare(rendered_stacks["dev"][1], tmp_path / "nowhere")


def test_the_command_writes_then_checks_and_lists_every_difference(tmp_path, capsys):
    out = tmp_path / "deploy" / "dev"
    (tmp_path / "deploy").mkdir()
    assert main(["render", "--stack", "dev", "--cwd", str(PROJECT), "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert main(["render", "--stack", "dev", "--cwd", str(PROJECT), "--out", str(out), "--check"]) == 0
    assert "matches what the code renders" in capsys.readouterr().out

    edited = out / "flux-system" / "kustomization-cdb-infra.yaml"
    edited.write_text(edited.read_text().replace("interval: 5m", "interval: 1h"))
    (out / "flux-system" / "alert-flux-audit.yaml").unlink()
    (out / "apps" / "extra.yaml").write_text("kind: ConfigMap\n")
    assert main(["render", "--stack", "dev", "--cwd", str(PROJECT), "--out", str(out), "--check"]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"extra    {out}/apps/extra.yaml",
        f"missing  {out}/flux-system/alert-flux-audit.yaml",
        f"changed  {out}/flux-system/kustomization-cdb-infra.yaml",
    ]
    assert "3 file(s)" in captured.err and "edited by hand after the last render" in captured.err


def test_check_says_the_code_moved_on_when_the_folder_is_as_the_last_render_left_it(tmp_path, capsys):
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns(".venv", ".git", "deploy", "tests", "__pycache__"))
    out = tmp_path / "out"
    assert main(["render", "--stack", "dev", "--cwd", str(project), "--out", str(out)]) == 0
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text().replace("LOG_LEVEL: debug", "LOG_LEVEL: info"))
    capsys.readouterr()
    assert main(["render", "--stack", "dev", "--cwd", str(project), "--out", str(out), "--check"]) == 1
    err = capsys.readouterr().err
    assert "the code or config changed since" in err and "edited by hand" not in err


def test_an_out_path_that_is_a_file_is_refused_before_rendering(tmp_path, capsys, monkeypatch):
    import cdb_engine.manifests.render as render

    def must_not_render(*_args, **_kwargs):
        raise AssertionError("rendered although --out cannot be written")

    monkeypatch.setattr(render, "render_stack", must_not_render)
    target = tmp_path / "a-file"
    target.write_text("x")
    assert main(["render", "--stack", "dev", "--cwd", str(PROJECT), "--out", str(target)]) == 2
    assert "is a file; --out needs a folder" in capsys.readouterr().err
    assert main(["render", "--stack", "dev", "--cwd", str(PROJECT), "--out", str(target / "sub")]) == 2
    assert "is a file, so" in capsys.readouterr().err


def test_help_explains_render_and_check(capsys):
    assert main(["render", "--help"]) == 0
    text = capsys.readouterr().out
    for phrase in ("kustomization.yaml", "--check", "git-revision", "atomically", "exit codes"):
        assert phrase in text


def test_a_bad_revision_is_a_usage_error_without_traceback(tmp_path, capsys):
    code = main(["render", "--stack", "dev", "--cwd", str(PROJECT), "--out", str(tmp_path / "o"), "--revision", "HEAD"])
    err = capsys.readouterr().err
    assert code == 2 and "not a lower-case hex commit sha" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_committed_output_matches_what_the_code_renders_now(rendered_stacks, stack):
    committed = PROJECT / "deploy" / stack
    differences = compare(rendered_stacks[stack][1], committed)
    assert differences == [], (
        f"deploy/{stack} has drifted from the code: {_states(differences)[:10]}; "
        f"run `cdb render --stack {stack} --out deploy/{stack}` and commit the result"
    )
