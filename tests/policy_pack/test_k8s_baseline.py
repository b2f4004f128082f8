"""Clause 5 baseline: Pod Security Standards restricted profile and image pinning, through Analyze."""

from __future__ import annotations

import pytest

from .fixtures import (
    DIGEST, POD_SPEC_PATHS, TYPES, UNKNOWN_STRING, container, deployment, init_container, pod_spec, sidecar,
    workload,
)
from .harness import analyze, violations

HOST = "k8s-pss-host-isolation"
PRIVILEGE = "k8s-pss-no-privilege"
NON_ROOT = "k8s-pss-run-as-non-root"
SECCOMP = "k8s-pss-seccomp"
KERNEL = "k8s-pss-kernel-hardening"
IMAGES = "k8s-image-pinned"
SAFE = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
POD_CONTEXT = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}


def secured(**context):
    return {**SAFE, **context}


def debug_container(**extra):
    spec = init_container(name="debug", **extra)
    del spec["resources"]
    return spec


@pytest.mark.parametrize("field", ["hostNetwork", "hostPID", "hostIPC"])
def test_host_namespaces_are_rejected(field):
    assert violations(*deployment(**{field: True}), HOST) == [
        f"spec.template.spec.{field} is true; remove it so the pod does not share the node's namespace"]


def test_host_namespaces_set_false_are_accepted():
    assert violations(*deployment(hostNetwork=False, hostPID=False, hostIPC=False), HOST) == []


def test_host_path_volume_is_rejected_as_host_access():
    messages = violations(*deployment(volumes=[{"name": "docker", "hostPath": {"path": "/var/run"}}]), HOST)
    assert messages == ['spec.template.spec.volumes[0] (name "docker"): hostPath volume exposes the node\'s '
                        "filesystem; remove it"]


def test_host_port_is_rejected_in_init_containers_too_and_port_zero_is_accepted():
    ports = [{"containerPort": 8080, "hostPort": 8080.0}]
    messages = violations(*deployment(container(ports=[{"containerPort": 80, "hostPort": 0}]),
                                      initContainers=[init_container(ports=ports)]), HOST)
    assert messages == ['spec.template.spec.initContainers[0] (name "migrate"): ports[0].hostPort binds a node '
                        "port; remove hostPort and expose the port through a Service"]


def test_probe_and_lifecycle_hooks_aimed_at_a_host_are_rejected():
    web = container(livenessProbe={"httpGet": {"port": 8080, "host": "10.0.0.1"}},
                    lifecycle={"preStop": {"tcpSocket": {"port": 22, "host": "node"}}},
                    readinessProbe={"httpGet": {"port": 8080, "host": ""}})
    messages = violations(*deployment(web), HOST)
    assert messages == [
        'spec.template.spec.containers[0] (name "web"): livenessProbe.httpGet.host is "10.0.0.1"; remove host so '
        "the handler targets the pod itself",
        'spec.template.spec.containers[0] (name "web"): lifecycle.preStop.tcpSocket.host is "node"; remove host so '
        "the handler targets the pod itself"]


def test_windows_host_process_is_rejected_at_pod_and_container_level():
    spec = pod_spec(container(securityContext=secured(windowsOptions={"hostProcess": True})),
                    securityContext={**POD_CONTEXT, "windowsOptions": {"hostProcess": True}})
    assert len(violations(*workload("Job", spec), HOST)) == 2


@pytest.mark.parametrize("kind", list(TYPES))
def test_privileged_container_is_rejected_in_every_kind(kind):
    spec = pod_spec(container(securityContext=secured(privileged=True)))
    assert violations(*workload(kind, spec), PRIVILEGE) == [
        f'{POD_SPEC_PATHS[kind]}.containers[0] (name "web"): securityContext.privileged is true; remove it']


def test_missing_security_context_is_rejected_for_escalation_and_capabilities():
    messages = violations(*deployment(container(securityContext=None)), PRIVILEGE)
    assert messages == [
        'spec.template.spec.containers[0] (name "web"): securityContext.allowPrivilegeEscalation is not false; '
        "set it to false",
        'spec.template.spec.containers[0] (name "web"): securityContext.capabilities.drop does not include "ALL"; '
        'set drop: ["ALL"]']


