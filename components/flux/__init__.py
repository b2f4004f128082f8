"""Flux GitOps (CDB_INFRA_POLICY 2.2, 2.3): typed arguments, the object specs, and the component."""

from components.flux.args import FluxArgs
from components.flux.component import FLUX_TYPE, Flux
from components.flux.duration import check_interval, parse_duration
from components.flux.specs import ALERT_KINDS, helm_release_spec

__all__ = ["ALERT_KINDS", "FLUX_TYPE", "Flux", "FluxArgs", "check_interval", "helm_release_spec", "parse_duration"]
