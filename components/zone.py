"""Zone: a namespace that is locked down before any workload enters it.

Pod Security Admission `restricted`, deny-all network traffic except DNS, a ResourceQuota and a
LimitRange. Workloads open exactly the paths they need with their own NetworkPolicies.
"""

import re
from typing import Annotated, Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import AfterValidator, Field, field_validator

from components import conventions, defaults, names, quantity
from components.intent import Intent
from components.kube import check_name, child_opts, metadata
from components.provenance import Provenance
from components.types import Resources
from components.base import Component, require_args

ROLE = "zone"
_QUOTA_KEY = re.compile(r"^[a-z0-9]([-a-z0-9./]*[a-z0-9])?$")
# Keys a caller may not set on the namespace: PSA and provenance are the zone's guarantees.
_RESERVED_PREFIXES = ("pod-security.kubernetes.io/", "app.kubernetes.io/", "cdb-infra.io/", "kubernetes.io/")


def _default_resources() -> Resources:
    return Resources(
        cpu_request=defaults.CONTAINER_CPU_REQUEST,
        memory_request=defaults.CONTAINER_MEMORY_REQUEST,
        cpu_limit=defaults.CONTAINER_CPU_LIMIT,
        memory_limit=defaults.CONTAINER_MEMORY_LIMIT,
    )


class ZoneArgs(Intent):
    """Arguments of a Zone. Everything but provenance has a secure default from `components.defaults`."""

    provenance: Provenance = Field(description="Ownership and origin labels/annotations of every object")
    namespace: Annotated[str, AfterValidator(names.dns_label)] | None = Field(
        default=None, description="Namespace name; defaults to the component name"
    )
    labels: Annotated[dict[str, str], AfterValidator(names.labels)] = Field(
        default_factory=dict, description="Extra namespace labels (not pod-security, app.kubernetes.io or cdb-infra.io keys)"
    )
    quota: dict[str, Annotated[str | int, AfterValidator(quantity.quantity)]] = Field(
        default_factory=dict, description="ResourceQuota `hard` entries that override or extend defaults.QUOTA_HARD"
    )
    default_resources: Resources = Field(
        default_factory=_default_resources, description="LimitRange defaults for containers that declare no resources"
    )
    zone_class: Literal["vault"] | None = Field(
        default=None, description="Marks a special zone (label cdb-infra.io/zone-class); 'vault' holds the secret store only"
    )
    ceremony_secrets: tuple[Annotated[str, AfterValidator(names.dns_label)], ...] = Field(
        default=(), description="Secrets of this zone created by a documented hand procedure (a key ceremony), "
                                "never by code; declared as the zone's products for the pack's references rule"
    )
    dns_namespace: Annotated[str, AfterValidator(names.dns_label)] = Field(
        default=defaults.DNS_NAMESPACE, description="Namespace of the cluster DNS"
    )
    dns_pod_labels: Annotated[dict[str, str], AfterValidator(names.labels)] = Field(
        default_factory=lambda: dict(defaults.DNS_POD_LABELS), description="Labels of the cluster DNS pods"
    )

    @field_validator("labels")
    @classmethod
    def _not_reserved(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key.startswith(_RESERVED_PREFIXES):
                raise ValueError(f"label {key!r} is set by the zone itself; remove it from labels")
        return value

    @field_validator("quota")
    @classmethod
    def _quota_keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not _QUOTA_KEY.match(key):
                raise ValueError(f"quota key {key!r} is not a ResourceQuota resource name; write e.g. 'requests.cpu'")
        return value


class Zone(Component):
    """A restricted namespace: PSA labels, default-deny NetworkPolicy plus DNS egress, quota and limits."""

    TYPE = conventions.ZONE_TYPE

    namespace_name: str
    namespace: k8s.core.v1.Namespace

    def __init__(self, name: str, args: ZoneArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        owner = f"Zone {name!r}"
        args = require_args(ZoneArgs, args, owner=owner)
        ns = args.namespace or check_name(owner, "namespace", name, names.dns_label)
        super().__init__(name, {**args.to_plain(), "namespace": ns}, opts)

        labels = args.provenance.labels(name=name, instance=name, component=ROLE)
        zone_labels = {conventions.LABEL_ZONE_CLASS: args.zone_class} if args.zone_class else {}
        annotations = args.provenance.annotations()
        products = ({conventions.ANNOTATION_PRODUCES: ",".join(f"{ns}/{s}" for s in args.ceremony_secrets)}
                    if args.ceremony_secrets else {})

        self.namespace_name = ns
        self.namespace = k8s.core.v1.Namespace(
            name,
            metadata=metadata(ns, None, {**args.labels, **labels, **zone_labels, **defaults.psa_labels()},
                              {**annotations, **products}),
            opts=child_opts(self),
        )

        def meta(object_name: str) -> dict[str, Any]:
            return metadata(object_name, ns, labels, annotations)

        self.default_deny = k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            metadata=meta(defaults.DEFAULT_DENY_POLICY_NAME),
            spec=defaults.default_deny_spec(),
            opts=child_opts(self, self.namespace),
        )
        self.dns_egress = k8s.networking.v1.NetworkPolicy(
            f"{name}-allow-dns",
            metadata=meta(defaults.DNS_POLICY_NAME),
            spec={
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [defaults.dns_egress_rule(args.dns_namespace, args.dns_pod_labels)],
            },
            opts=child_opts(self, self.namespace),
        )
        self.quota = k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=meta(defaults.QUOTA_NAME),
            spec={"hard": {**defaults.quota_hard(), **{k: str(v) for k, v in args.quota.items()}}},
            opts=child_opts(self, self.namespace),
        )
        resources = args.default_resources.to_k8s()
        self.limit_range = k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=meta(defaults.LIMIT_RANGE_NAME),
            spec={
                "limits": [
                    {"type": "Container", "default": resources["limits"], "defaultRequest": resources["requests"]}
                ]
            },
            opts=child_opts(self, self.namespace),
        )
        self.register_outputs({"namespaceName": ns})
