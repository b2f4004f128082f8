"""Clause 5 probes and resources, through the engine's Analyze path."""

from __future__ import annotations

import pytest

from .fixtures import (
    LONG_RUNNING_KINDS, POD_SPEC_PATHS, UNKNOWN_STRING, container, deployment, init_container, pod_spec, probe,
    resources, sidecar, workload,
)
from .harness import analyze, violations

PROBES = "k8s-probes-required"
RESOURCES = "k8s-resources-required"


def test_deployment_without_probes_is_rejected_for_liveness_and_readiness():
    messages = violations(*deployment(container(probes=False)), PROBES)
    assert messages == [
        'spec.template.spec.containers[0] (name "web"): livenessProbe is missing; add an '
        "httpGet/tcpSocket/grpc/exec probe",
        'spec.template.spec.containers[0] (name "web"): readinessProbe is missing; add an '
        "httpGet/tcpSocket/grpc/exec probe",
    ]


@pytest.mark.parametrize("kind", LONG_RUNNING_KINDS)
def test_every_long_running_kind_demands_probes_at_its_own_path(kind):
    messages = violations(*workload(kind, pod_spec(container(readinessProbe=None))), PROBES)
    assert messages == [f'{POD_SPEC_PATHS[kind]}.containers[0] (name "web"): readinessProbe is missing; '
                        "add an httpGet/tcpSocket/grpc/exec probe"]


def test_empty_probe_object_is_not_a_probe():
    messages = violations(*deployment(container(livenessProbe={})), PROBES)
    assert messages == ['spec.template.spec.containers[0] (name "web"): livenessProbe has no handler; add an '
                        "httpGet/tcpSocket/grpc/exec probe"]


def test_probe_timings_without_a_handler_are_not_a_probe():
    messages = violations(*deployment(container(readinessProbe={"periodSeconds": 5, "failureThreshold": 3})),
                          PROBES)
    assert len(messages) == 1 and "readinessProbe has no handler" in messages[0]


def test_http_probe_without_port_is_rejected():
    messages = violations(*deployment(container(livenessProbe={"httpGet": {"path": "/healthz"}})), PROBES)
    assert messages == ['spec.template.spec.containers[0] (name "web"): livenessProbe has a httpGet handler '
                        "without a port"]


def test_exec_probe_without_command_is_rejected():
    messages = violations(*deployment(container(livenessProbe={"exec": {"command": []}})), PROBES)
    assert "livenessProbe has an exec handler without a command" in messages[0]


def test_probe_with_two_handlers_is_rejected():
    both = {"httpGet": {"port": 8080}, "tcpSocket": {"port": 8080}}
    messages = violations(*deployment(container(readinessProbe=both)), PROBES)
    assert "readinessProbe sets more than one handler (httpGet, tcpSocket); keep exactly one" in messages[0]


def test_grpc_tcp_exec_and_named_port_probes_are_accepted():
    web = container(livenessProbe={"grpc": {"port": 9090}}, readinessProbe={"tcpSocket": {"port": "http"}})
    worker = container(name="worker", livenessProbe={"exec": {"command": ["/bin/health"]}},
                       readinessProbe=probe(port=8081))
    assert violations(*deployment(web, worker), PROBES) == []


def test_multi_container_pod_names_only_the_offending_container():
    messages = violations(*deployment(container(), container(name="metrics", livenessProbe=None)), PROBES)
    assert messages == ['spec.template.spec.containers[1] (name "metrics"): livenessProbe is missing; add an '
                        "httpGet/tcpSocket/grpc/exec probe"]


@pytest.mark.parametrize("kind", ["Job", "CronJob"])
def test_jobs_and_cronjobs_need_no_probes(kind):
    assert violations(*workload(kind, pod_spec(container(probes=False))), PROBES) == []


@pytest.mark.parametrize("restart_policy", ["Never", "OnFailure"])
def test_bare_pod_that_is_not_restarted_needs_no_probes(restart_policy):
    spec = pod_spec(container(probes=False), restartPolicy=restart_policy)
    assert violations(*workload("Pod", spec), PROBES) == []


def test_bare_pod_with_restart_policy_always_needs_probes():
    spec = pod_spec(container(probes=False), restartPolicy="Always")
    assert len(violations(*workload("Pod", spec), PROBES)) == 2


def test_ordinary_init_container_needs_no_probes():
    assert violations(*deployment(initContainers=[init_container()]), PROBES) == []


def test_native_sidecar_without_probes_is_rejected():
    messages = violations(*deployment(initContainers=[init_container(), sidecar(probes=False)]), PROBES)
    assert messages[0] == ('spec.template.spec.initContainers[1] (name "proxy", native sidecar): livenessProbe '
                           "is missing; add an httpGet/tcpSocket/grpc/exec probe")
    assert len(messages) == 2


def test_ephemeral_container_needs_no_probes():
    debug = init_container(name="debug")
    del debug["resources"]
    assert violations(*deployment(ephemeralContainers=[debug]), PROBES) == []


@pytest.mark.parametrize("props", [{"apiVersion": "apps/v1", "kind": "Deployment"},
                                   {"spec": {"template": {"spec": {"containers": None}}}},
                                   {"spec": {"template": None}}])
