"""Typed arguments of the Flux component, validated before anything is built."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from components import names, vendored
from components.flux import duration, specs
from components.intent import Intent
from components.network import Destination
from components.provenance import Provenance
from components.streams import parse_subject

_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
# git check-ref-format, reduced to what a branch name in config needs.
_BRANCH = re.compile(r"^(?!/)(?!.*(\.\.|//|@\{|\.lock$|/$|\.$))[A-Za-z0-9._/-]+$")
_NATS_URL = re.compile(r"^(nats|tls)://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
_REGISTRY = re.compile(r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*$")

OPERATOR_VERSION = "0.58.1"
# Ranges a public registry never lives in: "every public address" must not open the cluster's own
# networks on 443 (RFC 1918, carrier-grade NAT, link-local: cloud metadata endpoints).
PRIVATE_NETWORKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16")

DNSLabel = Annotated[str, AfterValidator(names.dns_label)]
DNSSubdomain = Annotated[str, AfterValidator(names.dns_subdomain)]
Interval = Annotated[str, AfterValidator(duration.check_interval)]
Timeout = Annotated[str, AfterValidator(duration.check_timeout)]


def pinned_version(value: str) -> str:
    """An exact release `X.Y.Z`: ranges such as '2.x' would let an upgrade in without a commit."""
    if not _SEMVER.match(value):
        raise ValueError(f"version {value!r} is not pinned; write an exact release such as '2.9.0' (no 'v', no ranges)")
    return value


def repository_url(value: str) -> str:
    if value.startswith("git@") or re.match(r"^[^/:]+@[^/:]+:", value):
        raise ValueError(f"url {value!r} uses scp syntax, which Flux does not read; write 'ssh://git@host/owner/repo.git'")
    if not re.match(r"^(https|ssh)://[^/\s]+/\S+$", value):
        raise ValueError(f"url {value!r} is not an https:// or ssh:// repository URL, e.g. 'https://github.com/cdb/cdb-infra.git'")
    return value


def branch_name(value: str) -> str:
    if not _BRANCH.match(value):
        raise ValueError(f"branch {value!r} is not a valid Git branch name, e.g. 'main'")
    return value


def sync_path(value: str) -> str:
    """A folder inside the repository, as Flux reads `spec.path` (relative to the repository root)."""
    parts = value.removeprefix("./").split("/")
    if value.startswith("/") or not value.strip() or any(p in ("", "..") for p in parts):
        raise ValueError(f"path {value!r} must be a folder inside the repository without '..', e.g. './deploy/prod'")
    return "./" + "/".join(parts)


def nats_address(value: str) -> str:
    if not _NATS_URL.match(value):
        raise ValueError(f"address {value!r} is not a NATS URL; write 'nats://nats.<namespace>.svc:4222'")
    return value


def publish_subject(value: str) -> str:
    """A concrete, versioned subject (`audit.v1.flux`): the Provider publishes, so no wildcards."""
    _, _, kind = parse_subject(value)
    if kind == ">" or "*" in value:
        raise ValueError(f"subject {value!r} is a wildcard; the provider publishes on one subject such as 'audit.v1.flux'")
    return value


def registry_path(value: str) -> str:
    if not _REGISTRY.match(value):
        raise ValueError(f"registry {value!r} is not an image registry path such as 'ghcr.io/fluxcd'")
    return value


def vendored_operator(value: str) -> str:
    """A Flux Operator version whose install.yaml is vendored (components/vendor/flux-operator/<version>)."""
    pinned = vendored.project("flux-operator")["version"]
    if value != pinned:
        raise ValueError(f"operator version {value!r} is not vendored (components/vendor/flux-operator holds {pinned}); run "
                         f"scripts/vendor-upstream.py refresh flux-operator --ref v{value} --version {value}")
    return value


def egress_network(value: str) -> str:
    try:
        ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise ValueError(f"registry network {value!r} is not an IPv4 network such as '140.82.112.0/20'") from None
    return value


def required_components(value: tuple[str, ...]) -> tuple[str, ...]:
    """The controller list must hold what the sync and the audit alert need, each once."""
    missing = [c for c in specs.REQUIRED_COMPONENTS if c not in value]
    if missing:
        raise ValueError(f"components lack {', '.join(missing)}; the sync and the audit alert need them")
    if len(set(value)) != len(value):
        raise ValueError("components list a controller twice; list each once")
    return value


class FluxArgs(Intent):
    """Flux installed by the Flux Operator, syncing one path of one Git repository, with an audit alert."""

    provenance: Provenance = Field(description="Ownership and origin labels/annotations of every object")
    namespace: DNSLabel = Field(default="flux-system", description="Namespace of the operator and controllers")
    flux_version: Annotated[str, AfterValidator(pinned_version)] = Field(
        default="2.9.0", description="Flux distribution version, pinned (X.Y.Z)"
    )
    registry: Annotated[str, AfterValidator(registry_path)] = Field(
        default="ghcr.io/fluxcd", description="Registry of the Flux controller images"
    )
    artifact: str = Field(
        default="oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests",
        pattern=r"^oci://\S+$", description="OCI artifact with the distribution manifests (oci://...)",
    )
    components: tuple[Literal[specs.KNOWN_COMPONENTS], ...] = Field(  # type: ignore[valid-type]
        default=specs.CORE_COMPONENTS, description="Flux controllers to install"
    )
    cluster_size: Literal["small", "medium", "large"] = Field(
        default="medium", description="Flux Operator sizing profile (controller concurrency and resources)"
    )
    operator_version: Annotated[str, AfterValidator(pinned_version), AfterValidator(vendored_operator)] = Field(
        default=OPERATOR_VERSION, description="Flux Operator version, pinned (X.Y.Z); its install.yaml is vendored"
    )
    kubernetes_api: tuple[Destination, ...] = Field(
        min_length=1, description="API server endpoint addresses and port(s) the operator reaches before Flux exists"
    )
    registry_networks: tuple[Annotated[str, AfterValidator(egress_network)], ...] = Field(
        default=("0.0.0.0/0",), min_length=1,
        description="Networks of the OCI registry serving the distribution artifact (HTTPS, 443); "
                    "0.0.0.0/0 means every public address (private ranges are excepted)",
    )
    source_name: DNSSubdomain = Field(default="cdb-infra", description="Name of the GitRepository and Kustomization")
    url: Annotated[str, AfterValidator(repository_url)] = Field(description="Git repository Flux syncs from")
    branch: Annotated[str, AfterValidator(branch_name)] = Field(default="main", description="Branch Flux syncs")
    path: Annotated[str, AfterValidator(sync_path)] = Field(description="Folder of rendered manifests, e.g. ./deploy/prod")
    git_secret_name: DNSSubdomain | None = Field(default=None, description="Secret with Git credentials (from the secret manager)")
    source_interval: Interval = Field(default="1m", description="How often the repository is fetched (1m..5m)")
    interval: Interval = Field(default="5m", description="How often the Kustomization re-applies and corrects drift (1m..5m)")
    retry_interval: Interval = Field(default="1m", description="Retry interval after a failed reconcile (1m..5m)")
    timeout: Timeout = Field(default="3m", description="Timeout of fetch, apply and health checks")
    wait: bool = Field(default=True, description="Health-check every applied object before the sync counts as ready")
    audit_address: Annotated[str, AfterValidator(nats_address)] = Field(description="NATS server of the audit stream")
    audit_subject: Annotated[str, AfterValidator(publish_subject)] = Field(
        default="audit.v1.flux", description="Subject of the JetStream audit stream the events go to"
    )
    audit_secret_name: DNSSubdomain | None = Field(default=None, description="Secret with NATS credentials (creds/nkey)")
    alert_namespaces: tuple[DNSLabel, ...] = Field(
        default=(), description="Further namespaces whose Flux objects the audit alert covers"
    )

    @field_validator("components")
    @classmethod
    def _components(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return required_components(value)

    @model_validator(mode="after")
    def _timeout_within_interval(self) -> FluxArgs:
        # GitRepository's CRD takes timeouts in ms/s/m only; longer than the interval overlaps runs.
        if "h" in self.timeout:
            raise ValueError(f"timeout {self.timeout!r} must be written in ms, s or m (the GitRepository CRD refuses h)")
        if duration.parse_duration(self.timeout) > duration.parse_duration(self.interval):
            raise ValueError(f"timeout {self.timeout!r} exceeds interval {self.interval!r}; shorten the timeout")
        return self

    def watched_namespaces(self) -> tuple[str, ...]:
        return tuple(sorted({self.namespace, *self.alert_namespaces}))
