"""Building blocks shared by every settings model (the stack's and each part's)."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

Name = Annotated[str, Field(pattern=DNS_LABEL, max_length=63)]


class Strict(BaseModel):
    """Frozen, unknown keys refused, camelCase keys in config (snake_case accepted too)."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


class Compute(Strict):
    """Requests and limits of one container (Kubernetes quantities); the components check them."""

    cpu_request: str = Field("100m", description="CPU request, e.g. 100m")
    memory_request: str = Field("128Mi", description="memory request, e.g. 128Mi")
    cpu_limit: str = Field("500m", description="CPU limit, at least the request")
    memory_limit: str = Field("256Mi", description="memory limit, at least the request")

    def to_resources(self):
        from components.types import Resources

        return Resources(**self.model_dump())

    @model_validator(mode="after")
    def _buildable(self) -> "Compute":
        """Checked here, so the error names `resources.memoryLimit` in the stack file, not a component."""
        from cdb_stack.settings_words import yaml_words

        from pydantic import ValidationError

        from components.errors import problems
        from components.types import Resources

        try:
            self.to_resources()
        except ValidationError as exc:
            path, text = problems(Resources, exc)[0]
            raise ValueError(yaml_words(f"{path}: {text}" if path != "(arguments)" else text)) from None
        except ValueError as exc:
            text = yaml_words(str(exc).splitlines()[0].removeprefix("Resources: "))
            # "memoryLimit '1Ki' is below ..." names its field first: make it the path of the error.
            raise ValueError(re.sub(r"^(cpuLimit|memoryLimit) ", r"\1: ", text)) from None
        return self


def compute(cpu_request: str, memory_request: str, cpu_limit: str, memory_limit: str):
    """A default factory for a part's own Compute defaults."""
    return lambda: Compute(cpu_request=cpu_request, memory_request=memory_request, cpu_limit=cpu_limit,
                           memory_limit=memory_limit)


class ApiServer(Strict):
    """The Kubernetes API server as a NetworkPolicy sees it: the endpoint addresses and port behind the
    `kubernetes` Service. CNIs such as Calico and Cilium evaluate egress after translating the Service's
    ClusterIP to these endpoints, so a policy naming the ClusterIP (10.96.0.1) admits nothing. One
    setting for the whole stack: every part that talks to the API server gets its egress from here."""

    endpoints: list[str] = Field(min_length=1, description="endpoint addresses (IP or CIDR) of the API server: "
                                                           "kubectl get endpointslices -l kubernetes.io/service-name=kubernetes")
    port: int = Field(6443, ge=1, le=65535, description="the endpoints' port (targetPort of the kubernetes Service)")
    service_cidr: str = Field("10.96.0.0/12", description="the cluster's Service CIDR; an endpoint inside it is a ClusterIP")

    @model_validator(mode="after")
    def _endpoints_not_cluster_ips(self) -> "ApiServer":
        try:
            services = ipaddress.ip_network(self.service_cidr, strict=False)
        except ValueError:
            raise ValueError(f"serviceCidr: {self.service_cidr!r} is not a network; write e.g. '10.96.0.0/12'") from None
        for i, text in enumerate(self.endpoints):
            try:
                network = ipaddress.ip_network(text, strict=False)
            except ValueError:
                raise ValueError(f"endpoints[{i}]: {text!r} is not an IP address or CIDR; write e.g. '172.18.0.2' or '10.0.0.0/28'") from None
            if network.prefixlen == 0:
                raise ValueError(f"endpoints[{i}]: {text!r} allows every address; name the API server's endpoints")
            if network.version == services.version and network.overlaps(services):
                raise ValueError(f"endpoints[{i}]: {text!r} is inside the Service CIDR {self.service_cidr} (the kubernetes "
                                 "Service's ClusterIP); CNIs check the translated endpoint, so set the endpoint addresses "
                                 "from `kubectl get endpointslices -l kubernetes.io/service-name=kubernetes`")
        return self

    def cidrs(self) -> list[str]:
        return [str(ipaddress.ip_network(text, strict=False)) for text in self.endpoints]
