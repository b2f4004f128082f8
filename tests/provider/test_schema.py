"""GetSchema, asked of the provider process as the engine asks it: every hosted component with its
inputs, outputs, types and descriptions, valid under Pulumi's package metaschema, and the same as the
recorded schema.json."""

from __future__ import annotations

import ast
import hashlib
import json
import tempfile
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.provider.experimental.util import camel_case
from pulumi.runtime.proto import provider_pb2

from provider import generate, package, shapes
from tests.provider.harness import PROVIDER_DIR, EngineSide
from tests.provider.metaschema import METASCHEMA_DIR, validator

ROOT = PROVIDER_DIR.parent


@pytest.fixture(scope="module")
def reported():
    side = EngineSide()
    try:
        stub = side.start_provider(Path(tempfile.mkdtemp()))
        try:
            stub.Handshake(provider_pb2.ProviderHandshakeRequest(engine_address=side.address), timeout=30)
        except grpc.RpcError as exc:  # the Python SDK's provider does not implement it; the engine goes on
            assert exc.code() == grpc.StatusCode.UNIMPLEMENTED
        info = stub.GetPluginInfo(empty_pb2.Empty(), timeout=30)
        schema = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=60).schema)
        yield info, schema
    finally:
        side.close()


def _described(spec: dict) -> bool:
    return bool(spec.get("description", "").strip())


def test_the_provider_reports_its_package_name_and_version(reported):
    info, schema = reported
    assert info.version == package.VERSION == schema["version"]
    assert schema["name"] == package.NAME


def test_the_schema_lists_every_hosted_component_under_its_python_type_token(reported):
    _, schema = reported
    assert set(schema["resources"]) == {h.token for h in package.HOSTED}
    for hosted in package.HOSTED:
        resource = schema["resources"][hosted.token]
        assert resource["isComponent"] is True
        assert resource["description"] == hosted.component.__doc__.strip()


def test_each_components_inputs_are_its_args_fields_with_the_same_required_ones(reported):
    _, schema = reported
    for hosted in package.HOSTED:
        resource = schema["resources"][hosted.token]
        fields = shapes.visible_fields(hosted.args, package.HIDDEN_FIELDS.get(hosted.args, frozenset()))
        assert set(resource["inputProperties"]) == {camel_case(n) for n in fields}, hosted.name
        assert set(resource["requiredInputs"]) == {camel_case(n) for n, f in fields.items() if f.is_required()}
        for name, prop in resource["inputProperties"].items():
            assert _described(prop), f"{hosted.name}.{name} has no description"
            assert prop.get("plain") is True, f"{hosted.name}.{name}: the components take plain values"
            assert "type" in prop or "$ref" in prop


def test_inputs_are_typed_as_the_args_models_declare_them(reported):
    _, schema = reported
    service = schema["resources"]["cdb:index:StatelessService"]["inputProperties"]
    assert service["port"]["type"] == "integer"
    assert service["replicas"]["type"] == "integer"
    assert service["automountServiceAccountToken"]["type"] == "boolean"
    assert service["env"]["type"] == "array" and service["env"]["items"]["$ref"] == "#/types/cdb:index:EnvVar"
    assert service["podAnnotations"]["additionalProperties"]["type"] == "string"
    workload = schema["types"]["cdb:index:StatelessServiceWorkloadClass"]
    assert [v["value"] for v in workload["enum"]] == ["service", "ai"]
    action = schema["types"]["cdb:index:ProbeAction"]["properties"]
    assert set(action) == {"httpGet", "tcpSocket", "grpc", "exec"}
    assert schema["types"]["cdb:index:HttpGetAction"]["required"] == ["path", "port"]


def test_every_output_is_typed_and_described(reported):
    _, schema = reported
    for hosted in package.HOSTED:
        outputs = schema["resources"][hosted.token]["properties"]
        assert outputs, hosted.name
        for name, prop in outputs.items():
            assert _described(prop) and ("type" in prop or "$ref" in prop), f"{hosted.name}.{name}"
    assert schema["resources"]["cdb:index:StatelessService"]["properties"]["port"]["type"] == "integer"
    assert schema["resources"]["cdb:index:NatsJetStream"]["properties"]["streams"]["items"]["type"] == "string"


def test_every_type_reference_resolves_and_every_type_property_is_described(reported):
    _, schema = reported
    text = json.dumps(schema)
    for ref in set(__import__("re").findall(r'"\$ref": "#/types/([^"]+)"', text)):
        assert ref in schema["types"], ref
    for token, defined in schema["types"].items():
        assert _described(defined), token
        for name, prop in defined.get("properties", {}).items():
            assert _described(prop), f"{token}.{name}"


def test_the_schema_is_valid_under_pulumis_package_metaschema(reported):
    _, schema = reported
    errors = [f"{e.json_path}: {e.message}" for e in validator().iter_errors(schema)]
    assert errors == []


def test_the_metaschema_check_catches_a_malformed_schema(reported):
    _, schema = reported
    broken = json.loads(json.dumps(schema))
    broken["resources"]["cdb:index:Zone"]["inputProperties"]["namespace"]["type"] = "text"
    broken["types"]["cdb:index:ZoneZoneClass"]["enum"][0]["description"] = None  # what the SDK writes
    broken["version"] = "one"
    assert len(list(validator().iter_errors(broken))) >= 3


def test_the_vendored_metaschema_is_the_recorded_upstream_file():
    source = json.loads((METASCHEMA_DIR / "SOURCE.json").read_text())
    assert hashlib.sha256((METASCHEMA_DIR / "pulumi.json").read_bytes()).hexdigest() == source["sha256"]
    assert source["repository"] == "https://github.com/pulumi/pulumi" and source["path"] == "pkg/codegen/schema/pulumi.json"
    pins = (ROOT / "pyproject.toml").read_text()
    assert f'"{source["sdk_pin"]}"' in pins


def test_the_reported_schema_is_the_recorded_schema_json(reported):
    _, schema = reported
    assert json.loads((PROVIDER_DIR / "schema.json").read_text()) == schema


def test_the_generated_inputs_are_what_the_args_models_give_now():
    assert (PROVIDER_DIR / "inputs.py").read_text() == generate.render()


def test_the_plugin_runs_python_and_pins_what_the_project_pins():
    assert "runtime: python" in (PROVIDER_DIR / "PulumiPlugin.yaml").read_text()
    pins = (ROOT / "pyproject.toml").read_text()
    for line in (PROVIDER_DIR / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            assert f'"{line}"' in pins, line


def test_the_provider_imports_neither_cdb_stack_nor_the_policy_pack():
    for path in PROVIDER_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(("cdb_", "policy_pack")), f"{path.name} imports {name}"
