"""What the Flux namespace must hold: the operator plus every controller at the FluxInstance's size profile.

Upstream facts (reference only): the Flux controllers' own manifests limit each controller to
1000m CPU and 1Gi memory; the Flux Operator's `cluster.size` profiles replace some of those limits
(controlplaneio-fluxcd/flux-operator v0.58.1, the pinned chart's version, `internal/builder/profiles.go`):
small sets every controller to 1000m/512Mi; medium sets source, kustomize and helm controllers to
2000m/1Gi; large sets kustomize and helm to 3000m/3Gi and source to 2000m/2Gi. The operator's own chart
limits it to 2000m/1Gi. A controller Deployment rolls with the default surge (one extra pod of one
replica), and an upgrade of the FluxInstance rolls every controller in the same pass, so the quota
holds each pod twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from components import quantity

DEFAULT_LIMITS = ("1000m", "1Gi")
OPERATOR_LIMITS = ("2000m", "1Gi")
PROFILES: dict[str, dict[str, tuple[str, str]]] = {
    "small": {"*": ("1000m", "512Mi")},
    "medium": {c: ("2000m", "1Gi") for c in ("source-controller", "kustomize-controller", "helm-controller")},
    "large": {"kustomize-controller": ("3000m", "3Gi"), "helm-controller": ("3000m", "3Gi"),
              "source-controller": ("2000m", "2Gi")},
}
SURGE_FACTOR = 2  # every Deployment may run its old and its new pod at once during a rollout


@dataclass(frozen=True)
class Need:
    cpu: Decimal
    memory: Decimal
    pods: int

    def cpu_text(self) -> str:
        return format(self.cpu.normalize(), "f")

    def memory_text(self) -> str:
        gib = self.memory / (1024**3)
        return f"{format(gib.normalize(), 'f')}Gi" if gib == gib.to_integral_value() else f"{int(self.memory / 1024**2)}Mi"


def controller_limits(component: str, size: str) -> tuple[str, str]:
    profile = PROFILES[size]
    return profile.get(component) or profile.get("*") or DEFAULT_LIMITS


def namespace_need(components: tuple[str, ...], size: str) -> Need:
    """Limits the Flux namespace's quota must admit: operator and controllers, each with its surge pod."""
    limits = [OPERATOR_LIMITS, *(controller_limits(c, size) for c in components)]
    cpu = sum((quantity.parse_quantity(c) for c, _ in limits), Decimal(0)) * SURGE_FACTOR
    memory = sum((quantity.parse_quantity(m) for _, m in limits), Decimal(0)) * SURGE_FACTOR
    return Need(cpu=cpu, memory=memory, pods=len(limits) * SURGE_FACTOR)
