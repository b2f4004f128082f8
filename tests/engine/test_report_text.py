"""The text report: a `pulumi preview`-like tree, violations grouped by policy, and an honest verdict."""

from __future__ import annotations

import io

import pytest

from cdb_engine.model import Resource, Verdict
from cdb_engine.reports import render, use_color
from cdb_engine.reports.text import render_text
from cdb_core.errors import CdbError
from tests.engine.report_verdicts import (
    DEPLOY_URN, NON_ROOT, PACK, check_verdict, finding, preview_verdict,
)


def lines_of(verdict: Verdict) -> list[str]:
    return render(verdict, "text").splitlines()


def test_preview_header_and_resource_tree_follow_parent_urns():
    lines = lines_of(preview_verdict())
    assert lines[0] == "Previewing update (dev)"
    tree = [line for line in lines if line.startswith(" +   ")]
    assert [line.split()[1:3] for line in tree][:2] == [["pulumi:pulumi:Stack", "cdb-infra-dev"],
                                                        ["├─", "cdb:index:Zone"]]
    assert " +   │  ├─ kubernetes:core/v1:Namespace" in tree[2]
    assert " +   │  └─ kubernetes:core/v1:Service" in tree[4]
    assert " +   └─ kubernetes:helm.sh/v4:Chart" in tree[5]
    assert all("create" in line for line in tree)


def test_check_mode_has_its_own_header_and_points_at_the_manifest_line():
    text = render(check_verdict(), "text")
    assert text.startswith("Checking manifests (stack check, project manifests)\n")
    assert "CDB_INFRA_POLICY 5  at deploy/base/web.yaml:3" in text


def test_violations_are_grouped_by_policy_in_pack_order_with_clause_and_message():
    lines = lines_of(preview_verdict())
    heads = [line.strip() for line in lines if line.strip().startswith("[mandatory]") or
             line.strip().startswith("[advisory] [severity: low]")]
    assert [h.split("  ")[1] for h in heads] == [
        "pods-run-as-non-root", "workloads-have-probes",
        "services-are-cluster-internal", "flux-alerts-persisted",
    ]
    first = lines.index("        " + heads[0])
    assert heads[0] == ("[mandatory] [severity: high]  pods-run-as-non-root  "
                        "(kubernetes:apps/v1:Deployment: core/api)")
    assert lines[first + 1].strip() == "spec.template.spec.securityContext.runAsNonRoot must be true"
    assert lines[first + 2].strip() == "CDB_INFRA_POLICY 5"


def test_stack_violations_name_the_stack_and_keep_every_message_line():
    text = render(preview_verdict(), "text")
    assert "flux-alerts-persisted  (pulumi:pulumi:Stack: cdb-infra-dev)" in text
    assert "            no Alert covers all Flux sources\n            add one at info severity\n" in text


def test_unchecked_findings_are_listed_apart_and_never_counted_as_passes():
    text = render(preview_verdict(), "text")
    section = text.split("Not checked (a value is unknown during preview; these are not passes):\n")[1]
    assert section.splitlines()[0].strip().startswith("[advisory] [severity: high]  pods-run-as-non-root")
    assert "can't run policy 'pods-run-as-non-root'" in section
    assert "Not checked: 1\n" in text
    verdict = preview_verdict()
    verdict.violations.clear()
    last = render(verdict, "text").rstrip().splitlines()[-1]
    assert "PASSED" not in last and "1 check could not run" in last and "INCOMPLETE" in last and "(exit 3" in last


def test_remote_components_are_listed_as_not_expanded():
    text = render(preview_verdict(), "text")
    assert "Remote components (the offline engine cannot expand their children; they were not checked):\n" \
           "    kubernetes:helm.sh/v4:Chart  loki\n" in text
    assert "loki           create  remote: children not expanded" in text


def test_counts_and_verdict_line_close_the_report():
    lines = lines_of(preview_verdict())
    assert "    + 6 to create" in lines
    assert "Policy violations: 3 mandatory, 1 advisory" in lines
    assert lines[-1] == "Verdict: FAILED: 3 mandatory violations (exit 1)"


def test_errors_are_shown_and_make_the_verdict_an_error_whatever_else_was_found():
    verdict = preview_verdict()
    verdict.errors.append("policy pack exited with code 1 before answering Analyze")
    text = render(verdict, "text")
    assert "Errors:\n    error: policy pack exited with code 1 before answering Analyze\n" in text
    assert text.rstrip().endswith("Verdict: ERROR: the run could not be judged, 1 error (exit 2)")


def test_a_clean_complete_run_passes_and_rendering_does_not_depend_on_the_exit_code():
    verdict = Verdict(mode="check", project="manifests", stack="check", resources=check_verdict().resources,
                      pack=PACK)
    text = render(verdict, "text")
    assert "        no violations" in text
    assert text.rstrip().endswith("Verdict: PASSED: no mandatory violations (exit 0)")
    assert render(verdict, "text") == text  # pure: same verdict, same text
    advisory = check_verdict()
    advisory.violations = [finding(NON_ROOT, advisory.resources[0].urn, "m", enforcement="advisory")]
    assert advisory.exit_code() == 0
    assert "[advisory] [severity: high]  pods-run-as-non-root" in render(advisory, "text")


def test_colour_is_used_only_when_asked_and_only_for_terminals(monkeypatch):
    plain = render(preview_verdict(), "text")
    coloured = render_text(preview_verdict(), color=True)
    assert "\x1b[" not in plain and "\x1b[31m" in coloured
    assert use_color(io.StringIO()) is False

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Terminal()) is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(Terminal()) is False


def test_a_parent_cycle_or_missing_parent_still_lists_every_resource():
    a = Resource(urn="urn:pulumi:s::p::t:m:A::a", type="t:m:A", name="a", custom=False, properties={},
                 parent="urn:pulumi:s::p::t:m:B::b")
    b = Resource(urn="urn:pulumi:s::p::t:m:B::b", type="t:m:B", name="b", custom=False, properties={},
                 parent="urn:pulumi:s::p::t:m:A::a")
    orphan = Resource(urn="urn:pulumi:s::p::t:m:C::c", type="t:m:C", name="c", custom=False, properties={},
                      parent="urn:pulumi:s::p::t:m:Gone::x")
    text = render(Verdict(mode="preview", project="p", stack="s", resources=[a, b, orphan]), "text")
    assert all(f"t:m:{t}" in text for t in "ABC")
    assert "(no policy pack ran)" in text


def test_six_thousand_resources_render_with_every_violation_counted():
    stack = preview_verdict().resources[0]
    many = [stack] + [
        Resource(urn=f"{DEPLOY_URN}-{i}", type="kubernetes:apps/v1:Deployment", name=f"core/api-{i}",
                 custom=True, properties={}, parent=stack.urn)
        for i in range(6000)
    ]
    verdict = Verdict(mode="preview", project="cdb-infra", stack="dev", resources=many, pack=PACK,
                      violations=[finding(NON_ROOT, r.urn, "runAsNonRoot must be true") for r in many[1:]])
    # Speed is measured in benchmarks/, not asserted here.
    text = render(verdict, "text")
    assert "Policy violations: 6000 mandatory, 0 advisory" in text


def test_an_unknown_format_is_a_clear_error():
    with pytest.raises(CdbError, match="unknown report format 'xml': use one of text, json, sarif"):
        render(preview_verdict(), "xml")
