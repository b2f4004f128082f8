"""The rules package keeps rule modules and helper modules apart, both listed in its registry."""

from __future__ import annotations

import importlib
from pathlib import Path

import policy_pack.rules as registry
from policy_pack.rules.helpers.metadata import RuleMetadata

PACKAGE = Path(registry.__file__).parent


def test_every_module_of_the_rules_package_is_a_listed_rule_module_or_a_listed_helper() -> None:
    on_disk = {p.stem for p in [*PACKAGE.glob("*.py"), *(PACKAGE / "helpers").glob("*.py")] if p.stem != "__init__"}
    rule_modules = [m.__name__.rsplit(".", 1)[-1] for m in registry.RULE_MODULES]
    helpers = list(registry.HELPER_MODULES)
    assert len(set(rule_modules)) == len(rule_modules) and len(set(helpers)) == len(helpers)
    assert not set(rule_modules) & set(helpers), "a module is a rule module or a helper, not both"
    assert set(rule_modules) | set(helpers) == on_disk


def test_rule_modules_export_rules_and_helpers_export_none() -> None:
    for module in registry.RULE_MODULES:
        assert module.RULES and all(isinstance(rule, RuleMetadata) for rule in module.RULES), module.__name__
    for name in registry.HELPER_MODULES:
        helper = importlib.import_module(f"policy_pack.rules.helpers.{name}")
        assert not hasattr(helper, "RULES"), f"{name} is listed as a helper but exports RULES"
