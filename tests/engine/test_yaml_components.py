"""The provider's YAML components expanded offline the way the provider expands them."""

from __future__ import annotations

import pytest

from cdb_engine.preview.yaml_components import NotOffline, decode, expand_v2
from cdb_core.errors import ManifestError

TWO = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {replicas: 2}
"""


def test_the_decode_invoke_answers_every_object_and_skips_empty_documents():
    objs = decode(TWO + "---\n# only a comment\n---\nfoo: bar\n")
    assert [(o["kind"], o["metadata"]["name"]) for o in objs] == [("Namespace", "shop"), ("Deployment", "web")]
    assert objs[1]["spec"]["replicas"] == 2


def test_v2_children_are_named_prefix_colon_namespace_slash_name_and_typed_by_group_version(tmp_path):
    (tmp_path / "app.yaml").write_text(TWO)
    children = expand_v2("kubernetes:yaml/v2:ConfigFile", "app", {"file": str(tmp_path / "app.yaml")})
    assert [(t, n) for t, n, _ in children] == [("kubernetes:core/v1:Namespace", "app:shop"),
                                                 ("kubernetes:apps/v1:Deployment", "app:shop/web")]


def test_an_empty_resource_prefix_means_no_prefix_and_lists_are_expanded_in_order():
    objs = [{"apiVersion": "v1", "kind": "ConfigMapList", "items": [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "x"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}]}]
    children = expand_v2("kubernetes:yaml/v2:ConfigGroup", "g", {"objs": objs, "resourcePrefix": "", "skipAwait": True})
    assert [n for _, n, _ in children] == ["x/a", "b"]
    assert children[0][2]["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"


def test_a_group_reads_globs_sorted_then_its_yaml_text(tmp_path):
    for name in ("b.yaml", "a.yaml"):
        (tmp_path / name).write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name[0]}}}\n")
    children = expand_v2("kubernetes:yaml/v2:ConfigGroup", "g", {
        "files": [str(tmp_path / "*.yaml")], "yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"})
    assert [n for _, n, _ in children] == ["g:a", "g:b", "g:s"]


def test_what_needs_the_network_stays_unexpanded_and_what_the_provider_refuses_is_an_error(tmp_path):
    with pytest.raises(NotOffline):
        expand_v2("kubernetes:yaml/v2:ConfigFile", "crds", {"file": "https://example.invalid/crds.yaml"})
    with pytest.raises(ManifestError, match="reading YAML file from disk"):
        expand_v2("kubernetes:yaml/v2:ConfigFile", "x", {"file": str(tmp_path / "missing.yaml")})
    with pytest.raises(ManifestError, match="require a .metadata.name"):
        expand_v2("kubernetes:yaml/v2:ConfigGroup", "x", {"objs": [{"apiVersion": "v1", "kind": "ConfigMap"}]})


def test_a_broken_config_file_fails_the_program_with_one_line(make_project):
    from cdb_cli import main

    folder = make_project('import pulumi_kubernetes as k8s\nk8s.yaml.v2.ConfigFile("x", file="nope.yaml")\n')
    assert main(["preview", "--stack", "dev", "--cwd", str(folder)]) == 2