def test_workload_without_containers_is_reported_as_unverifiable_not_passed(props):
    for policy in (PROBES, RESOURCES):
        assert violations("kubernetes:apps/v1:Deployment", props, policy) == [
            "spec.template.spec.containers is missing or empty; declare the workload's containers so it can "
            "be checked"]


def test_unknown_probe_during_preview_is_an_advisory_cannot_run_diagnostic():
    outcome = analyze(*deployment(container(livenessProbe=UNKNOWN_STRING)))
    findings = [f for f in outcome.findings if f.policy == PROBES]
    assert [f.enforcement for f in findings] == ["advisory"]
    assert findings[0].message.startswith("can't run policy 'k8s-probes-required' from policy pack "
                                          "'cdb-infra-policy@v0.1.0' during preview")
    assert "livenessProbe" in findings[0].message


def test_deployment_with_every_container_resourced_passes():
    assert violations(*deployment(initContainers=[init_container(), sidecar()]), RESOURCES) == []


def test_container_without_resources_lists_every_missing_field():
    messages = violations(*deployment(container(resources=None)), RESOURCES)
    assert messages == [
        'spec.template.spec.containers[0] (name "web"): resources.requests.cpu, resources.requests.memory, '
        "resources.limits.cpu, resources.limits.memory missing; set cpu and memory requests and limits "
        '(e.g. requests cpu "100m" memory "128Mi", limits cpu "500m" memory "256Mi")']


def test_init_container_and_sidecar_without_resources_are_rejected():
    messages = violations(*deployment(initContainers=[init_container(resources={}), sidecar(resources={})]),
                          RESOURCES)
    assert [m.split(":")[0] for m in messages] == [
        'spec.template.spec.initContainers[0] (name "migrate")',
        'spec.template.spec.initContainers[1] (name "proxy", native sidecar)']


def test_ephemeral_container_without_resources_is_accepted():
    debug = init_container(name="debug")
    del debug["resources"]
    assert violations(*deployment(ephemeralContainers=[debug]), RESOURCES) == []


def test_cronjob_container_without_limits_is_rejected_at_the_cronjob_path():
    spec = pod_spec(container(resources={"requests": {"cpu": "100m", "memory": "64Mi"}}))
    messages = violations(*workload("CronJob", spec), RESOURCES)
    assert messages[0].startswith('spec.jobTemplate.spec.template.spec.containers[0] (name "web"): '
                                  "resources.limits.cpu, resources.limits.memory missing")


@pytest.mark.parametrize(("resource", "request_", "limit"), [
    ("cpu", "1", "500m"), ("memory", "1Gi", "512Mi"), ("cpu", "2", "1999m"), ("memory", "1e9", "999M")])
def test_limit_below_request_is_rejected(resource, request_, limit):
    res = resources(**{resource: request_, f"{resource}_limit": limit})
    messages = violations(*deployment(container(resources=res)), RESOURCES)
    assert messages == [f'spec.template.spec.containers[0] (name "web"): resources.limits.{resource} "{limit}" '
                        f'is below resources.requests.{resource} "{request_}"; raise the limit to at least the '
                        "request"]


def test_limit_equal_to_request_in_other_units_is_accepted():
    res = resources(cpu="0.5", cpu_limit="500m", memory="1G", memory_limit="1000000k")
    assert violations(*deployment(container(resources=res)), RESOURCES) == []


def test_numbers_arriving_as_floats_are_quantities():
    res = resources(cpu=1, cpu_limit=2, memory=268435456, memory_limit="512Mi")
    assert violations(*deployment(container(resources=res)), RESOURCES) == []
    fractional = resources(cpu=0.5, cpu_limit="500m")
    assert violations(*deployment(container(resources=fractional)), RESOURCES) == []
    below = resources(cpu=1.5, cpu_limit=1)
    assert "resources.limits.cpu 1 is below resources.requests.cpu 1.5" in violations(
        *deployment(container(resources=below)), RESOURCES)[0]


@pytest.mark.parametrize(("value", "shown"), [("lots", '"lots"'), ("1.5.2Gi", '"1.5.2Gi"'), (True, "true"),
                                              ("1 Gi", '"1 Gi"'), ("12GB", '"12GB"')])
def test_unparseable_quantity_is_a_violation_not_a_crash(value, shown):
    messages = violations(*deployment(container(resources=resources(memory_limit=value))), RESOURCES)
    assert len(messages) == 1
    assert messages[0].startswith(f'spec.template.spec.containers[0] (name "web"): resources.limits.memory {shown}')
    assert "write a valid quantity" in messages[0] or "boolean" in messages[0]


def test_zero_quantity_is_rejected():
    messages = violations(*deployment(container(resources=resources(cpu="0", cpu_limit="0"))), RESOURCES)
    assert messages == [
        'spec.template.spec.containers[0] (name "web"): resources.requests.cpu is "0"; set a quantity greater '
        "than zero",
        'spec.template.spec.containers[0] (name "web"): resources.limits.cpu is "0"; set a quantity greater than zero']


def test_unknown_limit_during_preview_is_advisory_not_a_violation():
    outcome = analyze(*deployment(container(resources=resources(memory_limit=UNKNOWN_STRING))))
    findings = [f for f in outcome.findings if f.policy == RESOURCES]
    assert [f.enforcement for f in findings] == ["advisory"]
    assert "limits.memory can't be known during preview" in findings[0].message