def test_capabilities_may_add_only_net_bind_service():
    ok = container(securityContext=secured(capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}))
    assert violations(*deployment(ok), PRIVILEGE) == []
    bad = container(securityContext=secured(capabilities={"drop": ["ALL"], "add": ["NET_ADMIN", "SYS_TIME"]}))
    assert violations(*deployment(bad), PRIVILEGE) == [
        'spec.template.spec.containers[0] (name "web"): securityContext.capabilities.add has NET_ADMIN, SYS_TIME; '
        "add nothing but NET_BIND_SERVICE"]


def test_ephemeral_and_sidecar_containers_are_held_to_the_restricted_profile():
    debug = debug_container(securityContext={"allowPrivilegeEscalation": True, "capabilities": {"drop": ["ALL"]}})
    proxy = sidecar(securityContext={"allowPrivilegeEscalation": False, "capabilities": {"drop": ["NET_RAW"]}})
    messages = violations(*deployment(initContainers=[proxy], ephemeralContainers=[debug]), PRIVILEGE)
    assert [m.split(": ", 1)[0] for m in messages] == [
        'spec.template.spec.initContainers[0] (name "proxy", native sidecar)',
        'spec.template.spec.ephemeralContainers[0] (name "debug")']


def test_windows_pods_are_exempt_from_linux_only_controls_but_not_from_privileged():
    spec = pod_spec(container(securityContext={"privileged": True}), os={"name": "windows"},
                    securityContext={"runAsNonRoot": True})
    assert violations(*deployment(**spec), PRIVILEGE) == [
        'spec.template.spec.containers[0] (name "web"): securityContext.privileged is true; remove it']
    assert violations(*deployment(**spec), SECCOMP) == []


def test_run_as_non_root_set_only_on_every_container_is_accepted():
    spec = pod_spec(container(securityContext=secured(runAsNonRoot=True)),
                    securityContext={"seccompProfile": {"type": "RuntimeDefault"}},
                    initContainers=[init_container(securityContext=secured(runAsNonRoot=True))])
    assert violations(*workload("StatefulSet", spec), NON_ROOT) == []


def test_container_without_run_as_non_root_anywhere_is_rejected():
    spec = pod_spec(container(), securityContext={"seccompProfile": {"type": "RuntimeDefault"}})
    assert violations(*workload("Pod", spec), NON_ROOT) == [
        'spec.containers[0] (name "web"): runAsNonRoot is not set here nor in spec.securityContext; set '
        "spec.securityContext.runAsNonRoot: true"]


def test_container_overriding_run_as_non_root_to_false_is_rejected():
    messages = violations(*deployment(container(securityContext=secured(runAsNonRoot=False))), NON_ROOT)
    assert messages == ['spec.template.spec.containers[0] (name "web"): securityContext.runAsNonRoot is false; '
                        "set it to true"]


def test_root_user_id_as_float_is_rejected_at_pod_level():
    spec = pod_spec(securityContext={**POD_CONTEXT, "runAsUser": 0})
    assert violations(*deployment(**spec), NON_ROOT) == [
        "spec.template.spec.securityContext.runAsUser is 0 (root); use a non-zero user id"]


def test_root_user_in_ephemeral_container_is_rejected():
    spec = pod_spec(ephemeralContainers=[debug_container(securityContext=secured(runAsUser=0))])
    assert violations(*deployment(**spec), NON_ROOT) == [
        'spec.template.spec.ephemeralContainers[0] (name "debug"): securityContext.runAsUser is 0 (root); use a '
        "non-zero user id"]


def test_missing_seccomp_profile_is_rejected_per_container():
    spec = pod_spec(container(), container(name="metrics"), securityContext={"runAsNonRoot": True})
    messages = violations(*deployment(**spec), SECCOMP)
    assert [m.split(": ", 1)[0] for m in messages] == ['spec.template.spec.containers[0] (name "web")',
                                                       'spec.template.spec.containers[1] (name "metrics")']
    assert messages[0].endswith("no seccompProfile here nor on the pod; set "
                                "spec.template.spec.securityContext.seccompProfile.type: RuntimeDefault")


def test_container_level_localhost_seccomp_without_pod_level_is_accepted():
    web = container(securityContext=secured(seccompProfile={"type": "Localhost", "localhostProfile": "p.json"}))
    spec = pod_spec(web, securityContext={"runAsNonRoot": True})
    assert violations(*deployment(**spec), SECCOMP) == []


