"""Clause 5 baseline beyond the text: Pod Security Standards kernel confinement.

Seccomp, AppArmor, SELinux, /proc mount and sysctls, per the upstream Baseline + Restricted profiles
(kubernetes.io/docs/concepts/security/pod-security-standards).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .helpers.access import get, indexed, is_set, mapping, shown, text
from .helpers.metadata import pod_template_rule
from .helpers.podspec import PodTemplate, containers

CLAUSE = "5"
SPECIFICATION = "Nicht-konforme Services sind nicht mergefähig."
TAGS = ("baseline", "pod-security-standards")
CONFINED_PROFILES = ("RuntimeDefault", "Localhost")
APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
SELINUX_TYPES = ("container_t", "container_init_t", "container_kvm_t", "container_engine_t")
SAFE_SYSCTLS = (
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
)


def _contexts(template: PodTemplate) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(label, securityContext) for the pod and for every container, pod first."""
    yield f"{template.path}.securityContext", mapping(template.spec, "securityContext")
    for container in containers(template):
        yield f"{container.where}: securityContext", mapping(container.spec, "securityContext")


def check_seccomp(template: PodTemplate) -> Iterator[str]:
    # Windows pods may not set seccomp at all (API validation), and upstream exempts them.
    if template.is_windows:
        return
    fix = f"set {template.path}.securityContext.seccompProfile.type: RuntimeDefault"
    pod_profile = get(mapping(template.spec, "securityContext"), "seccompProfile")
    pod_type = text(mapping(template.spec, "securityContext", "seccompProfile"), "type")
    if is_set(pod_profile) and pod_type not in CONFINED_PROFILES:
        yield f"{template.path}.securityContext.seccompProfile.type is {shown(pod_type)}; {fix}"
    for container in containers(template):
        context = mapping(container.spec, "securityContext")
        profile_type = text(mapping(context, "seccompProfile"), "type")
        if is_set(get(context, "seccompProfile")):
            if profile_type not in CONFINED_PROFILES:
                yield (f"{container.where}: securityContext.seccompProfile.type is {shown(profile_type)}; use "
                       "RuntimeDefault or Localhost, or remove it and " + fix)
        elif pod_type not in CONFINED_PROFILES:
            yield f"{container.where}: no seccompProfile here nor on the pod; {fix}"


def _apparmor(template: PodTemplate) -> Iterator[str]:
    for label, context in _contexts(template):
        profile_type = text(mapping(context, "appArmorProfile"), "type")
        if is_set(get(context, "appArmorProfile")) and profile_type not in CONFINED_PROFILES:
            yield f"{label}.appArmorProfile.type is {shown(profile_type)}; use RuntimeDefault or Localhost"
    annotations = mapping(template.metadata, "annotations")
    for key in annotations:
        if not key.startswith(APPARMOR_ANNOTATION_PREFIX):
            continue
        value = text(annotations, key) or ""
        if value != "runtime/default" and not value.startswith("localhost/"):
            yield (f'{template.metadata_path}.annotations["{key}"] is {shown(value)}; use runtime/default or '
                   "localhost/<profile>, or securityContext.appArmorProfile")


def _selinux(template: PodTemplate) -> Iterator[str]:
    for label, context in _contexts(template):
        options = mapping(context, "seLinuxOptions")
        selinux_type = get(options, "type")
        if is_set(selinux_type) and selinux_type not in SELINUX_TYPES:
            yield f"{label}.seLinuxOptions.type is {shown(selinux_type)}; use one of " + ", ".join(SELINUX_TYPES)
        for field in ("user", "role"):
            if is_set(get(options, field)):
                yield f"{label}.seLinuxOptions.{field} is set; remove it"


def _proc_mount(template: PodTemplate) -> Iterator[str]:
    for container in containers(template):
        proc_mount = get(mapping(container.spec, "securityContext"), "procMount")
        if is_set(proc_mount) and proc_mount != "Default":
            yield f"{container.where}: securityContext.procMount is {shown(proc_mount)}; remove it (Default)"


def _sysctls(template: PodTemplate) -> Iterator[str]:
    for path, sysctl in indexed(mapping(template.spec, "securityContext"), "sysctls",
                                f"{template.path}.securityContext"):
        name = get(sysctl, "name")
        if name not in SAFE_SYSCTLS:
            yield (f"{path}: sysctl {shown(name)} is not namespaced-safe; remove it (allowed: "
                   + ", ".join(SAFE_SYSCTLS) + ")")


def check_kernel_hardening(template: PodTemplate) -> Iterator[str]:
    yield from _apparmor(template)
    yield from _selinux(template)
    yield from _proc_mount(template)
    yield from _sysctls(template)


SECCOMP = pod_template_rule(
    name="k8s-pss-seccomp",
    description="Every container runs under a RuntimeDefault or Localhost seccomp profile.",
    clause=CLAUSE,
    specification=SPECIFICATION,
    severity=Severity.HIGH,
    remediation=(
        "Set spec.securityContext.seccompProfile.type: RuntimeDefault on the pod (or Localhost with a "
        "profile), and never Unconfined on a container (Pod Security Standards, restricted)."
    ),
    tags=TAGS + ("seccomp",),
    check=check_seccomp,
)

KERNEL_HARDENING = pod_template_rule(
    name="k8s-pss-kernel-hardening",
    description="Pods keep AppArmor, SELinux, /proc masking and sysctls at their safe defaults.",
    clause=CLAUSE,
    specification=SPECIFICATION,
    severity=Severity.HIGH,
    remediation=(
        "Use AppArmor RuntimeDefault/Localhost (or runtime/default, localhost/* annotations), SELinux types "
        "container_t/container_init_t/container_kvm_t/container_engine_t without user or role, procMount "
        "Default, and only the namespaced safe sysctls (Pod Security Standards, baseline)."
    ),
    tags=TAGS + ("apparmor", "selinux", "sysctls"),
    check=check_kernel_hardening,
)

RULES = [SECCOMP, KERNEL_HARDENING]
