"""The plain-YAML loader behind `cdb check`: type tokens, names, URNs, lines, and every refusal."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cdb_engine.manifests.resources import load_manifests
from cdb_core.errors import ManifestError

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: team
spec:
  replicas: 2
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(paths: list[str | Path]) -> str:
    with pytest.raises(ManifestError) as caught:
        load_manifests(paths)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("api_version", "kind", "token"),
    [
        ("v1", "Pod", "kubernetes:core/v1:Pod"),
        ("apps/v1", "Deployment", "kubernetes:apps/v1:Deployment"),
        ("batch/v1", "CronJob", "kubernetes:batch/v1:CronJob"),
        ("networking.k8s.io/v1", "NetworkPolicy", "kubernetes:networking.k8s.io/v1:NetworkPolicy"),
        ("source.toolkit.fluxcd.io/v1", "GitRepository",
         "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository"),
    ],
)
def test_api_version_and_kind_become_pulumi_type_tokens(tmp_path, api_version, kind, token):
    path = write(tmp_path, "x.yaml", f"apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: a}}\n")
    [resource] = load_manifests([path])
    assert resource.type == token
    assert resource.urn == f"urn:pulumi:check::manifests::{token}::a"


def test_resource_carries_the_document_as_camel_case_properties_and_its_source(tmp_path):
    path = write(tmp_path, "web.yaml", "# leading comment\n---\n" + DEPLOYMENT)
    [resource] = load_manifests([str(path)], stack="ci", project="gitops")
    assert resource.urn == "urn:pulumi:ci::gitops::kubernetes:apps/v1:Deployment::team/web"
    assert resource.name == "team/web"
    assert resource.custom and resource.parent is None and not resource.remote
    assert resource.properties["spec"] == {"replicas": 2}
    assert resource.source is not None
    assert (resource.source.path, resource.source.line) == (str(path), 3)


def test_every_document_of_a_multi_document_file_keeps_its_own_line(tmp_path):
    service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
    text = DEPLOYMENT + "---\n---\n# only a comment\n---\n" + service
    path = write(tmp_path, "all.yaml", text)
    deployment, service = load_manifests([path])
    assert deployment.source.line == 1
    assert service.name == "web" and service.type == "kubernetes:core/v1:Service"
    assert service.source.line == 12  # 7 lines, three separators and a comment before it


def test_list_kinds_are_flattened_with_a_line_per_item(tmp_path):
    path = write(tmp_path, "list.yaml", """\
        apiVersion: v1
        kind: List
        items:
          - apiVersion: v1
            kind: ConfigMap
            metadata: {name: a, namespace: ns}
          - apiVersion: v1
            kind: Secret
            metadata: {name: b, namespace: ns}
        """)
    config_map, secret = load_manifests([path])
    assert (config_map.type, config_map.name) == ("kubernetes:core/v1:ConfigMap", "ns/a")
    assert config_map.source.line == 4
    assert (secret.type, secret.name, secret.source.line) == ("kubernetes:core/v1:Secret", "ns/b", 7)


def test_typed_list_items_without_kind_take_it_from_the_list(tmp_path):
    path = write(tmp_path, "deployments.yaml", """\
        apiVersion: apps/v1
        kind: DeploymentList
        items:
          - metadata: {name: a}
            spec: {replicas: 1}
        """)
    [item] = load_manifests([path])
    assert item.type == "kubernetes:apps/v1:Deployment"
    assert item.properties["kind"] == "Deployment" and item.properties["apiVersion"] == "apps/v1"


def test_an_empty_list_yields_no_resources_but_a_folder_of_them_is_not_an_error(tmp_path):
    write(tmp_path, "empty.yaml", "apiVersion: v1\nkind: List\nitems: []\n")
    assert load_manifests([tmp_path]) == []


def test_folders_are_searched_recursively_in_sorted_order_skipping_hidden_folders(tmp_path):
    write(tmp_path, "b/web.yml", DEPLOYMENT.replace("web", "b"))
    write(tmp_path, "a/z.yaml", DEPLOYMENT.replace("web", "a"))
    write(tmp_path, ".git/hidden.yaml", DEPLOYMENT.replace("web", "hidden"))
    write(tmp_path, "a/notes.txt", "not yaml")
    names = [r.name for r in load_manifests([tmp_path])]
    assert names == ["team/a", "team/b"]


def test_the_same_object_in_base_and_overlay_is_judged_twice_with_a_file_line_suffix(tmp_path):
    base = write(tmp_path, "base/web.yaml", DEPLOYMENT)
    overlay = write(tmp_path, "overlay/web.yaml", "\n\n" + DEPLOYMENT)
    first, second = load_manifests([base, overlay])
    assert first.urn.endswith("::team/web")
    assert second.name == f"team/web@{overlay}:3"
    assert second.urn.endswith(f"::team/web@{overlay}:3")
    assert first.urn != second.urn


def test_identical_objects_on_one_line_still_get_distinct_urns(tmp_path):
    item = "{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}"
    path = write(tmp_path, "flow.yaml", f"apiVersion: v1\nkind: List\nitems: [{item}, {item}, {item}]\n")
    urns = [r.urn for r in load_manifests([path])]
    assert len(set(urns)) == 3


def test_a_missing_name_uses_generate_name_or_a_placeholder_instead_of_crashing(tmp_path):
    path = write(tmp_path, "gen.yaml", """\
        apiVersion: batch/v1
        kind: Job
        metadata: {generateName: migrate-, namespace: db}
        ---
        apiVersion: v1
        kind: ConfigMap
        """)
    job, config_map = load_manifests([path])
    assert job.name == "db/migrate-<generated>"
    assert config_map.name == "<unnamed ConfigMap>"


def test_yaml_values_stay_json_data_as_kubernetes_reads_them(tmp_path):
    path = write(tmp_path, "values.yaml", """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: a}
        data:
          when: 2024-01-02
          true: yes
          80: http
          empty:
          base: &base {x: 1, y: 2}
          merged: {<<: *base, y: 3}
        """)
    [resource] = load_manifests([path])
    data = resource.properties["data"]
    assert data["when"] == "2024-01-02"
    assert data["true"] is True and data["80"] == "http" and data["empty"] is None
    assert data["merged"] == {"x": 1, "y": 3}


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: [a\n", 5, "invalid YAML"),
        ("apiVersion: v1\nkind: Pod\n  bad: indent\n", 3, "invalid YAML"),
        ("- apiVersion: v1\n  kind: Pod\n", 1, "document is a list, not a Kubernetes object"),
        ("just text\n", 1, "document is a string"),
        ("kind: Pod\nmetadata: {name: a}\n", 1, "missing apiVersion"),
        ("apiVersion: v1\nmetadata: {name: a}\n", 1, "missing kind"),
        ("apiVersion: v1\nkind: 42\n", 1, "kind is a number"),
        ("apiVersion: 1\nkind: Pod\n", 1, "apiVersion is a number"),
        ("apiVersion: a/b/v1\nkind: Pod\n", 1, "is not `version` or `group/version`"),
        ("apiVersion: v1\nkind: My Pod\n", 1, "is not a Kubernetes kind"),
        ("apiVersion: v1\nkind: Pod\nmetadata: [a]\n", 1, "metadata is a list"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: 7}\n", 1, "metadata.name is a number"),
        ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n", 5, "duplicate key 'name'"),
        ("apiVersion: v1\nkind: Pod\nspec: !custom {a: 1}\n", 3, "tag !custom"),
        ("apiVersion: v1\nkind: Pod\nspec: !!set {a, b}\n", 3, "tag tag:yaml.org,2002:set"),
        ("a: &x [*x]\n", 1, "recursive anchor"),
        ("apiVersion: v1\nkind: List\nitems: {a: 1}\n", 1, "List.items is a mapping"),
        ("apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: Pod}\n  - 5\n", 5,
         "items[1] is a number"),
        ("apiVersion: v1\nkind: List\nitems:\n  - metadata: {name: a}\n", 4, "missing apiVersion"),
    ],
)
def test_bad_documents_are_refused_with_file_and_line(tmp_path, text, line, fragment):
    path = write(tmp_path, "bad.yaml", text)
    message = error_of([path])
    assert message.startswith(f"{path}:{line}: "), message
    assert fragment in message


def test_a_path_that_does_not_exist_is_refused(tmp_path):
    missing = tmp_path / "nope.yaml"
    assert error_of([missing]) == f"{missing}: no such file or folder; check the path"


def test_a_folder_without_yaml_files_is_refused(tmp_path):
    write(tmp_path, "README.md", "# no manifests here")
    write(tmp_path, ".hidden/x.yaml", DEPLOYMENT)
    assert "folder has no *.yaml or *.yml files" in error_of([tmp_path])


def test_no_paths_at_all_is_refused():
    assert "no manifest path given" in error_of([])


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("apiVersion: v1\nkind: ConfigMap\ndata: {a: \xe9}\n".encode("latin-1"))
    assert error_of([path]).startswith(f"{path}:1: not UTF-8 text")


def test_two_thousand_deployments_load_with_unique_urns_and_exact_lines(tmp_path):
    document = DEPLOYMENT + """\
  template:
    metadata:
      labels: {app.kubernetes.io/name: web, cdb-infra.io/workload-class: service}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: app
          image: ghcr.io/cdb/app@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945
          ports: [{containerPort: 8080, name: http}]
          readinessProbe: {httpGet: {path: /ready, port: 8080}}
          livenessProbe: {httpGet: {path: /live, port: 8080}}
          resources: {requests: {cpu: 250m, memory: 256Mi}, limits: {cpu: "1", memory: 512Mi}}
          securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true}
"""
    path = tmp_path / "many.yaml"
    path.write_text("".join("---\n" + document.replace("name: web", f"name: web-{i}") for i in range(2000)))
    # Speed is measured in benchmarks/check_bench.py, not asserted here.
    resources = load_manifests([path])
    assert len({r.urn for r in resources}) == 2000
    lines_per_document = 1 + document.count("\n")
    assert resources[-1].source.line == 1999 * lines_per_document + 2


def test_kustomize_build_configuration_is_not_judged_as_a_cluster_object(tmp_path):
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [cm.yaml]\n"
    )
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: apps}\n")
    assert [r.type for r in load_manifests([tmp_path])] == ["kubernetes:core/v1:ConfigMap"]
