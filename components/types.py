"""Typed intent for containers: probes, resources and pinned images.

Each type validates on construction (one-line errors via `Intent`) and renders the camelCase
Kubernetes dict with `to_k8s()`. Environment and config sources live in `components.config`.
"""

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from components import defaults, image_ref, names, quantity
from components.intent import Intent

Port = Annotated[int | str, AfterValidator(names.port)]


class HttpGetAction(Intent):
    """An HTTP GET against the container; 2xx and 3xx count as success."""

    kind: Literal["httpGet"] = Field(default="httpGet", description="Probe handler discriminator")
    path: str = Field(description="Request path, starting with '/' (e.g. '/ready')")
    port: Port = Field(description="Container port number or port name")
    scheme: Literal["HTTP", "HTTPS"] = Field(default="HTTP", description="HTTP or HTTPS")

    @model_validator(mode="after")
    def _path(self) -> "HttpGetAction":
        if not self.path.startswith("/"):
            raise ValueError(f"probe path {self.path!r} must start with '/'; write '/{self.path}'")
        return self

    def to_k8s(self) -> dict[str, Any]:
        return {"httpGet": {"path": self.path, "port": self.port, "scheme": self.scheme}}


class TcpSocketAction(Intent):
    """A TCP connect to the container port (for servers without a health endpoint, e.g. Redis)."""

    kind: Literal["tcpSocket"] = Field(default="tcpSocket", description="Probe handler discriminator")
    port: Port = Field(description="Container port number or port name")

    def to_k8s(self) -> dict[str, Any]:
        return {"tcpSocket": {"port": self.port}}


class GrpcAction(Intent):
    """A gRPC health check (grpc.health.v1) against a numbered port."""

    kind: Literal["grpc"] = Field(default="grpc", description="Probe handler discriminator")
    port: Annotated[int, AfterValidator(names.port_number)] = Field(description="Container port number (gRPC probes take no port names)")
    service: str | None = Field(default=None, description="Service name sent in the health request")

    def to_k8s(self) -> dict[str, Any]:
        action: dict[str, Any] = {"port": self.port}
        if self.service is not None:
            action["service"] = self.service
        return {"grpc": action}


class ExecAction(Intent):
    """A command run inside the container; exit code 0 counts as success."""

    kind: Literal["exec"] = Field(default="exec", description="Probe handler discriminator")
    command: tuple[str, ...] = Field(min_length=1, description="Command and arguments, no shell implied")

    def to_k8s(self) -> dict[str, Any]:
        return {"exec": {"command": list(self.command)}}


ProbeAction = Annotated[HttpGetAction | TcpSocketAction | GrpcAction | ExecAction, Field(discriminator="kind")]


class Probe(Intent):
    """A liveness, readiness or startup probe: one handler plus timing (defaults in `defaults`)."""

    action: ProbeAction = Field(description="What the kubelet runs: httpGet, tcpSocket, grpc or exec")
    initial_delay_seconds: int = Field(default=defaults.PROBE_INITIAL_DELAY_SECONDS, ge=0, description="Seconds before the first probe")
    period_seconds: int = Field(default=defaults.PROBE_PERIOD_SECONDS, ge=1, description="Seconds between probes")
    timeout_seconds: int = Field(default=defaults.PROBE_TIMEOUT_SECONDS, ge=1, description="Seconds before a probe times out")
    failure_threshold: int = Field(default=defaults.PROBE_FAILURE_THRESHOLD, ge=1, description="Failures before the probe fails")
    success_threshold: int = Field(default=defaults.PROBE_SUCCESS_THRESHOLD, ge=1, description="Successes before the probe passes (1 for liveness/startup)")

    @classmethod
    def http_get(cls, path: str, port: int | str = defaults.PORT_NAME, *, scheme: str = "HTTP", **timing: int) -> "Probe":
        """Probe by HTTP GET, e.g. `Probe.http_get("/ready", 8080)`."""
        return cls(action={"kind": "httpGet", "path": path, "port": port, "scheme": scheme}, **timing)

    @classmethod
    def tcp(cls, port: int | str = defaults.PORT_NAME, **timing: int) -> "Probe":
        """Probe by opening a TCP connection."""
        return cls(action={"kind": "tcpSocket", "port": port}, **timing)

    @classmethod
    def grpc(cls, port: int, service: str | None = None, **timing: int) -> "Probe":
        """Probe by the standard gRPC health protocol."""
        return cls(action={"kind": "grpc", "port": port, "service": service}, **timing)

    @classmethod
    def exec_(cls, command: list[str] | tuple[str, ...], **timing: int) -> "Probe":
        """Probe by running a command in the container."""
        return cls(action={"kind": "exec", "command": tuple(command)}, **timing)

    def to_k8s(self) -> dict[str, Any]:
        return {
            **self.action.to_k8s(),
            "initialDelaySeconds": self.initial_delay_seconds,
            "periodSeconds": self.period_seconds,
            "timeoutSeconds": self.timeout_seconds,
            "failureThreshold": self.failure_threshold,
            "successThreshold": self.success_threshold,
        }


