"""The catalogue lists every policy, maps every sentence of the policy text, and docs/policies.md is
its current markdown output."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cdb_engine.judge.catalogue import SENTENCES, render_markdown
from cdb_cli import main
from policy_pack.rules import RULES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "policies.md"
NAMES = {rule.name for rule in RULES}
CLAUSES = ("2.1", "2.2", "2.3", "2.4", "3", "4.1", "4.2", "4.3", "5", "6", "7", "8")


def test_docs_policies_md_is_the_current_catalogue():
    assert DOCS.read_text(encoding="utf-8") == render_markdown(), (
        "docs/policies.md is stale; run `cdb policies --format markdown -o docs/policies.md`")


def test_every_sentence_is_enforced_by_a_policy_or_met_by_a_named_process_step():
    for clause, sentence, policies, process in SENTENCES:
        assert policies or process, f"{clause}: {sentence!r} is unmapped"
        assert set(policies) <= NAMES, set(policies) - NAMES
        assert all(step.strip() for step in process)


def test_every_clause_from_2_1_to_8_has_sentences_in_order():
    seen = [clause for clause, *_ in SENTENCES]
    assert list(dict.fromkeys(seen)) == list(CLAUSES)


def test_every_policy_is_named_by_a_sentence_of_its_own_clause():
    for rule in RULES:
        clauses = {clause for clause, _, policies, _ in SENTENCES if rule.name in policies}
        assert clauses, f"{rule.name} is mapped to no sentence"
        assert any(clause == rule.clause or clause.startswith(rule.clause + ".") for clause in clauses), rule.name


def test_every_policy_quotes_a_sentence_of_the_catalogue():
    sentences = {sentence.rstrip(".") for _, sentence, _, _ in SENTENCES}
    for rule in RULES:
        for part in re.split(r"(?<=\.) ", rule.specification):
            assert part.rstrip(".") in sentences, (rule.name, part)


def test_markdown_has_an_anchor_for_every_policy_url():
    markdown = render_markdown()
    for rule in RULES:
        anchor = rule.url.rsplit("#", 1)[1]
        assert f'<a id="{anchor}"></a>' in markdown


def test_cdb_policies_json_lists_every_policy_with_its_metadata(capsys):
    assert main(["policies", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    listed = {p["name"]: p for p in data["policies"]}
    assert set(listed) == NAMES
    assert listed["ai-no-vault-role"]["clause"] == "6" and listed["ai-no-vault-role"]["kind"] == "stack"
    assert all(p["remediation"] and p["severity"] and p["description"] for p in listed.values())


def test_cdb_policies_text_names_each_policy_and_the_clause_map(capsys):
    assert main(["policies"]) == 0
    out = capsys.readouterr().out
    assert "k8s-no-literal-secret-data  [clause 6, critical, resource]" in out
    assert "process: `cdb audit merge` in the merge workflow (WORM bucket)" in out


def test_cdb_policies_rejects_an_unknown_format():
    assert main(["policies", "--format", "yaml"]) == 2
