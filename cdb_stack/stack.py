"""The stack's composition: the only module that knows the whole topology.

`plan_stack` turns settings into validated component arguments first, so every refusal (an unpinned
image, a secret-like literal env var, limits below requests, an AI service with secrets) stops the
program before any resource is built and is reported against the config key that caused it.
`build_stack` then builds the components from the plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from components import conventions
from components.config import EnvVar
from components.errors import ComponentArgsError
from components.network import Destination, Peer
from components.provenance import Provenance
from components.service import StatelessService, declared_flows
from components.service_args import StatelessServiceArgs
from components.types import Probe
from components.zone import Zone, ZoneArgs
from cdb_core.errors import SettingsError
from cdb_stack.parts import BuildContext, PlanContext, parts
from cdb_stack.revision import git_revision
from cdb_stack.settings import NAMESPACE, ServiceSettings, StackSettings, ZoneSettings
from cdb_stack.settings_words import join_path, yaml_words

CONFIG_MAP_SUFFIX = "config"


@dataclass(frozen=True)
class ServicePlan:
    args: StatelessServiceArgs
    config: dict[str, str]


@dataclass(frozen=True)
class StackPlan:
    settings: StackSettings
    provenance: Provenance
    context: PlanContext
    zones: dict[str, ZoneArgs] = field(default_factory=dict)
    services: dict[str, ServicePlan] = field(default_factory=dict)
    parts: dict[str, Any] = field(default_factory=dict)  # part KEY -> what its plan() returned


def _zone_args(zone: ZoneSettings, provenance: Provenance) -> ZoneArgs:
    return ZoneArgs.parse(
        {
            "provenance": provenance,
            "namespace": zone.name,
            "quota": {"limits.cpu": zone.cpu_quota, "limits.memory": zone.memory_quota, "pods": str(zone.pod_quota)},
        },
        owner=f"Zone {zone.name!r}",
    )


def _service_args(svc: ServiceSettings, provenance: Provenance) -> StatelessServiceArgs:
    env = [EnvVar.literal(k, v) for k, v in svc.env.items()]
    env += [EnvVar.from_config_map(k, f"{svc.name}-{CONFIG_MAP_SUFFIX}", k) for k in svc.config]
    env += [EnvVar.from_secret(k, ref.secret, ref.key) for k, ref in svc.secret_env.items()]
    return StatelessServiceArgs.parse(
        {
            "provenance": provenance,
            "namespace": svc.zone,
            "image": svc.image,
            "port": svc.port,
            "replicas": svc.replicas,
            "workload_class": svc.workload_class,
            "resources": svc.resources.to_resources(),
            "liveness": Probe.http_get(svc.liveness_path),
            "readiness": Probe.http_get(svc.readiness_path),
            "env": tuple(env),
            "ingress_from": tuple(Peer(namespace=z) for z in svc.ingress_from),
            "egress_to": tuple(Destination(namespace=z, ports=(svc.port,)) for z in svc.egress_to),
        },
        owner=f"StatelessService {svc.name!r}",
    )


def plan_stack(settings: StackSettings, project: str, stack: str, source: str = "config") -> StackPlan:
    """Validate everything the components will be given; raise SettingsError naming the config key."""
    provenance = Provenance(settings.part_of, git_revision(settings.git_revision), f"{project}/{stack}")
    context = PlanContext(project, stack, settings.environment.value, provenance, settings)
    plan = StackPlan(settings, provenance, context)
    for key, items, make, renames in (
        ("zones", settings.zones, lambda z: _zone_args(z, provenance), _ZONE_KEYS),
        ("services", settings.services, lambda s: ServicePlan(_service_args(s, provenance), dict(s.config)),
         _SERVICE_KEYS),
    ):
        target = plan.zones if key == "zones" else plan.services
        for i, item in enumerate(items):
            try:
                target[item.name] = make(item)
            except (ComponentArgsError, ValueError) as exc:
                where, detail = join_path(f"{key}[{i}]", _without_owner(str(exc).splitlines()[0]), renames)
                raise SettingsError(f"{source}: {NAMESPACE}:{where}: {yaml_words(detail)}") from None
    for part in parts():
        try:
            plan.parts[part.KEY] = part.plan(getattr(settings, _field(part.KEY)), context)
        except (ComponentArgsError, ValueError) as exc:
            where, detail = join_path(part.KEY, _without_owner(str(exc).splitlines()[0]))
            raise SettingsError(f"{source}: {NAMESPACE}:{where}: {yaml_words(detail)}") from None
    return plan


# A component's field path -> the settings key it is built from (see _zone_args and _service_args).
_ZONE_KEYS = {"namespace": "name", "quota.limits.cpu": "cpuQuota", "quota.limits.memory": "memoryQuota",
              "quota.pods": "podQuota"}
_SERVICE_KEYS = {"namespace": "zone", "liveness": "livenessPath", "readiness": "readinessPath"}


def _without_owner(text: str) -> str:
    """`Zone 'apps': quota...` -> `quota...`: the config key already says which item it is."""
    return re.sub(r"^(?:[A-Z]\w*|\w+(?= '))(?: '[^']*')?: ", "", text)


def _field(key: str) -> str:
    """camelCase config key -> snake_case settings field."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


def with_client_flows(args: StatelessServiceArgs, flows: list[dict[str, Any]]) -> StatelessServiceArgs:
    """`args` whose pod template also declares `flows` (beside its own egress flows), so the pack's
    connectivity rule judges them: a policy that cuts the zone off a server it is a client of is caught."""
    if not flows:
        return args
    own = declared_flows(args)
    return StatelessServiceArgs.model_validate(
        {**dict(args), "pod_annotations": {**dict(args.pod_annotations), **conventions.flows_annotation([*own, *flows])}})


def build_stack(plan: StackPlan) -> dict[str, Any]:
    """Build every component of the plan; return the stack outputs."""
    import pulumi
    import pulumi_kubernetes as k8s

    zones = {name: Zone(name, args) for name, args in plan.zones.items()}
    ctx = BuildContext(plan.context, zones=dict(zones))
    outputs: dict[str, Any] = {
        "environment": plan.settings.environment.value,
        "gitRevision": plan.provenance.git_revision,
        "zones": sorted(zones),
        "managedBy": conventions.MANAGED_BY_PULUMI,
    }
    for part in parts():
        outputs.update(part.build(plan.parts[part.KEY], ctx))
    # The services come after the parts: the backbone servers (event bus, Redis, Kafka) publish which zones
    # are their clients and the flows a client declares; every service of such a zone declares them.
    hosts: dict[str, Any] = {}
    for name, svc in plan.services.items():
        zone = zones[svc.args.namespace]
        args = with_client_flows(svc.args, ctx.published.client_flows(svc.args.namespace))
        service = StatelessService(name, args, ctx.flux_owned(pulumi.ResourceOptions(depends_on=[zone])))
        if svc.config:
            k8s.core.v1.ConfigMap(
                f"{name}-{CONFIG_MAP_SUFFIX}",
                metadata={
                    "name": f"{name}-{CONFIG_MAP_SUFFIX}",
                    "namespace": svc.args.namespace,
                    "labels": plan.provenance.labels(name, name, "config"),
                    "annotations": plan.provenance.annotations(),
                },
                data=svc.config,
                opts=pulumi.ResourceOptions(parent=service, depends_on=[zone]),
            )
        hosts[name] = service.host
        ctx.services[name] = service
    outputs["serviceHosts"] = hosts
    return outputs