Cpu = Annotated[str | int | float, AfterValidator(quantity.cpu)]
Memory = Annotated[str | int, AfterValidator(quantity.memory)]


class Resources(Intent):
    """CPU and memory requests and limits of one container (CDB_INFRA_POLICY clause 5)."""

    cpu_request: Cpu = Field(description="CPU the scheduler reserves, e.g. '250m'")
    memory_request: Memory = Field(description="Memory the scheduler reserves, e.g. '256Mi'")
    cpu_limit: Cpu = Field(description="CPU ceiling, >= cpu_request, e.g. '1'")
    memory_limit: Memory = Field(description="Memory ceiling (OOM-kill above), >= memory_request, e.g. '512Mi'")

    @model_validator(mode="after")
    def _limits_cover_requests(self) -> "Resources":
        for kind in ("cpu", "memory"):
            request, limit = getattr(self, f"{kind}_request"), getattr(self, f"{kind}_limit")
            if quantity.parse_quantity(limit) < quantity.parse_quantity(request):
                raise ValueError(
                    f"{kind}_limit {limit!r} is below {kind}_request {request!r}; raise the limit or lower the request"
                )
        return self

    def to_k8s(self) -> dict[str, Any]:
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


def split_image_ref(ref: str) -> dict[str, str | None]:
    """Split 'registry/repo:tag@sha256:...' into repository, tag and digest (unvalidated)."""
    parts = image_ref.split(ref.strip())
    return {"repository": parts.repository, "tag": parts.tag, "digest": parts.digest}


class Image(Intent):
    """A pinned container image: a tag other than 'latest', and/or a sha256/sha512 digest. Accepts a string."""

    repository: str = Field(description="Image repository, with registry if not Docker Hub, e.g. 'nats'")
    tag: str | None = Field(default=None, description="Version tag, never 'latest', e.g. '2.14.2-alpine'")
    digest: str | None = Field(default=None, description="Content digest 'sha256:<64 hex>' or 'sha512:<128 hex>' (pins the exact image)")

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return split_image_ref(data) if isinstance(data, str) else data

    @model_validator(mode="after")
    def _pinned(self) -> "Image":
        ref = self.ref
        if not image_ref.is_repository(self.repository):
            raise ValueError(f"image {ref!r} has an invalid repository; write e.g. 'ghcr.io/org/app:1.2.3'")
        if self.tag is not None and self.tag.lower() == "latest":
            raise ValueError(f"image {ref!r} uses the mutable tag 'latest'; pin a version tag or a sha256 digest")
        if self.tag is not None and not image_ref.is_tag(self.tag):
            raise ValueError(f"image {ref!r} has an invalid tag; use letters, digits, '_', '.' and '-'")
        if self.digest is not None and not image_ref.is_digest(self.digest):
            raise ValueError(f"image {ref!r} has an invalid digest; {image_ref.DIGEST_HINT}")
        if self.tag is None and self.digest is None:
            raise ValueError(f"image {ref!r} has no tag; pin a version, e.g. '{self.repository}:1.2.3', or a sha256 digest")
        return self

    @property
    def ref(self) -> str:
        """The image reference as a container spec spells it."""
        return self.repository + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def to_k8s(self) -> str:
        return self.ref
