"""Clause 8, "Keine Ausnahmen": the pack refuses any configuration that weakens one of its policies.

The Pulumi CLI (and the offline engine, which mirrors it) applies the policy config file, including its
``all`` key, and then tells the pack every policy's enforcement level in the ``Configure`` RPC. That
RPC is the only place a pack learns its config, so the refusal lives there: ``RefuseWeakening`` is a
mixin for the pack's Analyzer servicer whose Configure fails, with one line naming the policies and
this clause, when any of them would be anything but mandatory. The preview then stops with an error.
Remediate is refused too: no policy here remediates, so the level could only blur the verdict.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi.runtime.proto import analyzer_pb2 as proto

CLAUSE_8 = "CDB_INFRA_POLICY clause 8 (Keine Ausnahmen)"
LEVEL_NAMES: dict[int, str] = {proto.ADVISORY: "advisory", proto.MANDATORY: "mandatory", proto.DISABLED: "disabled",
               proto.REMEDIATE: "remediate"}
SHOWN = 5


class PolicyConfigRefused(ValueError):
    """Configuration that would weaken the pack; the message is the one-line reason."""


def refusal(levels: Mapping[str, int], policy_names: Iterable[str]) -> str | None:
    """Why a Configure request must be refused, or None when every policy stays mandatory.

    ``levels`` maps policy names to proto enforcement levels as the Configure request carries them.
    """
    lowered = [(name, levels[name]) for name in policy_names if name in levels and levels[name] != proto.MANDATORY]
    if not lowered:
        return None
    shown = ", ".join(f"{name}={LEVEL_NAMES.get(level, str(level))}" for name, level in lowered[:SHOWN])
    more = f" and {len(lowered) - SHOWN} more" if len(lowered) > SHOWN else ""
    return (f"policy config refused: {shown}{more}; {CLAUSE_8} keeps every policy of this pack mandatory. "
            'Remove the enforcement levels (and any "all" key) from the policy config and fix the violations')


class RefuseWeakening:
    """Mixin for the pack's Analyzer servicers (server.Servicer, server.StockServicer): Configure refuses
    any level but mandatory. The servicer names its policies in `policy_names`."""

    policy_names: tuple[str, ...]

    def Configure(self, request: Any, context: Any) -> Any:  # noqa: N802 (gRPC method name)
        levels = {name: request.policyConfig[name].enforcementLevel for name in request.policyConfig}
        reason = refusal(levels, self.policy_names)
        if reason is not None:
            if context is not None:
                import grpc

                context.abort(grpc.StatusCode.FAILED_PRECONDITION, reason)
            raise PolicyConfigRefused(reason)
        return super().Configure(request, context)  # type: ignore[misc]
