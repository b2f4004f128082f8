"""Turn a small pure check plus its full metadata into a mandatory CrossGuard policy.

A rule is data (name, clause, German specification sentence, severity, remediation, tags) and a pure
function: ``check(resource_type, props) -> messages`` for a resource rule, or
``check(resources) -> (message, urn)`` pairs for a stack rule over the whole graph (parents,
dependencies). Keeping the check pure lets tests and the offline engine exercise it through the SDK
exactly as the Pulumi CLI would, with no policy-specific plumbing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from .objects import kind_of
from .podspec import PodTemplate, find_pod_template, may_hold_pod_template
from .unknowns import NotChecked, run_judging_unknowns

FRAMEWORK_NAME = "CDB_INFRA_POLICY"
FRAMEWORK_VERSION = "1.0.0"
DOCS_URL = "https://github.com/cdb/cdb-infra/blob/main/docs/policies.md#{name}"

# check(resource_type, props), or check(resource_type, props, config) for a rule with `config`.
Check = Callable[..., Iterable[str]]
PodCheck = Callable[[PodTemplate], Iterable[str]]
# A stack check yields (message, urn of the resource to blame, or None for the stack as a whole);
# check(resources), or check(resources, config) for a rule with `config`.
StackCheck = Callable[..., Iterable[tuple[str, str | None]]]


@dataclass(frozen=True, kw_only=True)
class RuleMetadata:
    """Everything a policy says about itself: the one base of resource and stack rules."""

    name: str
    description: str
    clause: str
    specification: str
    severity: Severity
    remediation: str
    tags: tuple[str, ...]
    # Pack config: JSON-schema properties, each with a default; when set, check gets the merged config
    # as its last argument (the CLI applies the defaults and validates bounds; tests call without Configure).
    config: Mapping[str, Mapping[str, Any]] | None = None

    kind: ClassVar[str]

    @property
    def url(self) -> str:
        return DOCS_URL.format(name=self.name)


@dataclass(frozen=True, kw_only=True)
class Rule(RuleMetadata):
    """A resource rule: its metadata plus a check of one resource's properties."""

    check: Check
    # Resource types the rule looks at; others are reported as not applicable (None: every type).
    applies_to: Callable[[str], bool] | None = None
    not_applicable_reason: str = ""

    kind: ClassVar[str] = "resource"


@dataclass(frozen=True, kw_only=True)
class StackRule(RuleMetadata):
    """A rule over the whole stack graph (AnalyzeStack): what no single object shows."""

    check: StackCheck

    kind: ClassVar[str] = "stack"


class NotApplicable(Exception):
    """Raised by a check that finds, from the properties, that the resource is out of its scope."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


NO_POD_TEMPLATE = "not a workload with a pod template"


class RulePolicy(ResourceValidationPolicy):
    """A resource policy that keeps its rule, so the servicer can skip types the rule does not apply to."""

    rule: Rule


class StackRulePolicy(StackValidationPolicy):
    rule: StackRule


def rule_config(rule: RuleMetadata, args: Any) -> dict[str, Any]:
    """The rule's config: schema defaults, overridden by what the engine configured."""
    defaults = {key: schema["default"] for key, schema in (rule.config or {}).items() if "default" in schema}
    configured = args.get_config() or {}
    return {**defaults, **{key: value for key, value in configured.items() if key in defaults}}


def _common(rule: RuleMetadata) -> dict[str, Any]:
    schema = (PolicyConfigSchema(properties={k: dict(v) for k, v in rule.config.items()})
              if rule.config else None)
    return dict(
        config_schema=schema,
        name=rule.name,
        description=rule.description,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=rule.severity,
        framework=PolicyComplianceFramework(
            name=FRAMEWORK_NAME,
            version=FRAMEWORK_VERSION,
            reference=rule.clause,
            specification=rule.specification,
        ),
        tags=list(rule.tags),
        remediation_steps=rule.remediation,
        url=rule.url,
    )


def build_stack_policy(rule: StackRule) -> StackValidationPolicy:
    """The mandatory StackValidationPolicy for a stack rule; each pair becomes one violation."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        # An unknown value makes the resource holding it "not checked"; the rest are still judged.
        check = (lambda resources: rule.check(resources, rule_config(rule, args))) if rule.config else rule.check
        violations, not_checked = run_judging_unknowns(check, args.resources)
        for message, urn in violations:
            report_violation(message, urn)
        if not_checked:
            raise NotChecked(not_checked)

    policy = StackRulePolicy(validate=validate, **_common(rule))
    policy.rule = rule
    return policy


def build_policy(rule: Rule | StackRule) -> ResourceValidationPolicy | StackValidationPolicy:
    """The mandatory policy for a rule; each message becomes one violation."""
    if isinstance(rule, StackRule):
        return build_stack_policy(rule)

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if rule.applies_to is not None and not rule.applies_to(args.resource_type):
            args.not_applicable(rule.not_applicable_reason or f"{args.resource_type} is out of scope")
        try:
            messages = list(rule.check(args.resource_type, args.props, rule_config(rule, args)) if rule.config
                            else rule.check(args.resource_type, args.props))
        except NotApplicable as scope:
            args.not_applicable(scope.reason)
        for message in messages:
            report_violation(message, None)

    policy = RulePolicy(validate=validate, **_common(rule))
    policy.rule = rule
    return policy


def pod_template_rule(*, check: PodCheck, **metadata: Any) -> Rule:
    """A rule over the pod template of every workload kind; other resource types are not applicable."""

    def run(resource_type: str, props: Mapping[str, Any]) -> Iterable[str]:
        template = find_pod_template(resource_type, props)
        if template is None:  # a Kubernetes object without a pod template, found out from its shape
            raise NotApplicable(NO_POD_TEMPLATE)
        return check(template)

    return Rule(
        check=run,
        applies_to=may_hold_pod_template,
        not_applicable_reason=NO_POD_TEMPLATE,
        **metadata,
    )


def kinds_rule(*, kinds: Iterable[tuple[str, str]] | None = None, **metadata: Any) -> Rule:
    """A rule over Kubernetes objects of the given (API group, kind) pairs; None means every object."""
    wanted = frozenset(kinds) if kinds is not None else None

    def applies(resource_type: str) -> bool:
        parsed = kind_of(resource_type)
        return parsed is not None and (wanted is None or parsed in wanted)

    reason = "not a Kubernetes object" if wanted is None else "not one of " + ", ".join(
        sorted(f"{group}/{kind}" for group, kind in wanted))
    return Rule(applies_to=applies, not_applicable_reason=reason, **metadata)
