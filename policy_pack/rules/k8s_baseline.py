"""Clause 5 baseline beyond the text: Pod Security Standards "restricted", host and privilege controls.

Upstream definition: kubernetes.io/docs/concepts/security/pod-security-standards (Baseline + Restricted).
Init and ephemeral containers are held to the same controls as regular ones, as upstream does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .helpers.access import get, indexed, is_set, is_true, items, mapping, number, shown
from .helpers.metadata import pod_template_rule
from .helpers.podspec import Container, PodTemplate, containers, volume_label

CLAUSE = "5"
SPECIFICATION = "Nicht-konforme Services sind nicht mergefähig."
TAGS = ("baseline", "pod-security-standards")
HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")
PROBE_FIELDS = ("livenessProbe", "readinessProbe", "startupProbe")
LIFECYCLE_HOOKS = ("postStart", "preStop")
ALLOWED_ADDED_CAPABILITY = "NET_BIND_SERVICE"


def _security_context(container: Container) -> Mapping[str, Any]:
    return mapping(container.spec, "securityContext")


# Every probe and lifecycle handler that could name a host: (field path, keys down to the handler).
HOST_HANDLERS = tuple(
    [(f"{field}.{handler}.host", (field, handler)) for field in PROBE_FIELDS for handler in ("httpGet", "tcpSocket")]
    + [(f"lifecycle.{hook}.{handler}.host", ("lifecycle", hook, handler))
       for hook in LIFECYCLE_HOOKS for handler in ("httpGet", "tcpSocket")]
)


def _host_handlers(container: Container) -> Iterator[tuple[str, object]]:
    """(field path, host) for every handler of the container that names a host."""
    for path, keys in HOST_HANDLERS:
        host = get(mapping(container.spec, *keys), "host")
        if host is not None:
            yield path, host


def check_host_isolation(template: PodTemplate) -> Iterator[str]:
    for field in HOST_NAMESPACES:
        if is_true(template.spec, field):
            yield f"{template.path}.{field} is true; remove it so the pod does not share the node's namespace"
    if is_true(mapping(template.spec, "securityContext", "windowsOptions"), "hostProcess"):
        yield f"{template.path}.securityContext.windowsOptions.hostProcess is true; remove it"
    for path, volume in indexed(template.spec, "volumes", template.path):
        if is_set(get(volume, "hostPath")):
            yield f"{volume_label(path, volume)}: hostPath volume exposes the node's filesystem; remove it"
    for container in containers(template):
        if is_true(mapping(_security_context(container), "windowsOptions"), "hostProcess"):
            yield f"{container.where}: securityContext.windowsOptions.hostProcess is true; remove it"
        for path, port in indexed(container.spec, "ports", container.path):
            host_port = get(port, "hostPort")
            if is_set(host_port) and number(host_port) != 0:
                yield (f"{container.where}: {path.removeprefix(container.path + '.')}.hostPort binds a node port; "
                       "remove hostPort and expose the port through a Service")
        for field, host in _host_handlers(container):
            if is_set(host):
                yield f"{container.where}: {field} is {shown(host)}; remove host so the handler targets the pod itself"


def check_privilege(template: PodTemplate) -> Iterator[str]:
    linux = not template.is_windows
    for container in containers(template):
        context = _security_context(container)
        if is_true(context, "privileged"):
            yield f"{container.where}: securityContext.privileged is true; remove it"
        if not linux:
            continue
        if get(context, "allowPrivilegeEscalation") is not False:
            yield f"{container.where}: securityContext.allowPrivilegeEscalation is not false; set it to false"
        capabilities = mapping(context, "capabilities")
        if "ALL" not in items(capabilities, "drop"):
            yield f'{container.where}: securityContext.capabilities.drop does not include "ALL"; set drop: ["ALL"]'
        added = [entry for entry in items(capabilities, "add") if entry != ALLOWED_ADDED_CAPABILITY]
        if added:
            yield (f"{container.where}: securityContext.capabilities.add has {', '.join(map(str, added))}; "
                   f"add nothing but {ALLOWED_ADDED_CAPABILITY}")


def check_non_root(template: PodTemplate) -> Iterator[str]:
    pod_context = mapping(template.spec, "securityContext")
    pod_non_root = get(pod_context, "runAsNonRoot")
    pod_path = f"{template.path}.securityContext"
    if pod_non_root is False:
        yield f"{pod_path}.runAsNonRoot is false; set it to true"
    if number(get(pod_context, "runAsUser")) == 0:
        yield f"{pod_path}.runAsUser is 0 (root); use a non-zero user id"
    for container in containers(template):
        context = _security_context(container)
        non_root = get(context, "runAsNonRoot")
        if non_root is False:
            yield f"{container.where}: securityContext.runAsNonRoot is false; set it to true"
        elif non_root is not True and pod_non_root is not True:
            yield (f"{container.where}: runAsNonRoot is not set here nor in {pod_path}; set "
                   f"{pod_path}.runAsNonRoot: true")
        if number(get(context, "runAsUser")) == 0:
            yield f"{container.where}: securityContext.runAsUser is 0 (root); use a non-zero user id"


def check_read_only_root(template: PodTemplate) -> Iterator[str]:
    # Windows containers reject the field; their filesystem is the runtime's business.
    if template.is_windows:
        return
    for container in containers(template, ("container", "initContainer")):
        if get(_security_context(container), "readOnlyRootFilesystem") is not True:
            yield (f"{container.where}: securityContext.readOnlyRootFilesystem is "
                   f"{shown(get(_security_context(container), 'readOnlyRootFilesystem'))}; set it to true and mount "
                   "an emptyDir where the program must write scratch files")


HOST_ISOLATION = pod_template_rule(
    name="k8s-pss-host-isolation",
    description="Pods share nothing with the node: no host namespaces, paths, ports, processes or probe hosts.",
    clause=CLAUSE,
    specification=SPECIFICATION,
    severity=Severity.CRITICAL,
    remediation=(
        "Remove hostNetwork, hostPID, hostIPC, windowsOptions.hostProcess, hostPath volumes, "
        "ports[].hostPort and the host field of probes and lifecycle hooks (Pod Security Standards)."
    ),
    tags=TAGS + ("host",),
    check=check_host_isolation,
)

PRIVILEGE = pod_template_rule(
    name="k8s-pss-no-privilege",
    description="Containers run unprivileged, cannot escalate and drop all capabilities.",
    clause=CLAUSE,
    specification=SPECIFICATION,
    severity=Severity.CRITICAL,
    remediation=(
        "On every container, init container and ephemeral container set securityContext.privileged false "
        'or leave it out, allowPrivilegeEscalation: false, capabilities.drop: ["ALL"] and add at most '
        "NET_BIND_SERVICE (Pod Security Standards, restricted)."
    ),
    tags=TAGS + ("privilege",),
    check=check_privilege,
)

NON_ROOT = pod_template_rule(
    name="k8s-pss-run-as-non-root",
    description="Containers run as a non-root user.",
    clause=CLAUSE,
    specification=SPECIFICATION,
    severity=Severity.HIGH,
    remediation=(
        "Set spec.securityContext.runAsNonRoot: true on the pod (or on every container), never "
        "runAsNonRoot: false, and never runAsUser: 0 (Pod Security Standards, restricted)."
    ),
    tags=TAGS + ("user",),
    check=check_non_root,
)

READ_ONLY_ROOT = pod_template_rule(
    name="k8s-read-only-root-filesystem",
    description="Containers run with a read-only root filesystem: no local state, no local path dependencies.",
    clause=CLAUSE,
    specification="Stateless Services. Keine lokalen Pfadabhängigkeiten.",
    severity=Severity.HIGH,
    remediation=(
        "Set securityContext.readOnlyRootFilesystem: true on every container and init container; give the "
        "program an emptyDir (sizeLimit) for the scratch files it must write."
    ),
    tags=("stateless", "filesystem"),
    check=check_read_only_root,
)

RULES = [HOST_ISOLATION, PRIVILEGE, NON_ROOT, READ_ONLY_ROOT]
