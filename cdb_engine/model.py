"""Plain data passed between the engine's stages: collected resources, the pack's verdict, the report.

Properties are kept in Pulumi wire form (a JSON-like dict as the Analyzer receives it): unknown values
are the engine's sentinel strings and secrets are signature envelopes, so what the pack sees offline is
what it would see from the Pulumi CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

ResourceOrigin = Literal["program", "manifest", "engine"]

# Resources whose contents no analyzer sees as resources: a Helm v3 Release is installed by the
# provider as one opaque object, so the chart's workloads are judged neither here nor by the CLI.
# Helm v2/v3 Charts and kustomize Directories (v1) expand in the program through invokes (`helm
# template`, `kustomize build`) that need the tools and the charts: offline they have no children.
OPAQUE_TYPES = frozenset({
    "kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v3:Chart", "kubernetes:helm.sh/v2:Chart",
    "kubernetes:kustomize:Directory",
})


@dataclass(frozen=True)
class SourceLocation:
    """Where a resource was declared: a program line (preview) or a YAML document (check)."""

    path: str
    line: int
    column: int = 1


@dataclass(frozen=True)
class Resource:
    """One registration, in the shape the engine hands to analyzers."""

    urn: str
    type: str
    name: str
    custom: bool
    properties: dict[str, Any]
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    remote: bool = False
    provider: str = ""
    expanded: bool = False  # a remote component the offline engine expanded as its provider would
    transforms: int = 0  # resource transforms the program attached (the engine runs them on children)
    source: SourceLocation | None = None
    # The inputs exactly as registered, a serialised protobuf Struct (program resources only): the
    # Analyzer request is parsed from it in C instead of being rebuilt from `properties` in Python.
    wire: bytes | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class PolicyMeta:
    """What the pack says about one of its policies (from GetAnalyzerInfo)."""

    name: str
    description: str
    enforcement: str
    severity: str
    clause: str
    kind: Literal["resource", "stack"]
    remediation: str = ""
    url: str = ""


@dataclass(frozen=True)
class PackMeta:
    name: str
    version: str
    path: str
    policies: tuple[PolicyMeta, ...]

    def policy(self, name: str) -> PolicyMeta | None:
        return self._by_name.get(name)

    @cached_property
    def _by_name(self) -> dict[str, PolicyMeta]:  # one lookup per finding, thousands of findings
        return {p.name: p for p in self.policies}


@dataclass(frozen=True)
class Finding:
    """A diagnostic of the pack. `message` is the violation text without the policy description."""

    policy: str
    enforcement: str
    severity: str
    clause: str
    urn: str
    message: str
    description: str = ""


@dataclass
class Verdict:
    """Everything one run found. `errors` means the run could not be judged: exit code 2."""

    mode: Literal["preview", "check"]
    project: str
    stack: str
    resources: list[Resource]
    pack: PackMeta | None = None
    violations: list[Finding] = field(default_factory=list)
    unchecked: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # (path, what it is) for every file or folder `cdb check` left out because it holds no objects.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # Invokes the offline engine could not answer (their results were empty): what a program built from
    # them was never seen as the engine would see it.
    unanswered: list[str] = field(default_factory=list)
    # A reviewer's explicit acceptance of an incomplete verdict (`--accept-incomplete`): exit 0, not 3.
    accept_incomplete: bool = False
    # `cdb preview --diff BASE`: what the run changes against the base (an engine.diff.Diff), else None.
    diff: Any = None

    @property
    def remote(self) -> list[Resource]:
        """Resources whose children the pack cannot see offline: remote components and opaque releases."""
        return [r for r in self.resources if (r.remote and not r.expanded) or r.type in OPAQUE_TYPES]

    @property
    def complete(self) -> bool:
        """Everything was judged: nothing not checked, nothing unexpanded, every invoke answered."""
        return not (self.unchecked or self.remote or self.unanswered)

    @property
    def mandatory(self) -> list[Finding]:
        return [v for v in self.violations if v.enforcement in ("mandatory", "remediate")]

    def exit_code(self) -> int:
        """0 compliant and complete; 1 mandatory violations; 2 not judged; 3 no violation among what was
        judged, but something was not (an incomplete verdict is not a pass unless a reviewer accepts it)."""
        if self.errors:
            return 2
        if self.mandatory:
            return 1
        return 0 if self.complete or self.accept_incomplete else 3
