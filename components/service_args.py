"""Arguments of StatelessService, with every cross-field rule checked before anything is built."""

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from components import conventions, defaults, names
from components.config import ConfigMapRef, ConfigMapVolume, EnvVar, MountPath, SecretRef, SecretVolume
from components.intent import Intent
from components.network import Destination, Peer
from components.provenance import Provenance
from components.types import Image, Probe, Resources

_DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")

LabelValue = Annotated[str, AfterValidator(names.label_value)]
DnsLabel = Annotated[str, AfterValidator(names.dns_label)]
PortNumber = Annotated[int, AfterValidator(names.port_number)]
PortName = Annotated[str, AfterValidator(names.port_name)]
Annotations = Annotated[dict[str, str], AfterValidator(names.annotations)]


def service_name(value: str) -> str:
    """Service names are DNS-1035 labels: they must start with a letter."""
    if len(value) > 63 or not _DNS_1035.match(value):
        raise ValueError(
            f"{value!r} is not a valid Service name; use at most 63 lower-case letters, digits and '-', "
            "starting with a letter"
        )
    return value


class StatelessServiceArgs(Intent):
    """Arguments of a StatelessService: probes and resources are required, the rest defaults securely."""

    provenance: Provenance = Field(description="Ownership and origin labels/annotations of every object")
    namespace: DnsLabel = Field(description="Namespace (usually a Zone) to deploy into")
    image: Image = Field(description="Pinned container image, e.g. 'ghcr.io/cdb/api:1.4.2' (never 'latest')")
    port: PortNumber = Field(description="Container port the service listens on")
    service_port: PortNumber | None = Field(default=None, description="Port of the ClusterIP Service; defaults to port")
    port_name: PortName = Field(default=defaults.PORT_NAME, description="Name of the container port")
    resources: Resources = Field(description="CPU/memory requests and limits of the container")
    liveness: Probe = Field(description="Liveness probe: restarts the container when it fails")
    readiness: Probe = Field(description="Readiness probe: takes the pod out of the Service when it fails")
    startup: Probe | None = Field(default=None, description="Startup probe for slow starters; holds the other probes back")
    replicas: int = Field(default=defaults.DEFAULT_REPLICAS, ge=1, description="Number of pods")
    workload_class: Literal["service", "ai"] = Field(
        default=conventions.WORKLOAD_CLASS_SERVICE, description="'service', or 'ai' for AI workloads (no secret access at all)"
    )
    role: LabelValue = Field(default="service", description="app.kubernetes.io/component of every object")
    app_name: LabelValue | None = Field(default=None, description="app.kubernetes.io/name; defaults to the component name")
    command: tuple[str, ...] | None = Field(default=None, description="Container entrypoint override")
    container_args: tuple[str, ...] | None = Field(default=None, description="Container arguments override")
    env: tuple[EnvVar, ...] = Field(default=(), description="Environment variables (literal, ConfigMap key or Secret key)")
    env_from_config_maps: tuple[ConfigMapRef, ...] = Field(default=(), description="ConfigMaps whose keys all become env vars")
    env_from_secrets: tuple[SecretRef, ...] = Field(default=(), description="Secrets whose keys all become env vars")
    config_volumes: tuple[ConfigMapVolume, ...] = Field(default=(), description="ConfigMaps mounted read-only as files")
    secret_volumes: tuple[SecretVolume, ...] = Field(default=(), description="Secrets mounted read-only as files")
    writable_paths: tuple[MountPath, ...] = Field(
        default=defaults.WRITABLE_PATHS, description="Paths that get a size-limited emptyDir (the root filesystem is read-only)"
    )
    ingress_from: tuple[Peer, ...] = Field(default=(), description="Sources allowed to reach the port; empty means no ingress")
    egress_to: tuple[Destination, ...] = Field(default=(), description="Destinations the pods may reach besides the cluster DNS")
    automount_service_account_token: bool = Field(
        default=defaults.AUTOMOUNT_SERVICE_ACCOUNT_TOKEN,
        description="Mount an API token (only for services that call the Kubernetes API; never for 'ai')",
    )
    pod_annotations: Annotations = Field(default_factory=dict, description="Extra pod template annotations")
    termination_grace_period_seconds: int = Field(
        default=defaults.TERMINATION_GRACE_PERIOD_SECONDS, ge=0, description="Seconds a pod gets to shut down"
    )

    @model_validator(mode="after")
    def _consistent(self) -> "StatelessServiceArgs":
        for check in (self._probes_fit, self._unique_names, self._ai_has_no_secrets):
            problem = check()
            if problem:
                raise ValueError(problem)
        return self

    def _probes_fit(self) -> str | None:
        for kind in ("liveness", "readiness", "startup"):
            probe: Probe | None = getattr(self, kind)
            if probe is None:
                continue
            port = getattr(probe.action, "port", None)
            if isinstance(port, str) and port != self.port_name:
                return (
                    f"{kind} probe port {port!r} is not a port of this container; "
                    f"use {self.port!r} or {self.port_name!r}"
                )
            if kind != "readiness" and probe.success_threshold != 1:
                return f"{kind} probe success_threshold must be 1 (Kubernetes rule); remove it or set 1"
        return None

    def _unique_names(self) -> str | None:
        env_names = [var.name for var in self.env]
        for name in env_names:
            if env_names.count(name) > 1:
                return f"env {name!r} is set twice; keep one entry"
        paths = [*(v.mount_path for v in self.config_volumes), *(v.mount_path for v in self.secret_volumes),
                 *self.writable_paths]
        for path in paths:
            if paths.count(path) > 1:
                return f"mount path {path!r} is used twice; give each volume its own path"
        return None

    def _ai_has_no_secrets(self) -> str | None:
        # CDB_INFRA_POLICY 6: AI containers have no secret access of any kind.
        if self.workload_class != conventions.WORKLOAD_CLASS_AI:
            return None
        prefix = "workload_class 'ai' may not access secrets (CDB_INFRA_POLICY 6)"
        for var in self.env:
            if var.uses_secret:
                return f"{prefix}: env {var.name!r} reads a Secret; remove it"
        if self.env_from_secrets:
            return f"{prefix}: env_from_secrets names Secret {self.env_from_secrets[0].secret!r}; remove it"
        if self.secret_volumes:
            return f"{prefix}: secret_volumes mounts Secret {self.secret_volumes[0].secret!r}; remove it"
        if self.automount_service_account_token:
            return f"{prefix}: automount_service_account_token is true; remove it"
        for key in self.pod_annotations:
            if key.startswith(conventions.VAULT_INJECTOR_ANNOTATION_PREFIX):
                return f"{prefix}: pod annotation {key!r} asks the Vault injector for secrets; remove it"
        return None

    @property
    def effective_service_port(self) -> int:
        return self.service_port if self.service_port is not None else self.port
