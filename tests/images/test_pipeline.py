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
    assert any("cdb images --stack" in run and "--require-pinned" in run for run in runs)
    assert "tests" in jobs["rollout"]["needs"]
