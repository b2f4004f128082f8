"""The Pod Security Standards (kubernetes.io/docs/concepts/security/pod-security-standards), as Pod Security
admission evaluates them at the ``latest`` version: ``failures(template, level)`` lists every control a
pod template breaks at ``baseline`` or ``restricted`` (``privileged`` allows everything).

Each failure is (control, detail); details name the field path so a message can say what to change.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .access import get, indexed, items, mapping, number, text
from .podspec import PodTemplate, containers

LEVELS = ("privileged", "baseline", "restricted")

BASELINE_CAPABILITIES = frozenset((
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP",
    "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"))
SAFE_SYSCTLS = frozenset((
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes"))
SELINUX_TYPES = frozenset(("", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"))
RESTRICTED_VOLUMES = ("configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                      "projected", "secret")
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"

Failure = tuple[str, str]


def failures(template: PodTemplate, level: str) -> list[Failure]:
    if level == "privileged":
        return []
    found = list(_baseline(template))
    if level == "restricted":
        found += list(_restricted(template))
    return found


def _contexts(template: PodTemplate) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where, securityContext) of the pod and of every container."""
    yield f"{template.path}.securityContext", mapping(template.spec, "securityContext")
    for container in containers(template):
        yield f"{container.where}.securityContext", mapping(container.spec, "securityContext")


def _baseline(template: PodTemplate) -> Iterator[Failure]:
    spec = template.spec
    for where, context in _contexts(template):
        if get(mapping(context, "windowsOptions"), "hostProcess") is True:
            yield "HostProcess", f"{where}.windowsOptions.hostProcess is true"
        selinux = mapping(context, "seLinuxOptions")
        if (text(selinux, "type") or "") not in SELINUX_TYPES:
            yield "SELinux", f"{where}.seLinuxOptions.type is {text(selinux, 'type')!r}"
        for key in ("user", "role"):
            if text(selinux, key):
                yield "SELinux", f"{where}.seLinuxOptions.{key} is set"
        if text(mapping(context, "seccompProfile"), "type") == "Unconfined":
            yield "Seccomp", f"{where}.seccompProfile.type is Unconfined"
        apparmor = text(mapping(context, "appArmorProfile"), "type")
        if apparmor not in (None, "RuntimeDefault", "Localhost"):
            yield "AppArmor", f"{where}.appArmorProfile.type is {apparmor}"
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if get(spec, key) is True:
            yield "Host Namespaces", f"{template.path}.{key} is true"
    for path, volume in indexed(spec, "volumes", template.path):
        if get(volume, "hostPath") is not None:
            yield "HostPath Volumes", f"{path} is a hostPath volume"
    for path, sysctl in indexed(mapping(spec, "securityContext"), "sysctls", f"{template.path}.securityContext"):
        if text(sysctl, "name") not in SAFE_SYSCTLS:
            yield "Sysctls", f"{path} sets {text(sysctl, 'name')}, not a safe sysctl"
    for key, value in mapping(template.metadata, "annotations").items():
        if isinstance(key, str) and key.startswith(APPARMOR_ANNOTATION):
            if not (value == "runtime/default" or (isinstance(value, str) and value.startswith("localhost/"))):
                yield "AppArmor", f"{template.metadata_path}.annotations[{key}] is {value!r}"
    for container in containers(template):
        context = mapping(container.spec, "securityContext")
        if get(context, "privileged") is True:
            yield "Privileged Containers", f"{container.where}.securityContext.privileged is true"
        added = [c for c in items(mapping(context, "capabilities"), "add") if c not in BASELINE_CAPABILITIES]
        if added:
            yield "Capabilities", f"{container.where}.securityContext.capabilities.add has {', '.join(map(str, added))}"
        if text(context, "procMount") not in (None, "Default"):
            yield "/proc Mount Type", f"{container.where}.securityContext.procMount is {text(context, 'procMount')}"
        for path, port in indexed(container.spec, "ports", container.path):
            if number(get(port, "hostPort")) not in (None, 0.0):
                yield "Host Ports", f"{path}.hostPort is set"


def _restricted(template: PodTemplate) -> Iterator[Failure]:
    spec = template.spec
    linux = not template.is_windows
    pod_context = mapping(spec, "securityContext")
    pod_path = f"{template.path}.securityContext"
    for path, volume in indexed(spec, "volumes", template.path):
        kinds = [k for k in volume if k != "name"]
        if any(k not in RESTRICTED_VOLUMES for k in kinds):
            yield "Volume Types", f"{path} is a {', '.join(kinds)} volume"
    if number(get(pod_context, "runAsUser")) == 0:
        yield "Running as Non-root user", f"{pod_path}.runAsUser is 0"
    pod_non_root = get(pod_context, "runAsNonRoot")
    pod_seccomp = text(mapping(pod_context, "seccompProfile"), "type")
    if pod_non_root is False:
        yield "Running as Non-root", f"{pod_path}.runAsNonRoot is false"
    for container in containers(template):
        context = mapping(container.spec, "securityContext")
        non_root = get(context, "runAsNonRoot")
        if non_root is False or (non_root is None and pod_non_root is not True):
            yield "Running as Non-root", f"{container.where}: runAsNonRoot is not true here nor on the pod"
        if number(get(context, "runAsUser")) == 0:
            yield "Running as Non-root user", f"{container.where}.securityContext.runAsUser is 0"
        if not linux:
            continue
        if get(context, "allowPrivilegeEscalation") is not False:
            yield "Privilege Escalation", f"{container.where}.securityContext.allowPrivilegeEscalation is not false"
        seccomp = text(mapping(context, "seccompProfile"), "type") or pod_seccomp
        if seccomp not in ("RuntimeDefault", "Localhost"):
            yield "Seccomp", f"{container.where}: seccompProfile.type is not RuntimeDefault or Localhost here nor on the pod"
        capabilities = mapping(context, "capabilities")
        if "ALL" not in items(capabilities, "drop"):
            yield "Capabilities", f'{container.where}.securityContext.capabilities.drop does not include "ALL"'
        added = [c for c in items(capabilities, "add") if c != "NET_BIND_SERVICE"]
        if added:
            yield "Capabilities", f"{container.where}.securityContext.capabilities.add has {', '.join(map(str, added))}"