def test_unconfined_pod_seccomp_is_rejected():
    spec = pod_spec(securityContext={"runAsNonRoot": True, "seccompProfile": {"type": "Unconfined"}})
    messages = violations(*deployment(**spec), SECCOMP)
    assert messages[0] == ('spec.template.spec.securityContext.seccompProfile.type is "Unconfined"; set '
                           "spec.template.spec.securityContext.seccompProfile.type: RuntimeDefault")


def test_apparmor_unconfined_field_and_annotation_are_rejected():
    kind, props = deployment(container(securityContext=secured(appArmorProfile={"type": "Unconfined"})))
    props["spec"]["template"]["metadata"]["annotations"] = {
        "container.apparmor.security.beta.kubernetes.io/web": "unconfined",
        "container.apparmor.security.beta.kubernetes.io/side": "localhost/cdb-profile"}
    messages = violations(kind, props, KERNEL)
    assert messages == [
        'spec.template.spec.containers[0] (name "web"): securityContext.appArmorProfile.type is "Unconfined"; use '
        "RuntimeDefault or Localhost",
        'spec.template.metadata.annotations["container.apparmor.security.beta.kubernetes.io/web"] is "unconfined"; '
        "use runtime/default or localhost/<profile>, or securityContext.appArmorProfile"]


def test_selinux_custom_type_user_and_role_are_rejected_and_container_t_is_accepted():
    pod_level = {**POD_CONTEXT, "seLinuxOptions": {"type": "spc_t", "user": "system_u", "level": "s0:c1"}}
    web = container(securityContext=secured(seLinuxOptions={"type": "container_t", "role": "sysadm_r"}))
    messages = violations(*deployment(web, securityContext=pod_level), KERNEL)
    assert messages == [
        'spec.template.spec.securityContext.seLinuxOptions.type is "spc_t"; use one of container_t, '
        "container_init_t, container_kvm_t, container_engine_t",
        "spec.template.spec.securityContext.seLinuxOptions.user is set; remove it",
        'spec.template.spec.containers[0] (name "web"): securityContext.seLinuxOptions.role is set; remove it']


def test_unmasked_proc_mount_is_rejected_in_an_init_container():
    migrate = init_container(securityContext=secured(procMount="Unmasked"))
    messages = violations(*deployment(initContainers=[migrate]), KERNEL)
    assert messages == ['spec.template.spec.initContainers[0] (name "migrate"): securityContext.procMount is '
                        '"Unmasked"; remove it (Default)']


def test_default_proc_mount_and_runtime_default_apparmor_are_accepted():
    web = container(securityContext=secured(procMount="Default", appArmorProfile={"type": "RuntimeDefault"}))
    assert violations(*deployment(web), KERNEL) == []


@pytest.mark.parametrize("kind", list(TYPES))
def test_latest_image_is_rejected_in_every_kind(kind):
    spec = pod_spec(container(image="ghcr.io/cdb/web:latest"))
    assert violations(*workload(kind, spec), IMAGES) == [
        f'{POD_SPEC_PATHS[kind]}.containers[0] (name "web"): image "ghcr.io/cdb/web:latest" uses the latest tag; '
        "pin a version tag (app:1.4.2) or a digest (app@sha256:<64 hex digits>)"]


def test_images_of_init_sidecar_and_ephemeral_containers_are_checked():
    spec = pod_spec(initContainers=[init_container(image="busybox"), sidecar(image=f"envoy@{DIGEST}")],
                    ephemeralContainers=[debug_container(image="reg:5000/debug")])
    messages = violations(*deployment(**spec), IMAGES)
    assert [m.split(": ", 1)[0] for m in messages] == [
        'spec.template.spec.initContainers[0] (name "migrate")',
        'spec.template.spec.ephemeralContainers[0] (name "debug")']


def test_container_without_image_is_rejected():
    web = container()
    del web["image"]
    assert violations(*deployment(web), IMAGES)[0].startswith(
        'spec.template.spec.containers[0] (name "web"): image is missing')


def test_unknown_image_during_preview_is_advisory():
    outcome = analyze(*deployment(container(image=UNKNOWN_STRING)))
    assert [f.enforcement for f in outcome.findings if f.policy == IMAGES] == ["advisory"]
