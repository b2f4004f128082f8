"""`cdb preview --diff BASE` on the real project: against a rendered folder and against a Git revision."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from cdb_cli import main

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def base_folder(tmp_path):
    """The committed dev render, edited as an older base would differ from this code."""
    base = tmp_path / "base"
    shutil.copytree(PROJECT / "deploy" / "dev", base)
    nats = base / "event-bus" / "statefulset-nats.yaml"
    nats.write_text(nats.read_text().replace("serviceName: nats-headless", "serviceName: nats-old"))
    orders = base / "apps" / "deployment-orders-api.yaml"
    text = orders.read_text()
    assert "replicas:" in text
    orders.write_text(text.replace("replicas:", "replicas: 7\n  x-was-replicas:", 1))
    (base / "apps" / "configmap-orders-api-config.yaml").unlink()  # the base did not have it: a create
    (base / "apps" / "configmap-retired.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: retired\n  namespace: apps\ndata:\n  a: b\n"
    )
    return base


def run_json(capsys, *args):
    code = main(["preview", "--stack", "dev", "-C", str(PROJECT), "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_against_a_rendered_folder_each_object_is_created_updated_replaced_deleted_or_unchanged(capsys, base_folder):
    code, report = run_json(capsys, "--diff", str(base_folder))
    diff = report["diff"]
    actions = {c["object"]: c["action"] for c in diff["changes"]}
    assert actions == {
        "ConfigMap apps/orders-api-config": "create",
        "Deployment.apps apps/orders-api": "update",
        "StatefulSet.apps event-bus/nats": "replace",
        "ConfigMap apps/retired": "delete",
    }
    counts = diff["counts"]
    assert (counts["create"], counts["update"], counts["replace"], counts["delete"]) == (1, 1, 1, 1)
    assert counts["same"] > 100
    assert diff["summary"] == f"+ 1 to create, ~ 1 to update, +- 1 to replace, - 1 to delete, {counts['same']} unchanged"
    update = next(c for c in diff["changes"] if c["action"] == "update")
    assert sorted(f["path"] for f in update["fields"]) == ["spec.replicas", "spec.x-was-replicas"]
    replace = next(c for c in diff["changes"] if c["action"] == "replace")
    assert replace["replaceBecause"] == ["spec.serviceName"]
    assert replace["fields"] == [{"path": "spec.serviceName", "old": "nats-old", "new": "nats-headless"}]
    assert code == 0


def test_the_text_report_lists_the_changes_and_a_pulumi_summary_instead_of_every_resource(capsys, base_folder):
    main(["preview", "--stack", "dev", "-C", str(PROJECT), "--diff", str(base_folder)])
    out = capsys.readouterr().out
    assert "+- replace StatefulSet.apps event-bus/nats  (replace: spec.serviceName cannot change in place)" in out
    assert "spec.serviceName: nats-old => nats-headless" in out
    assert "+ 1 to create, ~ 1 to update, +- 1 to replace, - 1 to delete" in out
    assert "kubernetes:apps/v1:Deployment" not in out  # no all-create resource tree


def test_sarif_carries_the_diff_in_the_run_properties(capsys, base_folder):
    code = main(["preview", "--stack", "dev", "-C", str(PROJECT), "--format", "sarif", "--diff", str(base_folder)])
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert run["properties"]["diff"]["counts"]["replace"] == 1 and code == 0


def test_against_the_committed_revision_nothing_changes(capsys):
    head = subprocess.run(["git", "-C", str(PROJECT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    dirty = subprocess.run(["git", "-C", str(PROJECT), "status", "--porcelain", "--", "deploy/dev", "Pulumi.dev.yaml",
                            "__main__.py", "components", "cdb_stack", "cdb_core"], capture_output=True, text=True, check=True)
    if dirty.stdout.strip():
        pytest.skip("the work tree has uncommitted changes to what dev renders")
    code, report = run_json(capsys, "--diff", head.stdout.strip())
    assert report["diff"]["changes"] == [] and report["diff"]["counts"]["same"] > 100
    assert report["diff"]["base"].startswith(head.stdout.strip())
    assert code == 0


@pytest.mark.parametrize("base,said", [
    ("no-such-branch-xyz", "neither a folder nor a Git revision"),
])
def test_an_unknown_base_is_a_one_line_error_and_exit_2(capsys, base, said):
    code = main(["preview", "--stack", "dev", "-C", str(PROJECT), "--diff", base])
    captured = capsys.readouterr()
    assert code == 2 and said in captured.err and captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1


def test_a_folder_without_yaml_is_refused(capsys, tmp_path):
    code = main(["preview", "--stack", "dev", "-C", str(PROJECT), "--diff", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 2 and "holds no YAML" in captured.err and captured.out == ""


def test_a_base_from_before_the_layout_move_previews_with_its_own_engine_and_the_program_is_unchanged(capsys):
    # The move into cdb_core/cdb_engine/... changed where the engine lives, not what the program builds:
    # a pull request's base from before it still previews under its own cdb_stack/engine.
    added = subprocess.run(["git", "-C", str(PROJECT), "log", "--format=%H", "--diff-filter=A", "--",
                            "cdb_core/__init__.py"], capture_output=True, text=True, check=False)
    first = added.stdout.split()[-1] if added.returncode == 0 and added.stdout.split() else ""
    before = subprocess.run(["git", "-C", str(PROJECT), "rev-parse", "--verify", "--quiet", f"{first}^"],
                            capture_output=True, text=True, check=False) if first else None
    if before is None or before.returncode != 0:
        pytest.skip("this checkout holds no history from before the layout move")
    code, report = run_json(capsys, "--diff", before.stdout.strip())
    assert "its program previewed" in report["diff"]["base"] and code in (0, 1)
    unchanged = subprocess.run(["git", "-C", str(PROJECT), "diff", "--quiet", first, "--", "Pulumi.dev.yaml",
                                "components", "cdb_stack", "cdb_core"], check=False)
    if unchanged.returncode == 0:  # nothing the program reads changed since the move: nothing may differ
        assert report["diff"]["changes"] == [] and report["diff"]["counts"]["same"] > 100
        assert code == 0
