"""No rule writes into the properties it is given.

The pack's servicer decodes a request once and hands the same properties to every policy, so a rule
that wrote into them (a `setdefault`, a normalised list) would change what the policies after it see.
Every rule runs here on every case of the case tables, twice: on deep-frozen inputs (read-only
mappings and tuples: any write raises) with the same verdict as on plain data, and on plain data that
must equal its deep copy afterwards.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import Any

import pytest
from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions

from policy_pack.rules import RULES
from policy_pack.rules.helpers.metadata import NotApplicable, Rule, RuleMetadata, StackRule

from .cases import CASES
from .harness import Node
from .stack_cases import STACK_CASES

RESOURCE_RULES = [rule for rule in RULES if isinstance(rule, Rule)]
STACK_RULES = [rule for rule in RULES if isinstance(rule, StackRule)]
RESOURCES = [case.resource for table in CASES.values() for cases in table.values() for case in cases]
STACKS = [(f"{name}-{label}", build) for name, table in STACK_CASES.items() for cases in table.values()
          for label, build, _ in cases]


def frozen(value: Any) -> Any:
    """A read-only deep copy: mappings become MappingProxyType, lists tuples."""
    if isinstance(value, dict):
        return MappingProxyType({key: frozen(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(frozen(item) for item in value)
    return value


def _config(rule: RuleMetadata) -> dict[str, Any]:
    return {key: schema["default"] for key, schema in (rule.config or {}).items() if "default" in schema}


def _resource_verdict(rule: Rule, resource_type: str, props: Any) -> list[str] | str:
    if rule.applies_to is not None and not rule.applies_to(resource_type):
        return "not applicable"
    try:
        args = (resource_type, props, _config(rule)) if rule.config else (resource_type, props)
        return list(rule.check(*args))
    except NotApplicable as scope:
        return f"not applicable: {scope.reason}"


def _policy_resources(nodes: list[Node], wrap: Callable[[Any], Any]) -> list[PolicyResource]:
    made: dict[str, PolicyResource] = {}
    for n in nodes:  # parents and dependencies are filled in below, once every node exists
        opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)
        made[n.name] = PolicyResource(n.type, wrap(n.props), n.urn, n.name, opts, None, None, [], {})
    for n in nodes:
        made[n.name].parent = made[n.parent] if n.parent else None
        made[n.name].dependencies = [made[d] for d in n.dependencies]
    return list(made.values())


def _stack_verdict(rule: StackRule, resources: Iterable[PolicyResource]) -> list[tuple[str, str | None]]:
    listed = list(resources)
    return list(rule.check(listed, _config(rule)) if rule.config else rule.check(listed))


@pytest.mark.parametrize("rule", RESOURCE_RULES, ids=[rule.name for rule in RESOURCE_RULES])
def test_a_resource_rule_never_writes_into_the_properties_it_judges(rule: Rule) -> None:
    for resource_type, props in RESOURCES:
        before = copy.deepcopy(props)
        plain = _resource_verdict(rule, resource_type, props)
        assert props == before, f"{rule.name} changed the properties of {resource_type}"
        assert _resource_verdict(rule, resource_type, frozen(props)) == plain, resource_type


@pytest.mark.parametrize("rule", STACK_RULES, ids=[rule.name for rule in STACK_RULES])
def test_a_stack_rule_never_writes_into_the_resources_it_judges(rule: StackRule) -> None:
    for label, build in STACKS:
        nodes = build()
        before = copy.deepcopy([n.props for n in nodes])
        plain = _stack_verdict(rule, _policy_resources(nodes, lambda props: props))
        assert [n.props for n in nodes] == before, f"{rule.name} changed a resource of {label}"
        assert _stack_verdict(rule, _policy_resources(nodes, frozen)) == plain, label


def test_the_frozen_inputs_refuse_every_write() -> None:
    props = frozen({"spec": {"containers": [{"name": "web"}]}})
    with pytest.raises(TypeError):
        props["spec"]["extra"] = 1
    with pytest.raises(AttributeError):
        props["spec"]["containers"].append({})  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        props["spec"].setdefault("volumes", [])  # type: ignore[attr-defined]


def test_a_rule_that_writes_into_its_properties_is_caught() -> None:
    def normalising(resource_type: str, props: Any) -> list[str]:
        props.setdefault("metadata", {}).setdefault("labels", {})  # the write the tests above forbid
        return []

    template = RESOURCE_RULES[0]
    writer = Rule(name="writer", description="", clause="", specification="", severity=template.severity,
                  remediation="", tags=(), check=normalising)
    resource_type, props = RESOURCES[0]
    with pytest.raises(AttributeError):
        _resource_verdict(writer, resource_type, frozen(props))
    plain = copy.deepcopy(props)
    plain.pop("metadata", None)
    _resource_verdict(writer, resource_type, plain)
    assert "metadata" in plain
