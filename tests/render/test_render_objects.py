"""What render writes and what it refuses, from recorded resources in wire form."""

import pytest

from cdb_engine.model import Resource
from cdb_engine.manifests.render import RenderError, render_files
from cdb_engine.manifests.objects import SECRET_SIG, SIG_KEY, UNKNOWN, collect

META = {"annotations": {"cdb-infra.io/git-revision": "unknown", "cdb-infra.io/source": "cdb-infra/t"}}


def _cm(name="settings", namespace="apps", **extra):
    props = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {**META, "name": name, "namespace": namespace}}
    props.update(extra)
    return Resource(urn=f"urn:{name}", type="kubernetes:core/v1:ConfigMap", name=name, custom=True, properties=props)


def test_wire_numbers_are_written_back_as_integers():
    rendered = collect([_cm(data={"a": "1"}, spec={"replicas": 3.0, "ratio": 0.5})], "p", "t")
    body = rendered.manifests[0].body
    assert body["spec"] == {"replicas": 3, "ratio": 0.5} and isinstance(body["spec"]["replicas"], int)


def test_a_value_unknown_until_deploy_is_refused_with_its_path():
    with pytest.raises(RenderError, match=r"ConfigMap 'settings': data\.host is unknown until deploy"):
        collect([_cm(data={"host": UNKNOWN})], "p", "t")


def test_a_secret_value_is_refused_because_git_would_hold_it():
    secret = {SIG_KEY: SECRET_SIG, "value": "hunter2"}
    with pytest.raises(RenderError, match="is a secret") as info:
        collect([_cm(data={"password": secret})], "p", "t")
    assert "hunter2" not in str(info.value)


def test_a_secret_object_with_literal_data_is_refused():
    secret = Resource(
        urn="u", type="kubernetes:core/v1:Secret", name="db", custom=True,
        properties={"apiVersion": "v1", "kind": "Secret", "metadata": {**META, "name": "db"}, "stringData": {"a": "b"}},
    )
    with pytest.raises(RenderError, match="Secret with data"):
        collect([secret], "p", "t")


def test_an_object_without_a_name_or_provenance_is_refused():
    unnamed = _cm()
    del unnamed.properties["metadata"]["name"]
    with pytest.raises(RenderError, match="metadata.name is not set"):
        collect([unnamed], "p", "t")
    bare = _cm()
    bare.properties["metadata"]["annotations"] = {}
    with pytest.raises(RenderError, match="cdb-infra.io/git-revision"):
        collect([bare], "p", "t")


def test_the_same_object_declared_twice_is_refused():
    with pytest.raises(RenderError, match="also declared"):
        collect([_cm(), Resource(**{**_cm().__dict__, "name": "other", "urn": "urn:other"})], "p", "t")


def test_remote_components_and_non_kubernetes_resources_are_listed_as_not_rendered():
    chart = Resource(urn="c", type="kubernetes:helm.sh/v4:Chart", name="op", custom=False, properties={}, remote=True)
    vault = Resource(urn="v", type="vault:index/mount:Mount", name="kv", custom=True, properties={"path": "kv"})
    rendered = collect([chart, vault, _cm()], "p", "t")
    assert [(s.type, s.name) for s in rendered.skipped] == [
        ("kubernetes:helm.sh/v4:Chart", "op"), ("vault:index/mount:Mount", "kv")
    ]
    kustomization = render_files(rendered)["kustomization.yaml"]
    assert "#   kubernetes:helm.sh/v4:Chart op: remote component" in kustomization
    assert "#   vault:index/mount:Mount kv: not a Kubernetes object" in kustomization


def test_files_are_named_by_namespace_kind_and_name_with_the_group_only_on_a_clash():
    ns = Resource(
        urn="n", type="kubernetes:core/v1:Namespace", name="apps", custom=True,
        properties={"apiVersion": "v1", "kind": "Namespace", "metadata": {**META, "name": "apps"}},
    )
    a = Resource(urn="a", type="kubernetes:a.example/v1:Thing", name="a", custom=True,
                 properties={"apiVersion": "a.example/v1", "kind": "Thing", "metadata": {**META, "name": "x", "namespace": "apps"}})
    b = Resource(urn="b", type="kubernetes:b.example/v1:Thing", name="b", custom=True,
                 properties={"apiVersion": "b.example/v1", "kind": "Thing", "metadata": {**META, "name": "x", "namespace": "apps"}})
    files = render_files(collect([b, ns, _cm(), a], "p", "t"))
    assert list(files) == [
        "_cluster/namespace-apps.yaml", "apps/configmap-settings.yaml", "apps/thing.a.example-x.yaml",
        "apps/thing.b.example-x.yaml", "kustomization.yaml",
    ]


PROGRAM = '''
import pulumi_kubernetes as k8s
meta = {"annotations": {"cdb-infra.io/git-revision": "unknown"}}
first = k8s.core.v1.ConfigMap("first", metadata={**meta, "name": "first", "namespace": "apps"}, data={"a": "b"})
k8s.core.v1.ConfigMap("second", metadata={**meta, "name": "second", "namespace": "apps"}, data={"uid": first.id})
'''


def test_a_program_whose_object_needs_a_deploy_time_value_renders_nothing(tmp_path, capsys):
    from cdb_cli import main

    (tmp_path / "Pulumi.yaml").write_text("name: tiny\nruntime: python\n")
    (tmp_path / "Pulumi.t.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(PROGRAM)
    out = tmp_path / "out"
    assert main(["render", "--stack", "t", "--cwd", str(tmp_path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "ConfigMap 'second': data.uid is unknown until deploy" in err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["Pulumi.t.yaml", "Pulumi.yaml", "__main__.py"]
