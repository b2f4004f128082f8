"""`--format markdown`: what a reviewer reads in the pull request, within GitHub's comment limit."""

import dataclasses
import re

from cdb_engine.reports.diff import Identity, diff, prepare
from cdb_engine.model import Finding
from cdb_engine.reports import render
from cdb_engine.reports.markdown import COMMENT_LIMIT, marker, render_markdown
from tests.engine.report_verdicts import DEPLOY_URN, NON_ROOT, preview_verdict


def cm(name, **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "apps"}, "data": data}


def with_diff(verdict):
    base = {Identity("", "ConfigMap", "apps", "a"): prepare(cm("a", v="1")),
            Identity("", "ConfigMap", "apps", "gone"): prepare(cm("gone"))}
    head = {Identity("", "ConfigMap", "apps", "a"): prepare(cm("a", v="2")),
            Identity("", "ConfigMap", "apps", "new"): prepare(cm("new"))}
    verdict.diff = diff(base, head, "main (abc123) deploy/dev")
    return verdict


def test_the_report_starts_with_the_hidden_marker_and_states_the_verdict_and_counts():
    text = render(preview_verdict(), "markdown")
    assert text.splitlines()[0] == marker("dev") == "<!-- cdb-preview:dev -->"
    assert "❌ FAILED" in text.splitlines()[1]
    assert "| Mandatory violations | 3 |" in text and "| Advisory violations | 1 |" in text
    assert "| Exit code | 1 |" in text


def test_violations_are_grouped_by_clause_with_the_policy_s_fix():
    text = render(preview_verdict(), "markdown")
    clause5 = text.index("**CDB\\_INFRA\\_POLICY 5**")
    clause23 = text.index("**CDB\\_INFRA\\_POLICY 2.3**")
    clause31 = text.index("**CDB\\_INFRA\\_POLICY 3.1**")
    assert clause23 < clause31 < clause5  # in clause order
    section5 = text[clause5:]
    assert "`pods-run-as-non-root` (mandatory, severity high)" in section5
    assert "**Fix:** Set runAsNonRoot: true." in section5
    assert "**Fix:** Add readinessProbe and livenessProbe." in section5
    assert "runAsNonRoot must be true" in section5


def test_not_checked_items_and_unexpanded_components_are_listed_as_not_passes():
    text = render(preview_verdict(), "markdown")
    part = text[text.index("#### Not checked"):]
    assert "`pods-run-as-non-root` on kubernetes:core/v1:Service `core/api`" in part
    assert "remote component kubernetes:helm.sh/v4:Chart `loki`" in part


def test_the_changes_come_with_a_pulumi_summary_and_their_fields():
    text = render(with_diff(preview_verdict()), "markdown")
    assert "| Changes against main (abc123) deploy/dev | + 1 to create, \\~ 1 to update, - 1 to delete, 0 unchanged |" in text
    block = text[text.index("```diff"):]
    assert "+ create  ConfigMap apps/new" in block and "- delete  ConfigMap apps/gone" in block
    assert "! ~ update  ConfigMap apps/a" in block and "data.v: 1 => 2" in block
    assert text.index("#### Changes") < text.index("#### Violations")


def test_markup_in_a_message_cannot_break_out_of_the_report():
    verdict = preview_verdict()
    evil = Finding(policy=NON_ROOT.name, enforcement="mandatory", severity="high", clause="5", urn=DEPLOY_URN,
                   message="<img src=x onerror=alert(1)> | **bold** [link](http://x)\n# heading")
    verdict.violations.append(evil)
    text = render(verdict, "markdown")
    assert not re.search(r"(?<!\\)<img", text) and "\\<img" in text
    assert "\n# heading" not in text and "\\[link\\]" in text


def test_a_huge_report_is_cut_below_github_s_limit_with_a_note():
    verdict = preview_verdict()
    verdict.violations = [dataclasses.replace(verdict.violations[0], message=f"violation number {i} " + "x" * 80)
                          for i in range(5000)]
    verdict.diff = diff({}, {Identity("", "ConfigMap", "apps", f"c{i}"): {} for i in range(3000)}, "base")
    text = render_markdown(verdict)
    assert len(text) <= COMMENT_LIMIT
    assert re.search(r"\*\*Truncated:\*\* \d+ more lines not shown", text)
    assert text.count("```") % 2 == 0  # an open code block is closed
    assert text.startswith(marker("dev"))


def test_a_report_within_the_limit_is_not_cut():
    text = render(preview_verdict(), "markdown")
    assert "Truncated" not in text and len(text) < COMMENT_LIMIT


def test_a_multi_line_value_stays_on_its_change_line():
    from cdb_engine.reports.changes import value_text

    assert value_text("line one\nline two") == '"line one\\nline two"'
    assert value_text("plain") == "plain" and value_text(None) == "(none)"
