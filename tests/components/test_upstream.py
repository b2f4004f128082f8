"""The patch step applied to upstream documents before registration: small, pure, never weakening."""

from __future__ import annotations

import pytest

from components import upstream
from components.errors import ComponentArgsError


def _deployment(pod_sc=None, container_sc=None):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "op", "labels": {"app": "op"}},
            "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": "op"}},
                     "template": {"metadata": {"labels": {"app.kubernetes.io/name": "op"}},
                                  "spec": {"securityContext": pod_sc or {}, "containers": [
                                      {"name": "c", "securityContext": container_sc or {}}],
                                      "volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "m", "emptyDir": {"sizeLimit": "1Mi"}}]}}}}


def test_restricted_pods_adds_what_restricted_needs_and_keeps_upstreams_own_ids():
    doc = upstream.restricted_pods()(_deployment(pod_sc={"runAsUser": 1000}, container_sc={"capabilities": {"add": ["NET_RAW"]}}))
    pod = doc["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 1000 and pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    container = pod["containers"][0]["securityContext"]
    assert container["capabilities"] == {"drop": ["ALL"]} and container["allowPrivilegeEscalation"] is False


def test_stamp_keeps_the_labels_a_selector_matches_on_the_pod_template():
    labels = {"app.kubernetes.io/name": "ours", "app.kubernetes.io/managed-by": "pulumi"}
    doc = upstream.stamp(labels, {"cdb-infra.io/git-revision": "abc"}, {"cdb-infra.io/workload-class": "service"})(_deployment())
    assert doc["metadata"]["labels"] == {"app": "op", **labels, "cdb-infra.io/workload-class": "service"}
    template = doc["spec"]["template"]["metadata"]["labels"]
    assert template["app.kubernetes.io/name"] == "op" and template["cdb-infra.io/workload-class"] == "service"


def test_bounded_scratch_limits_only_the_emptydirs_without_a_limit():
    volumes = upstream.bounded_scratch("64Mi")(_deployment())["spec"]["template"]["spec"]["volumes"]
    assert [v["emptyDir"]["sizeLimit"] for v in volumes] == ["64Mi", "1Mi"]


def test_in_namespace_moves_namespaced_objects_and_binding_subjects_but_not_cluster_objects():
    binding = {"kind": "ClusterRoleBinding", "metadata": {"name": "b"},
               "subjects": [{"kind": "ServiceAccount", "name": "op", "namespace": "myproject"}, {"kind": "Group", "name": "g"}]}
    crd = {"kind": "CustomResourceDefinition", "metadata": {"name": "x.example.org"}}
    patch = upstream.in_namespace("kafka")
    assert patch(binding)["subjects"] == [{"kind": "ServiceAccount", "name": "op", "namespace": "kafka"}, {"kind": "Group", "name": "g"}]
    assert "namespace" not in patch(binding)["metadata"] and "namespace" not in patch(crd)["metadata"]


def test_a_kind_without_a_typed_resource_is_refused_before_anything_is_registered():
    doc = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "cleanup"}}
    with pytest.raises(ComponentArgsError, match=r"upstream batch/v1 CronJob 'cleanup' has no typed resource"):
        upstream.register(None, "op", [doc])
