"""Markdown for a pull-request comment and a job summary: verdict, counts, changes, violations by clause.

GitHub refuses a comment over 65,536 characters, so the report is cut at whole lines below that size,
with a note saying how much was left out and where the whole of it is. The first line is a hidden
marker per stack: the pull-request workflow finds its previous comment by it and edits that one.
"""

from __future__ import annotations

import re
from collections import defaultdict

from cdb_engine.model import Finding, Verdict
from cdb_engine.reports.changes import change_lines
from cdb_engine.reports.common import Index, clause_label, is_mandatory, pack_label, plural, summarize

COMMENT_LIMIT = 65_536  # GitHub's limit for an issue or pull-request comment body, in characters
_ROOM = 600  # kept free for the truncation note and the closing of an open code block
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")
_VERDICT = {
    "passed": "✅ PASSED", "failed": "❌ FAILED", "incomplete": "⚠️ INCOMPLETE", "error": "❌ ERROR",
}


def marker(stack: str) -> str:
    return f"<!-- cdb-preview:{stack} -->"


def escape(text: str) -> str:
    """Text as literal Markdown on one line: no markup, no HTML, no table breaks."""
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


def code(text: str) -> str:
    """An inline code span (backslash escapes do not work inside one, so backticks are replaced)."""
    return "`" + " ".join(text.split()).replace("`", "'") + "`"


def render_markdown(verdict: Verdict, limit: int = COMMENT_LIMIT) -> str:
    index = Index(verdict)
    summary = summarize(verdict)
    verdict_text = _VERDICT[summary.outcome] + (" (incomplete, accepted by a reviewer)" if summary.accepted else "")
    lines = [marker(verdict.stack), f"### cdb preview: stack {code(verdict.stack)}: {verdict_text}", ""]
    lines += [
        "| | |", "|---|---|",
        f"| Policy pack | {escape(pack_label(verdict))} |",
        f"| Resources | {summary.resources} |",
    ]
    if verdict.diff is not None:
        lines.append(f"| Changes against {escape(verdict.diff.base)} | {escape(verdict.diff.summary())} |")
    lines += [
        f"| Mandatory violations | {summary.mandatory} |",
        f"| Advisory violations | {summary.advisory} |",
        f"| Not checked | {summary.unchecked + summary.remote + summary.unanswered} |",
        f"| Exit code | {summary.exit_code} |",
        "",
    ]
    lines += _errors(verdict)
    lines += _changes(verdict)
    lines += _violations(verdict, index)
    lines += _not_checked(verdict, index)
    return _fit("\n".join(lines).rstrip("\n") + "\n", limit, verdict.stack)


def _errors(verdict: Verdict) -> list[str]:
    if not verdict.errors:
        return []
    return ["#### Errors (the run could not be judged)", ""] + [f"- {escape(e)}" for e in verdict.errors] + [""]


def _violations(verdict: Verdict, index: Index) -> list[str]:
    if not verdict.violations:
        return ["#### Violations", "", "None.", ""]
    by_clause: dict[str, list[Finding]] = defaultdict(list)
    for finding in index.ordered(verdict.violations):
        by_clause[finding.clause].append(finding)
    lines = [f"#### Violations ({len(verdict.violations)})", ""]
    for clause in sorted(by_clause, key=_clause_key):
        lines += [f"**{escape(clause_label(clause))}**", ""]
        by_policy: dict[str, list[Finding]] = defaultdict(list)
        for finding in by_clause[clause]:
            by_policy[finding.policy].append(finding)
        for policy, findings in by_policy.items():
            meta = verdict.pack.policy(policy) if verdict.pack else None
            level = "mandatory" if is_mandatory(findings[0]) else "advisory"
            lines.append(f"- {code(policy)} ({level}, severity {escape(findings[0].severity)}): "
                         f"{escape(meta.description if meta else findings[0].description)}")
            if meta and meta.remediation:
                lines.append(f"  - **Fix:** {escape(meta.remediation)}")
            for finding in findings:
                type_, name = index.type_and_name(finding.urn)
                lines.append(f"  - {escape(type_)} {code(name)}: {escape(finding.message or finding.description)}"
                             + _where(index, finding))
        lines.append("")
    return lines


def _where(index: Index, finding: Finding) -> str:
    source = index.nearest_source(finding.urn)
    return f" ({escape(source.path)}:{source.line})" if source else ""


def _clause_key(clause: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in clause.split(".")) if clause else (10**6,)


def _not_checked(verdict: Verdict, index: Index) -> list[str]:
    if verdict.complete:
        return []
    lines = ["#### Not checked (these are not passes)", ""]
    for finding in index.ordered(verdict.unchecked):
        type_, name = index.type_and_name(finding.urn)
        lines.append(f"- {code(finding.policy)} on {escape(type_)} {code(name)}: {escape(finding.message)}")
    lines += [f"- remote component {escape(r.type)} `{escape(r.name)}`: its children were not expanded offline"
              for r in verdict.remote]
    lines += [f"- invoke {code(token)} not answered offline" for token in verdict.unanswered]
    return lines + [""]


def _changes(verdict: Verdict) -> list[str]:
    if verdict.diff is None:
        return []
    diff = verdict.diff
    lines = [f"#### Changes against {escape(diff.base)}", "", escape(diff.summary()), ""]
    if not diff.changed:
        return lines
    lines.append("```diff")
    for change in diff.changed:
        # diff highlighting keys on the first character; a replace is a removal and an addition
        text = change_lines(change)
        lines += [_diff_prefix(change.action) + line.replace("```", "'''") for line in text]
    return lines + ["```", ""]


def _diff_prefix(action: str) -> str:
    return "! " if action == "update" else ""  # `!` is GitHub's changed-line colour in a diff block


def _fit(text: str, limit: int, stack: str) -> str:
    """The report cut at whole lines to stay under `limit` characters, with a note on what was left out."""
    if len(text) <= limit:
        return text
    kept: list[str] = []
    size = 0
    lines = text.split("\n")
    for line in lines:
        if size + len(line) + 1 > limit - _ROOM:
            break
        kept.append(line)
        size += len(line) + 1
    dropped = len(lines) - len(kept)
    if sum(1 for line in kept if line.startswith("```")) % 2:
        kept.append("```")  # close the code block the cut left open
    kept += ["", f"**Truncated:** {plural(dropped, 'more line')} not shown (GitHub comments are limited to "
             f"{COMMENT_LIMIT:,} characters). Every violation is in the code-scanning upload; "
             f"`cdb preview --stack {stack} --format json` prints all of it."]
    return "\n".join(kept) + "\n"
