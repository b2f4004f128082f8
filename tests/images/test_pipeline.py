"""The pull request's required `tests` job checks the prod stack's images and uploads the SARIF."""

from __future__ import annotations

from pathlib import Path

import yaml

from components.conventions import REQUIRED_CHECK_TESTS

WORKFLOW = Path(__file__).resolve().parents[2] / ".github/workflows/pull-request.yml"


def test_the_required_tests_job_runs_cdb_images_on_prod_as_sarif_and_uploads_it_even_on_findings():
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    job = next(job for job in jobs.values() if job.get("name") == REQUIRED_CHECK_TESTS)
    steps = job["steps"]
    runs = [i for i, step in enumerate(steps) if "cdb images --stack prod --format sarif" in step.get("run", "")]
    uploads = [i for i, step in enumerate(steps) if step.get("with", {}).get("sarif_file") == "cdb-images.sarif"]
    assert runs and uploads and uploads[0] > runs[0]
    assert steps[uploads[0]]["if"].startswith("always()")
    assert job["permissions"].get("security-events") == "write"


def test_the_main_workflow_refuses_to_roll_out_an_image_whose_digest_was_not_checked():
    jobs = yaml.safe_load((WORKFLOW.parent / "deliver.yml").read_text())["jobs"]
    runs = [step.get("run", "") for step in jobs["tests"]["steps"]]
    assert any('cdb images --stack "$STACK" --check' in run for run in runs)
    assert "tests" in jobs["rollout"]["needs"]


def test_a_scheduled_and_manual_job_refreshes_the_lock_renders_and_opens_a_pull_request():
    workflow = yaml.safe_load((WORKFLOW.parent / "images-lock.yml").read_text())
    assert workflow[True]["schedule"][0]["cron"] and "workflow_dispatch" in workflow[True]
    [job] = workflow["jobs"].values()
    steps = job["steps"]
    runs = [step.get("run", "") for step in steps]
    lock = next(i for i, run in enumerate(runs) if 'cdb images --stack "$stack" --lock' in run)
    render = next(i for i, run in enumerate(runs) if 'cdb render --stack "$stack"' in run)
    [pr] = [i for i, step in enumerate(steps) if step.get("uses", "").startswith("peter-evans/create-pull-request@")]
    assert lock < render < pr
    assert "for stack in dev prod" in runs[lock] and '"$status" -ge 2' in runs[lock]  # unreadable: stop
    assert set(steps[pr]["with"]["add-paths"].split()) == {"images.lock", "deploy/**"}
    assert steps[pr]["with"]["token"] == "${{ secrets.IMAGES_LOCK_TOKEN }}" and job["environment"] == "images-lock"
    assert job["permissions"] == {"contents": "read"}  # the PR is the App's; the workflow token cannot write
