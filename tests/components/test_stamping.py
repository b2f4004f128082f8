"""Objects of pinned upstream installers get our provenance through a transform the engine runs."""

from __future__ import annotations

import pulumi
import pytest

from components.provenance import Provenance
from components.stamping import provenance_transform, stamp

PROVENANCE = Provenance("cdb", "0123456789abcdef0123456789abcdef01234567", "cdb-infra/dev")


def _args(type_: str, props: dict, custom: bool = True) -> pulumi.ResourceTransformArgs:
    return pulumi.ResourceTransformArgs(custom, type_, "child", props, pulumi.ResourceOptions())


def test_a_chart_child_gets_the_provenance_labels_and_annotations_and_keeps_its_own():
    transform = provenance_transform(PROVENANCE, "flux-operator", "gitops")
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "flux-operator", "labels": {"app.kubernetes.io/name": "upstream"},
                               "annotations": {"upstream/note": "kept"}}, "spec": {"replicas": 1}}
    result = transform(_args("kubernetes:apps/v1:Deployment", deployment))
    meta = result.props["metadata"]
    assert meta["labels"]["app.kubernetes.io/managed-by"] == "pulumi"
    assert meta["labels"]["app.kubernetes.io/component"] == "gitops"
    assert meta["annotations"]["cdb-infra.io/git-revision"] == PROVENANCE.git_revision
    assert meta["annotations"]["upstream/note"] == "kept"
    assert result.props["spec"] == {"replicas": 1}
    assert deployment["metadata"]["labels"] == {"app.kubernetes.io/name": "upstream"}  # the input is not mutated


@pytest.mark.parametrize("type_, custom", [
    ("kubernetes:helm.sh/v4:Chart", False),
    ("kubernetes:yaml/v2:ConfigFile", False),
    ("vault:index/policy:Policy", True),
])
def test_installers_and_non_kubernetes_resources_are_left_alone(type_, custom):
    transform = provenance_transform(PROVENANCE, "x", "y")
    assert transform(_args(type_, {"metadata": {}}, custom)) is None


def test_an_object_without_metadata_gets_it():
    assert stamp({"kind": "ConfigMap"}, {"a": "b"}, {"c": "d"})["metadata"] == {"labels": {"a": "b"}, "annotations": {"c": "d"}}
