"""Every rendered object of dev and prod is valid: core objects against the Kubernetes OpenAPI schemas
(kubernetes-validate, strict), custom resources against their upstream CRD schemas."""

import copy

import kubernetes_validate
import pytest
import yaml

from tests import schemas
from tests.render import crd_schemas
from tests.render.conftest import STACKS

# Flux 2.9 supports Kubernetes 1.33 and newer; 1.35 is the current release line it is tested on.
KUBERNETES_VERSIONS = ("1.33.0", "1.35.0")


def _documents(files):
    for path, text in files.items():
        if path != "kustomization.yaml":
            yield path, yaml.safe_load(text)


def _is_core(manifest, version):
    try:
        schemas.kubernetes_validate(manifest, version, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return False
    except kubernetes_validate.ValidationError:
        return True
    return True


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("stack", STACKS)
def test_every_rendered_core_object_validates_against_the_kubernetes_schema(rendered_stacks, stack, version):
    errors, core = [], 0
    for path, manifest in _documents(rendered_stacks[stack][1]):
        try:
            schemas.kubernetes_validate(manifest, version, strict=True)
            core += 1
        except kubernetes_validate.SchemaNotFoundError:
            continue  # a custom resource: checked against its CRD below
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{path}: {exc.message}")
    assert not errors, "\n".join(errors)
    assert core >= 10  # namespaces, workloads, services, policies: the check ran on real objects


@pytest.mark.parametrize("stack", STACKS)
def test_every_rendered_custom_resource_matches_its_upstream_crd(rendered_stacks, stack):
    errors, checked = [], set()
    for path, manifest in _documents(rendered_stacks[stack][1]):
        if _is_core(manifest, KUBERNETES_VERSIONS[-1]):
            continue
        checked.add(manifest["kind"])
        errors += [f"{path}: {p}" for p in crd_schemas.problems(manifest)]
    assert not errors, "\n".join(errors)
    assert {"FluxInstance", "GitRepository", "Kustomization", "Provider", "Alert"} <= checked


def test_the_kubernetes_schema_check_refuses_an_unknown_field(rendered_stacks):
    files = rendered_stacks["dev"][1]
    path = next(p for p in files if "/deployment-" in p)
    manifest = yaml.safe_load(files[path])
    manifest["spec"]["template"]["spec"]["containers"][0]["livenessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        schemas.kubernetes_validate(manifest, KUBERNETES_VERSIONS[-1], strict=True)


def test_the_crd_check_finds_a_misspelled_field_at_any_depth(rendered_stacks):
    files = rendered_stacks["dev"][1]
    manifest = yaml.safe_load(files["flux-system/kustomization-cdb-infra.yaml"])
    assert crd_schemas.problems(manifest) == []
    bad = copy.deepcopy(manifest)
    bad["spec"]["sourceRef"]["nmae"] = "x"
    bad["spec"]["prunes"] = True
    assert sorted(crd_schemas.problems(bad)) == ["unknown field spec.prunes", "unknown field spec.sourceRef.nmae"]


def test_the_crd_check_refuses_a_wrong_type_or_enum_value(rendered_stacks):
    manifest = yaml.safe_load(rendered_stacks["dev"][1]["flux-system/alert-flux-audit.yaml"])
    manifest["spec"]["eventSeverity"] = "debug"
    manifest["spec"]["eventSources"][0]["kind"] = "Deployment"
    found = crd_schemas.problems(manifest)
    assert any("eventSeverity" in p for p in found) and any("eventSources.0.kind" in p for p in found)


def test_a_custom_resource_without_a_stored_crd_is_a_failure_not_a_pass():
    found = crd_schemas.problems({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {}})
    assert found and "no CRD schema stored" in found[0]


def test_every_stored_crd_schema_names_its_upstream_source():
    assert crd_schemas.stored()
    for (api_version, kind), data in crd_schemas.stored().items():
        source = data["source"]
        assert "/" in source["repository"] and len(source["commit"]) == 40 and source["path"].endswith((".yaml", ".yml"))
        assert data["spec"].get("properties"), f"{api_version} {kind}: empty schema"


def test_optional_parts_render_valid_objects_too_kafka_on_in_prod():
    import dataclasses
    import json

    from cdb_core.project import load_project
    from cdb_engine.manifests.render import render_files, render_project

    project = load_project(crd_schemas.CRD_DIR.parents[3], "prod")
    config = {**project.config, "cdb-infra:kafka": json.dumps({"enabled": True})}
    files = render_files(render_project(dataclasses.replace(project, config=config)))
    errors, kinds = [], set()
    for path, manifest in _documents(files):
        if _is_core(manifest, KUBERNETES_VERSIONS[-1]):
            try:
                schemas.kubernetes_validate(manifest, KUBERNETES_VERSIONS[-1], strict=True)
            except kubernetes_validate.ValidationError as exc:
                errors.append(f"{path}: {exc.message}")
        else:
            kinds.add(manifest["kind"])
            errors += [f"{path}: {p}" for p in crd_schemas.problems(manifest)]
    assert not errors, "\n".join(errors)
    assert {"Kafka", "KafkaNodePool", "KafkaTopic"} <= kinds
