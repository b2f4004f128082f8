"""The one pod-spec finder: every workload kind, its field paths, and its containers by role."""

from __future__ import annotations

import pytest

from policy_pack.rules.helpers.podspec import containers, find_pod_template, is_pod_template_type, long_running

from .fixtures import POD_SPEC_PATHS, TYPES, container, init_container, pod_spec, sidecar, workload
from .harness import analyze


@pytest.mark.parametrize("kind", list(TYPES))
def test_pod_template_is_found_at_the_path_of_each_kind(kind):
    resource_type, props = workload(kind)
    template = find_pod_template(resource_type, props)
    assert template is not None
    assert template.kind == kind
    assert template.path == POD_SPEC_PATHS[kind]
    assert template.metadata_path == POD_SPEC_PATHS[kind].removesuffix("spec") + "metadata"
    assert template.spec["containers"][0]["name"] == "web"
    assert template.owner_metadata["name"] == "web"


@pytest.mark.parametrize("resource_type", [
    "kubernetes:core/v1:Service", "kubernetes:core/v1:ConfigMap", "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository", "cdb:index:StatelessService", "pulumi:pulumi:Stack",
    "kubernetes:helm.sh/v4:Chart", "aws:s3/bucket:Bucket"])
def test_types_without_a_pod_template_are_not_matched(resource_type):
    assert not is_pod_template_type(resource_type)
    assert find_pod_template(resource_type, {"spec": {"template": {"spec": {"containers": []}}}}) is None


@pytest.mark.parametrize("resource_type", ["kubernetes:core/v1:ReplicationController",
                                           "kubernetes:extensions/v1beta1:Deployment",
                                           "kubernetes:apps/v1beta2:StatefulSet", "kubernetes:batch/v1beta1:CronJob"])
def test_older_api_versions_and_replication_controllers_are_checked_too(resource_type):
    kind = resource_type.rsplit(":", 1)[1]
    _, props = workload(kind if kind in TYPES else "Deployment", pod_spec(container(image="nginx")))
    outcome = analyze(resource_type, props)
    assert outcome.messages("k8s-image-pinned"), outcome


def test_containers_are_listed_by_role_with_paths_and_names():
    spec = pod_spec(container(), container(name=None),
                    initContainers=[init_container(), sidecar()], ephemeralContainers=[init_container(name="dbg")])
    template = find_pod_template(*workload("CronJob", spec))
    listed = [(c.role, c.where) for c in containers(template)]
    prefix = "spec.jobTemplate.spec.template.spec"
    assert listed == [
        ("container", f'{prefix}.containers[0] (name "web")'),
        ("container", f"{prefix}.containers[1] (no name)"),
        ("initContainer", f'{prefix}.initContainers[0] (name "migrate")'),
        ("initContainer", f'{prefix}.initContainers[1] (name "proxy", native sidecar)'),
        ("ephemeralContainer", f'{prefix}.ephemeralContainers[0] (name "dbg")'),
    ]
    assert [c.name for c in long_running(template)] == ["web", None, "proxy"]


@pytest.mark.parametrize("props", [{}, {"spec": None}, {"spec": {"template": "nonsense"}},
                                   {"spec": {"template": {"spec": {"containers": None, "initContainers": [None]}}}}])
def test_malformed_workloads_yield_an_empty_pod_spec_instead_of_crashing(props):
    template = find_pod_template("kubernetes:apps/v1:Deployment", props)
    assert template is not None
    assert containers(template) == []
