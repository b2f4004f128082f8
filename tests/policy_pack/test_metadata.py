"""Lint of the pack's metadata: every policy is mandatory and says what it enforces and how to fix it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity, StackValidationPolicy

from policy_pack.rules import PACK_DESCRIPTION, PACK_NAME, POLICIES, RULE_MODULES, RULES

from .harness import PACK_VERSION

PACK_DIR = Path(__file__).resolve().parents[2] / "policy_pack"
# Clause 5 of CDB_INFRA_POLICY 1.0.0, word for word (rules and enforcement lines).
CLAUSE_5_SENTENCES = {
    "Stateless Services",
    "Config nur via ENV/ConfigMaps/Secrets",
    "Health-, Readiness-, Liveness-Endpunkte",
    "Resource Requests & Limits",
    "Keine lokalen Pfadabhängigkeiten",
    "CI prüft Container-Images auf diese Kriterien",
    "Nicht-konforme Services sind nicht mergefähig",
}
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
CLAUSES = {"2.1", "2.2", "2.3", "2.4", "3", "4", "4.1", "4.2", "4.3", "5", "6", "7", "8"}
BY_NAME = {policy.name: policy for policy in POLICIES}


def test_pack_name_matches_the_conventions():
    assert PACK_NAME == "cdb-infra-policy"


def test_policy_names_are_unique_and_kebab_case():
    names = [policy.name for policy in POLICIES]
    assert len(names) == len(set(names))
    assert all(KEBAB.match(name) for name in names), names


def test_registry_builds_one_policy_per_rule_of_every_listed_module():
    assert [rule.name for rule in RULES] == [policy.name for policy in POLICIES]
    assert sum(len(module.RULES) for module in RULE_MODULES) == len(POLICIES)


def test_stack_rules_become_stack_policies_and_resource_rules_resource_policies():
    expected = {"resource": ResourceValidationPolicy, "stack": StackValidationPolicy}
    for rule, policy in zip(RULES, POLICIES, strict=True):
        assert isinstance(policy, expected[rule.kind]), rule.name


@pytest.mark.parametrize("name", list(BY_NAME))
def test_policy_carries_full_mandatory_metadata(name):
    policy = BY_NAME[name]
    assert isinstance(policy, (ResourceValidationPolicy, StackValidationPolicy))
    assert policy.enforcement_level is EnforcementLevel.MANDATORY
    assert isinstance(policy.severity, Severity)
    assert policy.description.strip() and policy.description.endswith(".")
    framework = policy.framework
    assert framework is not None
    assert (framework.name, framework.version) == ("CDB_INFRA_POLICY", "1.0.0")
    assert framework.reference in CLAUSES
    assert framework.specification and framework.specification.strip()
    assert policy.remediation_steps and len(policy.remediation_steps) > 40
    assert policy.url == f"https://github.com/cdb/cdb-infra/blob/main/docs/policies.md#{name}"
    assert policy.tags and all(KEBAB.match(tag) for tag in policy.tags)


@pytest.mark.parametrize("name", list(BY_NAME))
def test_baseline_policies_are_clause_5_and_tagged_baseline(name):
    policy = BY_NAME[name]
    if name.startswith("k8s-pss-") or name == "k8s-image-pinned":
        assert policy.framework.reference == "5"
        assert "baseline" in policy.tags
    else:
        assert "baseline" not in policy.tags


@pytest.mark.parametrize("name", [n for n, p in BY_NAME.items() if p.framework.reference == "5"])
def test_clause_5_specifications_quote_the_canonical_sentences(name):
    for sentence in re.split(r"(?<=\.) ", BY_NAME[name].framework.specification):
        assert sentence.rstrip(".") in CLAUSE_5_SENTENCES, sentence


def test_pack_yaml_gives_the_version_the_tests_use_and_the_pack_description():
    manifest = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    assert str(manifest["version"]) == PACK_VERSION
    assert manifest["description"] == PACK_DESCRIPTION
