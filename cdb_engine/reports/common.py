"""What every report format shares: one ordering, one set of counts, one way to name a resource.

Findings are ordered by the pack's policy order, then by the resources' order in the verdict, so the
three formats list the same things in the same order and two runs over the same input are identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata

from cdb_engine.model import Finding, Resource, SourceLocation, Verdict

TOOL_NAME = "cdb"
DISTRIBUTION = "cdb-infra"
INFORMATION_URI = "https://github.com/cdb/cdb-infra"
FRAMEWORK = "CDB_INFRA_POLICY"
MANDATORY_LEVELS = ("mandatory", "remediate")  # the engine downgrades a reporting remediation to mandatory


@lru_cache(maxsize=1)
def tool_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+unknown"


def is_mandatory(finding: Finding) -> bool:
    return finding.enforcement in MANDATORY_LEVELS  # the same test as Verdict.mandatory


def clause_label(clause: str) -> str:
    return f"{FRAMEWORK} {clause}" if clause else f"{FRAMEWORK} (no clause)"


def pack_label(verdict: Verdict) -> str:
    return f"{verdict.pack.name}@v{verdict.pack.version}" if verdict.pack else "(no policy pack ran)"


def urn_type_and_name(urn: str) -> tuple[str, str]:
    """Type and name from an engine URN `urn:pulumi:stack::project::[parent$]type::name`."""
    parts = urn.split("::", 3)
    if len(parts) < 4:
        return "", urn
    return parts[2].rsplit("$", 1)[-1], parts[3]


class Index:
    """Fast look-ups shared by the renderers (6,000 resources must not mean quadratic scans)."""

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict
        self.by_urn: dict[str, Resource] = {r.urn: r for r in verdict.resources}
        self.position: dict[str, int] = {r.urn: i for i, r in enumerate(verdict.resources)}
        policies = verdict.pack.policies if verdict.pack else ()
        self.policy_position: dict[str, int] = {p.name: i for i, p in enumerate(policies)}

    def type_and_name(self, urn: str) -> tuple[str, str]:
        resource = self.by_urn.get(urn)
        if resource is not None:
            return resource.type, resource.name
        if not urn:
            return "pulumi:pulumi:Stack", self.verdict.stack  # stack policies without a resource
        return urn_type_and_name(urn)

    def nearest_source(self, urn: str) -> SourceLocation | None:
        """The resource's own source, else its closest ancestor's (a component's line in the program)."""
        seen: set[str] = set()
        resource = self.by_urn.get(urn)
        while resource is not None and resource.urn not in seen:
            if resource.source is not None:
                return resource.source
            seen.add(resource.urn)
            resource = self.by_urn.get(resource.parent) if resource.parent else None
        return None

    def ordered(self, findings: list[Finding]) -> list[Finding]:
        last = len(self.position) + len(self.policy_position)
        return sorted(
            findings,
            key=lambda f: (
                self.policy_position.get(f.policy, last), f.policy,
                self.position.get(f.urn, last), f.urn, f.message,
            ),
        )


@dataclass(frozen=True)
class Summary:
    resources: int
    create: int
    mandatory: int
    advisory: int
    unchecked: int
    remote: int
    errors: int
    exit_code: int
    unanswered: int = 0
    accepted: bool = False  # an incomplete verdict a reviewer accepted with --accept-incomplete

    @property
    def outcome(self) -> str:
        """error: not judged; failed: mandatory violations; incomplete: none among what could be checked
        but not everything was (exit 3); passed: complete, or incomplete and accepted."""
        return {2: "error", 1: "failed", 3: "incomplete"}.get(self.exit_code, "passed")

    @property
    def complete(self) -> bool:
        """True only when everything was checked: nothing unknown, no unexpanded remote component."""
        return not (self.unchecked or self.remote or self.unanswered or self.errors)


def summarize(verdict: Verdict) -> Summary:
    mandatory = len(verdict.mandatory)
    return Summary(
        resources=len(verdict.resources),
        create=len(verdict.resources),  # offline there is no state: every resource is a create
        mandatory=mandatory,
        advisory=len(verdict.violations) - mandatory,
        unchecked=len(verdict.unchecked),
        remote=len(verdict.remote),
        errors=len(verdict.errors),
        exit_code=verdict.exit_code(),
        unanswered=len(verdict.unanswered),
        accepted=verdict.accept_incomplete and not verdict.complete,
    )


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
