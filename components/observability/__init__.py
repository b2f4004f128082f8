"""Observability (clause 3): Prometheus, Grafana, Loki and an OpenTelemetry Collector, wired together."""

from components.observability.common import ScrapeTarget, WorkloadSettings
from components.observability.component import Observability, ObservabilityArgs

__all__ = ["Observability", "ObservabilityArgs", "ScrapeTarget", "WorkloadSettings"]
