"""Stack rules and values unknown during preview: one unknown makes one resource "not checked".

The SDK runs a stack policy over the whole graph; the first unknown value it touches raises and the
whole policy becomes one advisory "can't run" line, so a non-compliant resource next to one with an
unknown value went unjudged and the preview passed. Here every resource holding an unknown value is
read through a tag that names it; when a check touches one, that resource is set aside as not checked
and the check runs again over the rest. What the rerun finds on resources that relate to a set-aside
one (graph edges: parent, dependencies; for Kubernetes objects, the same namespace), and stack-wide
findings, could be an effect of setting it aside: those are not checked either, never violations.
The servicer reports what is not checked per resource (`NotChecked.not_checked`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .access import get, is_mapping

if TYPE_CHECKING or (__package__ or "").count(".") > 1:  # policy_pack.rules.helpers, or a copy of the pack
    from ...sdk_adapter import UnknownValueError, is_checking_proxy  # imported as a package
else:  # `rules.helpers`, when the Pulumi CLI runs the pack from its directory
    from sdk_adapter import UnknownValueError, is_checking_proxy


class UnknownIn(UnknownValueError):
    """An unknown value read from one resource's properties."""

    def __init__(self, urn: str, error: UnknownValueError) -> None:
        Exception.__init__(self, error.message)
        self.message = error.message
        self.urn = urn


class NotChecked(UnknownValueError):
    """Raised by a stack policy after it reported its violations: (urn, reason) pairs it could not judge.

    The pack's servicer turns each into an advisory "can't run policy" diagnostic on that resource,
    exactly as the SDK reports an unknown value for a resource policy. The SDK's own servicer (the stock
    path, server.StockServicer) knows only UnknownValueError: it reports one such diagnostic for the
    whole policy, so the verdict is "not checked" there too, never a pass or a crash.
    """

    def __init__(self, not_checked: list[tuple[str, str]]) -> None:
        reasons = "; ".join(f"{urn or 'the stack'}: {reason}" for urn, reason in not_checked)
        Exception.__init__(self, f"{len(not_checked)} resources not checked")
        self.message = f"{len(not_checked)} resources not checked ({reasons})"
        self.not_checked = not_checked


class NotJudged(NamedTuple):
    """What a stack check yields instead of a violation for something it cannot judge from the stack
    (e.g. the receiving end of a flow to a workload the program does not contain): listed as not checked
    with the reason, never passed silently and never a violation."""

    reason: str
    urn: str | None


def _split(found: list[tuple[str, str | None]]) -> tuple[list[tuple[str, str | None]], list[tuple[str, str]]]:
    judged = [f for f in found if not isinstance(f, NotJudged)]
    return judged, [(f.urn or "", f.reason) for f in found if isinstance(f, NotJudged)]


class _Tagged(Mapping[str, Any]):
    __slots__ = ("_target", "_urn")

    def __init__(self, target: Mapping[str, Any], urn: str) -> None:
        self._target, self._urn = target, urn

    def __getitem__(self, key: Any) -> Any:
        try:
            value = self._target[key]
        except UnknownIn:
            raise
        except UnknownValueError as error:
            raise UnknownIn(self._urn, error) from None
        return _tag(value, self._urn)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._target)

    def __len__(self) -> int:
        return len(self._target)


class _TaggedList(Sequence[Any]):
    __slots__ = ("_target", "_urn")

    def __init__(self, target: Sequence[Any], urn: str) -> None:
        self._target, self._urn = target, urn

    def __getitem__(self, index: Any) -> Any:
        try:
            value = self._target[index]
        except UnknownValueError as error:
            raise UnknownIn(self._urn, error) from None
        return _tag(value, self._urn)

    def __len__(self) -> int:
        return len(self._target)


def _tag(value: Any, urn: str) -> Any:
    if isinstance(value, (str, bytes, int, float, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return _Tagged(value, urn)
    if isinstance(value, Sequence):
        return _TaggedList(value, urn)
    return value


def tag_unknowns(resources: Sequence[Any]) -> None:
    """Read every resource holding unknown values through a tag naming it (once per graph)."""
    for resource in resources:
        if is_checking_proxy(resource.props):
            resource.props = _Tagged(resource.props, resource.urn)


def _namespace(resource: Any) -> Any:
    try:
        metadata = get(resource.props, "metadata")
        return get(metadata, "namespace") if is_mapping(metadata) else None
    except UnknownValueError:
        return None


def _related(resource: Any, aside: Any) -> bool:
    if resource is aside or resource.parent is aside or aside.parent is resource:
        return True
    if aside in resource.dependencies or resource in aside.dependencies:
        return True
    if any(aside in deps for deps in resource.property_dependencies.values()):
        return True
    if any(resource in deps for deps in aside.property_dependencies.values()):
        return True
    namespace = _namespace(aside)
    return namespace is not None and _namespace(resource) == namespace


def run_judging_unknowns(
    check: Callable[[Sequence[Any]], Iterable[tuple[str, str | None]]], resources: Sequence[Any],
) -> tuple[list[tuple[str, str | None]], list[tuple[str, str]]]:
    """(violations, not checked) of a stack check, setting aside each resource whose unknown it touches.

    An unknown that cannot be pinned to one resource raises as before: the whole policy is not checked.
    """
    tag_unknowns(resources)
    aside: dict[str, tuple[Any, str]] = {}
    while True:
        remaining = [r for r in resources if r.urn not in aside]
        try:
            found = list(check(remaining))
        except UnknownIn as error:
            if error.urn in aside:  # reached again through a graph edge: it cannot be isolated
                raise
            resource = next(r for r in resources if r.urn == error.urn)
            aside[error.urn] = (resource, error.message)
            continue
        break
    found, not_judged = _split(found)
    not_checked = [(urn, message) for urn, (_, message) in aside.items()] + not_judged
    if not aside:
        return found, not_checked
    violations = []
    by_urn = {r.urn: r for r in resources}
    for message, urn in found:
        subject = by_urn.get(urn) if urn else None
        if subject is None or any(_related(subject, r) for r, _ in aside.values()):
            not_checked.append((urn or "", f"{message} (may follow from a value unknown during preview)"))
        else:
            violations.append((message, urn))
    return violations, not_checked
