"""The JSON report: stable keys, the shared order, unchecked and remote findings, errors, sources."""

from __future__ import annotations

import json

from cdb_engine.reports import render
from cdb_engine.reports.json_report import SCHEMA_VERSION
from tests.engine.report_verdicts import (
    CHART_URN, DEPLOY_URN, STACK_URN, SVC_URN, check_verdict, preview_verdict,
)


def test_json_report_has_the_documented_top_level_keys_and_schema_version():
    report = json.loads(render(preview_verdict(), "json"))
    assert list(report) == ["schemaVersion", "tool", "mode", "project", "stack", "pack", "resources",
                            "violations", "unchecked", "remote", "unanswered", "errors", "skipped", "summary"]
    assert report["schemaVersion"] == SCHEMA_VERSION
    assert (report["mode"], report["project"], report["stack"]) == ("preview", "cdb-infra", "dev")
    assert report["tool"]["name"] == "cdb"


def test_resources_carry_urn_type_name_parent_and_source_where_known():
    resources = json.loads(render(preview_verdict(), "json"))["resources"]
    zone = resources[1]
    assert {k: zone[k] for k in ("urn", "type", "name", "parent")} == {
        "urn": "urn:pulumi:dev::cdb-infra::cdb:index:Zone::core", "type": "cdb:index:Zone", "name": "core",
        "parent": STACK_URN,
    }
    assert zone["source"] == {"path": "cdb_stack/stack.py", "line": 42}
    assert resources[0]["source"] is None and resources[0]["parent"] is None


def test_violations_keep_the_pack_order_and_carry_clause_severity_enforcement():
    violations = json.loads(render(preview_verdict(), "json"))["violations"]
    assert [(v["policy"], v["urn"]) for v in violations] == [
        ("pods-run-as-non-root", DEPLOY_URN), ("workloads-have-probes", DEPLOY_URN),
        ("services-are-cluster-internal", SVC_URN), ("flux-alerts-persisted", STACK_URN),
    ]
    first = violations[0]
    assert {k: first[k] for k in ("clause", "severity", "enforcement", "mandatory", "type", "name")} == {
        "clause": "5", "severity": "high", "enforcement": "mandatory", "mandatory": True,
        "type": "kubernetes:apps/v1:Deployment", "name": "core/api",
    }
    assert first["message"] == "spec.template.spec.securityContext.runAsNonRoot must be true"


def test_check_mode_violations_point_at_the_manifest():
    [violation] = json.loads(render(check_verdict(), "json"))["violations"]
    assert violation["source"] == {"path": "deploy/base/web.yaml", "line": 3}


def test_unchecked_remote_and_summary_are_reported_separately_from_violations():
    report = json.loads(render(preview_verdict(), "json"))
    assert [u["urn"] for u in report["unchecked"]] == [SVC_URN]
    assert [r["urn"] for r in report["remote"]] == [CHART_URN]
    assert "cannot expand" in report["remote"][0]["reason"]
    assert report["summary"] == {
        "resources": 6, "create": 6, "violations": {"mandatory": 3, "advisory": 1, "total": 4},
        "unchecked": 1, "remote": 1, "unanswered": 0, "errors": 0, "complete": False, "incompleteAccepted": False,
        "verdict": "failed", "exitCode": 1,
    }


def test_pack_lists_every_policy_with_its_clause():
    pack = json.loads(render(preview_verdict(), "json"))["pack"]
    assert (pack["name"], pack["version"]) == ("cdb-infra-policy", "0.1.0")
    assert [(p["name"], p["clause"]) for p in pack["policies"]] == [
        ("pods-run-as-non-root", "5"), ("workloads-have-probes", "5"),
        ("services-are-cluster-internal", "3.1"), ("flux-alerts-persisted", "2.3"),
    ]


def test_errors_make_the_json_verdict_an_error():
    verdict = preview_verdict()
    verdict.errors.append("policy pack did not start")
    verdict.pack = None
    report = json.loads(render(verdict, "json"))
    assert report["errors"] == ["policy pack did not start"] and report["pack"] is None
    assert (report["summary"]["verdict"], report["summary"]["exitCode"]) == ("error", 2)


def test_json_output_is_deterministic_whatever_order_findings_arrive_in():
    verdict = preview_verdict()
    first = render(verdict, "json")
    verdict.violations.reverse()
    assert render(verdict, "json") == first


def test_json_report_puts_each_resource_and_finding_on_a_line_of_its_own():
    verdict = preview_verdict()
    text = render(verdict, "json")
    lines = [line.rstrip(",") for line in text.splitlines()]
    report = json.loads(text)
    for entry in report["resources"] + report["violations"]:
        assert "    " + json.dumps(entry, ensure_ascii=False, separators=(", ", ": ")) in lines
    assert lines[0] == "{" and lines[1].startswith('  "schemaVersion": ') and text.endswith("}\n")
