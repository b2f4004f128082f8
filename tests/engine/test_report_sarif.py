"""SARIF 2.1.0 as GitHub code scanning takes it, validated against the OASIS schema."""

from __future__ import annotations

import json

import jsonschema
import pytest

from cdb_engine.model import Finding
from cdb_engine.reports import render
from cdb_engine.reports.sarif import REMOTE_RULE_ID, artifact_uri
from tests import schemas
from tests.engine.report_verdicts import (
    CHART_URN, DEPLOY_URN, NON_ROOT, STACK_URN, SVC_URN, check_verdict, finding, preview_verdict,
)


def sarif_of(verdict) -> dict:
    log = json.loads(render(verdict, "sarif"))
    schemas.sarif_validator(formats=True).validate(log)
    return log


def test_the_schema_validator_really_rejects_a_broken_log():
    log = sarif_of(preview_verdict())
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        schemas.sarif_validator().validate(log)


def test_sarif_log_is_version_2_1_0_with_one_run_and_the_cdb_driver():
    log = sarif_of(preview_verdict())
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-schema-2.1.0.json")
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "cdb" and driver["version"] and driver["informationUri"].startswith("https://")


def test_every_pack_policy_is_a_rule_with_help_severity_and_clause_tags():
    rules = sarif_of(preview_verdict())["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [
        "pods-run-as-non-root", "workloads-have-probes", "services-are-cluster-internal",
        "flux-alerts-persisted", REMOTE_RULE_ID,
    ]
    non_root = rules[0]
    assert non_root["helpUri"] == NON_ROOT.url
    assert "Set runAsNonRoot: true." in non_root["help"]["markdown"]
    assert "Set runAsNonRoot: true." in non_root["help"]["text"]
    assert non_root["properties"]["security-severity"] == "8.0"
    tags = non_root["properties"]["tags"]
    assert "security" in tags and "CDB_INFRA_POLICY:5" in tags
    assert non_root["properties"]["precision"] == "very-high"
    assert non_root["defaultConfiguration"]["level"] == "error"
    assert rules[2]["defaultConfiguration"]["level"] == "warning"
    assert rules[3]["properties"]["security-severity"] == "9.5"
    assert "helpUri" not in rules[2]  # no url in the pack: no invented link


def test_results_map_enforcement_to_level_and_point_at_rules_by_index():
    run = sarif_of(preview_verdict())["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("pods-run-as-non-root", "error"), ("workloads-have-probes", "error"),
        ("services-are-cluster-internal", "warning"), ("flux-alerts-persisted", "error"),
        ("pods-run-as-non-root", "note"), (REMOTE_RULE_ID, "note"),
    ]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)
    assert results[0]["message"]["text"].startswith(
        "[CDB_INFRA_POLICY 5] kubernetes:apps/v1:Deployment: core/api:"
    )


def test_every_result_has_a_location_falling_back_to_the_nearest_source_then_pulumi_yaml():
    results = sarif_of(preview_verdict())["runs"][0]["results"]
    by_urn = {r["properties"]["urn"]: r["locations"][0] for r in results}
    def place(urn: str) -> tuple[str, int]:
        physical = by_urn[urn]["physicalLocation"]
        return physical["artifactLocation"]["uri"], physical["region"]["startLine"]
    assert place(DEPLOY_URN) == ("cdb_stack/stack.py", 42)  # its parent component's line
    assert place(STACK_URN) == ("Pulumi.yaml", 1)
    assert place(CHART_URN) == ("Pulumi.yaml", 1)
    assert by_urn[DEPLOY_URN]["logicalLocations"][0]["fullyQualifiedName"] == DEPLOY_URN


def test_check_mode_results_point_at_the_manifest_file_and_line():
    [result] = sarif_of(check_verdict())["runs"][0]["results"]
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "deploy/base/web.yaml"
    assert physical["region"]["startLine"] == 3


def test_unchecked_findings_are_notes_that_say_they_could_not_be_checked():
    results = sarif_of(preview_verdict())["runs"][0]["results"]
    notes = [r for r in results if r["properties"].get("status") == "not-checked"]
    [note] = [r for r in notes if r["ruleId"] != REMOTE_RULE_ID]
    assert note["level"] == "note" and note["properties"]["urn"] == SVC_URN
    assert note["message"]["text"].startswith("Not checked: policy pods-run-as-non-root could not run")
    assert "this is not a pass" in note["message"]["text"]


def test_remote_components_are_notes_and_tool_notifications():
    run = sarif_of(preview_verdict())["runs"][0]
    [remote] = [r for r in run["results"] if r["ruleId"] == REMOTE_RULE_ID]
    assert remote["level"] == "note" and "loki" in remote["message"]["text"]
    [notice] = run["invocations"][0]["toolExecutionNotifications"]
    assert notice["level"] == "warning" and "loki" in notice["message"]["text"]


def test_fingerprints_are_stable_and_distinct_per_policy_and_resource():
    first = sarif_of(preview_verdict())["runs"][0]["results"]
    again = sarif_of(preview_verdict())["runs"][0]["results"]
    prints = [r["partialFingerprints"]["cdbFinding/v1"] for r in first]
    assert prints == [r["partialFingerprints"]["cdbFinding/v1"] for r in again]
    assert len(set(prints)) == len(prints)
    verdict = check_verdict()
    urn = verdict.resources[0].urn
    verdict.violations.append(finding(NON_ROOT, urn, "a second container runs as root"))
    twins = [r["partialFingerprints"]["cdbFinding/v1"] for r in sarif_of(verdict)["runs"][0]["results"]]
    assert twins[1] == twins[0] + ":2"


def test_errors_mark_the_invocation_unsuccessful_with_notifications():
    verdict = preview_verdict()
    verdict.errors.append("policy pack exited with code 1")
    run = sarif_of(verdict)["runs"][0]
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False and invocation["exitCode"] == 2
    assert invocation["toolExecutionNotifications"][0] == {
        "level": "error", "message": {"text": "policy pack exited with code 1"},
        "descriptor": {"id": "cdb/error"},
    }
    clean = sarif_of(check_verdict())["runs"][0]["invocations"][0]
    assert clean["executionSuccessful"] is True and "toolExecutionNotifications" not in clean


def test_a_finding_of_a_policy_the_pack_did_not_announce_still_gets_a_rule():
    verdict = check_verdict()
    verdict.pack = None
    verdict.violations = [Finding(policy="ghost", enforcement="mandatory", severity="high", clause="4",
                                  urn=verdict.resources[0].urn, message="m", description="Ghost rule.")]
    run = sarif_of(verdict)["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["ghost"]
    assert run["results"][0]["ruleIndex"] == 0


def test_artifact_uris_are_relative_with_forward_slashes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert artifact_uri("./deploy/web.yaml") == "deploy/web.yaml"
    assert artifact_uri("deploy\\web app.yaml") == "deploy/web%20app.yaml"
    assert artifact_uri(str(tmp_path / "k8s" / "a.yaml")) == "k8s/a.yaml"
    assert artifact_uri("/elsewhere/a.yaml") == "file:///elsewhere/a.yaml"
