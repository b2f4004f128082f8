"""The pipelines as code: linted, least privilege, pinned, and in the delivery order of clause 7."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.delivery.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")


def load(name: str) -> dict:
    # PyYAML reads the key `on` as True (YAML 1.1); map it back for readable assertions.
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    if True in data:
        data["on"] = data.pop(True)
    return data


def all_workflows() -> list[str]:
    return sorted(p.name for p in WORKFLOWS.glob("*.yml"))


def steps_text(job: dict) -> str:
    return "\n".join(str(step.get("run", "")) + " " + str(step.get("uses", "")) for step in job.get("steps", []))


def order_of(jobs: dict, chain: list[str]) -> None:
    """Each job of the chain needs the one before it (directly)."""
    for before, after in zip(chain, chain[1:]):
        needs = jobs[after].get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        assert before in needs, f"job {after} must need {before}"


def test_zizmor_finds_nothing_in_the_workflows():
    tool = BIN / "zizmor"
    if not tool.exists():
        tool = Path(shutil.which("zizmor") or "")
    assert tool.is_file(), "zizmor is missing from the virtual environment (pip install zizmor==1.32.0)"
    result = subprocess.run([str(tool), "--offline", "--no-progress", "--format", "plain", str(WORKFLOWS)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


def test_main_delivery_runs_plan_pr_tests_rollout_postcheck_in_that_order():
    jobs = load("deliver.yml")["jobs"]
    order_of(jobs, ["plan", "pull-request", "tests", "rollout", "postcheck"])
    assert "cdb preview" in steps_text(jobs["plan"])
    assert "make test" in steps_text(jobs["tests"]) and "cdb scan" in steps_text(jobs["tests"])
    assert "cdb render --stack \"$STACK\" --check" in steps_text(jobs["tests"])
    assert "pulumi up --yes --stack \"$STACK\" --policy-pack policy_pack" in steps_text(jobs["rollout"])
    assert "cdb postcheck --revision \"$SHA\"" in steps_text(jobs["postcheck"])


def test_main_delivery_refuses_direct_pushes_and_audits_every_merge():
    workflow = load("deliver.yml")
    jobs = workflow["jobs"]
    assert workflow["on"] == {"push": {"branches": ["main"]}}
    assert "without a merged pull request" in steps_text(jobs["pull-request"])
    assert "without an approving review" in steps_text(jobs["pull-request"])
    audit = jobs["audit-merge"]
    assert "cdb audit merge" in steps_text(audit) and set(audit["needs"]) == {"plan", "pull-request"}
    assert audit["if"].startswith("always()"), "an unreviewed merge must be audited too"


def test_rollout_runs_in_a_protected_environment_without_auto_merge():
    jobs = load("deliver.yml")["jobs"]
    assert jobs["rollout"]["environment"] == "infra-dev"
    for name in all_workflows():
        code = "\n".join(line for line in (WORKFLOWS / name).read_text().splitlines()
                         if not line.strip().startswith("#")).lower()
        assert "gh pr merge" not in code and "auto-merge" not in code and "automerge" not in code, name
        assert "git push" not in code, f"{name}: CI must not write to Git; Flux reconciles the merged commit"


def test_pull_requests_run_plan_then_tests_with_sarif_and_a_guarded_pulumi_preview():
    workflow = load("pull-request.yml")
    jobs = workflow["jobs"]
    assert "pull_request" in workflow["on"]
    order_of(jobs, ["plan", "tests"])
    plan = jobs["plan"]
    text = steps_text(plan)
    assert "cdb preview --stack \"$STACK\" --format sarif --output cdb.sarif" in text
    assert "github/codeql-action/upload-sarif@" in text
    pulumi_steps = [s for s in plan["steps"] if "pulumi preview" in str(s.get("run", ""))]
    assert pulumi_steps and all("steps.pulumi-creds.outputs.present == 'true'" in s["if"] for s in pulumi_steps)
    assert "--policy-pack policy_pack" in pulumi_steps[0]["run"]
    comments = [s for s in plan["steps"] if "scripts/pr-comment.sh" in str(s.get("run", ""))]
    assert {c["run"].split('"')[1] for c in comments} == {"<!-- cdb-preview:$STACK -->", "<!-- pulumi-preview:$STACK -->"}
    assert "gh pr comment" not in text  # a new comment per push is what the marker replaces
    tests = steps_text(jobs["tests"])
    assert "make test" in tests and "cdb scan" in tests and "--check --out" in tests


def test_an_incomplete_preview_fails_the_pull_request_unless_a_reviewer_label_accepts_it():
    workflow = load("pull-request.yml")
    assert {"labeled", "unlabeled"} <= set(workflow["on"]["pull_request"]["types"])
    [step] = [s for s in workflow["jobs"]["plan"]["steps"] if "cdb preview" in str(s.get("run", ""))]
    assert "accept-incomplete-preview" in step["env"]["ACCEPT_INCOMPLETE"]
    # The flag is passed only when the label is there; the step has no continue-on-error, so exit 3 fails it.
    assert '[ "$ACCEPT_INCOMPLETE" = "true" ]' in step["run"] and "--accept-incomplete" in step["run"]
    assert "continue-on-error" not in step
    assert "--accept-incomplete" not in steps_text(load("deliver.yml"))


def test_the_schedule_records_drift_from_a_refresh_preview():
    workflow = load("drift.yml")
    assert workflow["on"]["schedule"][0]["cron"]
    text = steps_text(workflow["jobs"]["drift"])
    assert "pulumi preview --stack \"$STACK\" --refresh --expect-no-changes --json" in text
    assert "cdb audit drift --input drift.json" in text


@pytest.mark.parametrize("name", all_workflows())
def test_workflow_permissions_are_least_privilege(name):
    workflow = load(name)
    assert workflow["permissions"] == {}, "grant permissions per job, none at the top"
    for job_name, job in workflow["jobs"].items():
        granted = job.get("permissions")
        assert isinstance(granted, dict), f"{job_name} must state its permissions"
        assert granted.get("contents") == "read", f"{job_name}: contents must be read-only"
        writes = {scope for scope, level in granted.items() if level == "write"}
        assert writes <= {"security-events", "pull-requests"}, f"{job_name} writes {writes}"


@pytest.mark.parametrize("name", all_workflows())
def test_actions_are_pinned_by_commit_sha_with_a_version_comment(name):
    lines = [line.strip() for line in (WORKFLOWS / name).read_text().splitlines() if "uses:" in line]
    assert lines
    for line in lines:
        assert PINNED.match(line.split("uses:", 1)[1].strip()), f"{name}: not pinned by SHA: {line}"


@pytest.mark.parametrize("name", all_workflows())
def test_secrets_only_reach_steps_through_env(name):
    workflow = load(name)
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            assert "secrets." not in str(step.get("run", "")), "expand secrets via env, not inside a script"
            assert "${{" not in str(step.get("run", "")), "no template expansion inside scripts (injection)"


def test_the_pull_request_jobs_report_the_status_checks_branch_protection_requires():
    import yaml

    from components.conventions import REQUIRED_STATUS_CHECKS

    workflow = yaml.safe_load((Path(__file__).resolve().parents[2] / ".github/workflows/pull-request.yml").read_text())
    names = {job.get("name", key) for key, job in workflow["jobs"].items()}
    assert set(REQUIRED_STATUS_CHECKS) <= names


def test_the_main_workflow_keeps_the_picture_of_the_stack_as_an_artifact():
    plan = load("deliver.yml")["jobs"]["plan"]
    [make] = [s for s in plan["steps"] if "--format html --output cdb-stack.html" in str(s.get("run", ""))]
    [keep] = [s for s in plan["steps"] if s.get("with", {}).get("path") == "cdb-stack.html"]
    assert make["if"] == "always()" and "upload-artifact@" in keep["uses"]
