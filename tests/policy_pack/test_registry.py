"""The layout of the rules package is its separation: rule modules at the top, shared helpers below.

Every module directly in policy_pack/rules/ is a rule module listed in RULE_MODULES and exports RULES;
every module in policy_pack/rules/helpers/ exports none. A helper left at the top, or a rule hidden
among the helpers, fails here.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import policy_pack.rules as registry
import policy_pack.rules.helpers as helpers
from policy_pack.rules.helpers.metadata import RuleMetadata

PACKAGE = Path(registry.__file__).parent


def test_the_rules_package_holds_rule_modules_and_one_helpers_package() -> None:
    entries = list(pkgutil.iter_modules([str(PACKAGE)]))
    assert [e.name for e in entries if e.ispkg] == ["helpers"]
    on_disk = {e.name for e in entries if not e.ispkg}
    listed = [m.__name__.rsplit(".", 1)[-1] for m in registry.RULE_MODULES]
    assert len(set(listed)) == len(listed), "a rule module is listed twice"
    assert set(listed) == on_disk, "every module beside the registry is a listed rule module"


def test_every_rule_module_exports_rules() -> None:
    for module in registry.RULE_MODULES:
        assert module.__name__.startswith("policy_pack.rules.") and ".helpers." not in module.__name__
        assert module.RULES and all(isinstance(rule, RuleMetadata) for rule in module.RULES), module.__name__


def test_nothing_in_the_helpers_package_exports_rules() -> None:
    found = list(pkgutil.walk_packages(helpers.__path__, prefix="policy_pack.rules.helpers."))
    assert len(found) >= 10, found  # the walk sees the helpers (access, metadata, podspec, ...)
    for info in found:
        helper = importlib.import_module(info.name)
        assert not hasattr(helper, "RULES"), f"{info.name} is a helper but exports RULES: move it up to rules/"
    assert not hasattr(helpers, "RULES")
