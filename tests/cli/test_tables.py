"""Tables (rich) for a person at a terminal; the plain lines, byte for byte, everywhere else."""

from __future__ import annotations

import re

from cdb_engine.judge.catalogue import render_text, sorted_entries

from .terminal import in_pipe, in_terminal, person_env

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_policies_at_a_terminal_are_two_tables_holding_every_policy_and_fix():
    code, shown = in_terminal("policies", "--color", "never")
    assert code == 0 and not ANSI.search(shown)
    policies, _, sentences = shown.partition("Clause by clause")
    assert re.search(r"┃ Policy +┃ Clause ┃ Severity ┃ Scope +┃ What it requires / how to fix it +┃", policies)
    for entry in sorted_entries():
        assert re.search(rf"│ {re.escape(entry.name)} +│ {re.escape(entry.clause)} +│ {entry.severity} +│", policies)
    flat = " ".join(cell.strip() for line in policies.splitlines() for cell in line.split("│")[5:6])
    assert "fix: Set metadata.labels" in flat  # remediation text is there, wrapped within its column
    assert "│ 8 " in sentences and "policy: k8s-provenance-metadata" in sentences
    assert max(len(line) for line in shown.splitlines()) <= 110  # fits the terminal


def test_policies_with_colour_at_a_terminal_are_coloured_and_in_a_pipe_are_the_plain_catalogue():
    code, shown = in_terminal("policies", "--color", "always")
    assert code == 0 and ANSI.search(shown)
    piped = in_pipe("policies")
    assert piped.returncode == 0 and piped.stdout == render_text() and "┃" not in piped.stdout


def test_ci_gets_the_plain_catalogue_even_in_a_terminal():
    code, shown = in_terminal("policies", env=person_env() | {"CI": "true"})
    assert code == 0 and shown == render_text()
