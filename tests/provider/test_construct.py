"""Construct over gRPC, started and asked as the engine does, against the Python component itself:
the same registrations (type, name, parent, inputs, dependencies) and the same verdict of the pack.

The arguments are those the dev reference stack gives each hosted component (captured from a run of
it), written the way a TypeScript or YAML user writes them against the schema, plus a Kafka cluster.
"""

from __future__ import annotations

import json

import grpc
import pytest

from cdb_engine.judge import analyzer
from cdb_engine.run import default_pack_dir, preview
from cdb_engine.preview.urns import stack_urn
from components.errors import ComponentArgsError
from components.service import StatelessService, StatelessServiceArgs
from provider import package
from tests.provider import cases
from tests.provider.harness import PROJECT, PROVIDER_DIR, STACK, EngineSide
from tests.provider.wire import to_wire


def _write_project(directory) -> None:
    (directory / "Pulumi.yaml").write_text(f"name: {PROJECT}\nruntime: python\nmain: program_main.py\n")
    (directory / f"Pulumi.{STACK}.yaml").write_text("config: {}\n")
    (directory / "program_main.py").write_text((cases.ROOT / "tests/provider/program_main.py").read_text())


@pytest.fixture(scope="module")
def both_paths(tmp_path_factory):
    cases.CASES[:] = [*cases.capture("dev"), cases.kafka_case()]
    project = tmp_path_factory.mktemp("program")
    _write_project(project)
    python_verdict = preview(project, STACK)
    side = EngineSide()
    try:
        stub = side.start_provider(project)
        states = {c.name + "/" + c.hosted.name: side.construct(stub, c.hosted.token, c.name, to_wire(c.args))
                  for c in cases.CASES}  # fmt: skip
        _, provider_findings = analyzer.analyze(
            default_pack_dir(), side.resources(), project=PROJECT, stack=STACK, root_urn=stack_urn(PROJECT, STACK)
        )
        yield python_verdict, side.resources(), provider_findings, states, side
    finally:
        side.close()
        cases.CASES.clear()


def _shape(resources):
    return {r.urn: (r.type, r.custom, r.parent, r.properties, sorted(r.dependencies)) for r in resources}


def test_every_hosted_component_is_among_the_compared_cases(both_paths):
    python_verdict = both_paths[0]
    components = {r.type for r in python_verdict.resources if r.type.startswith(f"{package.NAME}:index:")}
    assert components == {h.token for h in package.HOSTED}


def test_construct_registers_exactly_the_registrations_of_the_python_components(both_paths):
    python_verdict, provider_resources, *_ = both_paths
    python, provider = _shape(python_verdict.resources), _shape(provider_resources)
    assert len(provider) > 100  # the whole reference stack's platform, not a toy
    assert sorted(set(python) ^ set(provider)) == []
    different = [urn for urn in python if python[urn] != provider[urn]]
    assert different == []


def test_the_pack_gives_the_provider_built_resources_the_verdict_of_the_python_built_ones(both_paths):
    python_verdict, _, provider_findings, *_ = both_paths

    def key(findings):
        return sorted((f.policy, f.urn, f.message) for f in findings)

    assert python_verdict.errors == []
    assert key(provider_findings) == key(python_verdict.violations + python_verdict.unchecked)
    # Components built alone, without the stack's declaration and client paths, are not all
    # compliant: the comparison covers violations, not only an empty verdict.
    assert python_verdict.violations


def test_construct_answers_with_the_outputs_the_python_component_registers(both_paths):
    *_, states, side = both_paths
    registered = {}
    for request in side.monitor.outputs:
        registered[request.urn] = dict(request.outputs)
    schema = json.loads((PROVIDER_DIR / "schema.json").read_text())
    for key, response in states.items():
        assert dict(response.state) == registered[response.urn], key
        declared = schema["resources"][package.BY_NAME[key.split("/")[1]].token]["properties"]
        assert set(declared) == set(registered[response.urn]), key


def test_invalid_arguments_fail_construct_with_the_one_line_error_of_the_python_component(both_paths):
    *_, side = both_paths
    service = next(c for c in cases.CASES if c.hosted.name == "StatelessService")
    wire = to_wire(service.args)
    wire["image"] = {"repository": "nginx", "tag": "latest"}
    wire["replicas"] = 0
    python_args = service.args.model_dump() | {"image": "nginx:latest", "replicas": 0}
    with pytest.raises(ComponentArgsError) as python_error:
        StatelessService("broken", StatelessServiceArgs.parse(python_args, owner="StatelessService 'broken'"))
    stub = _stub(side)
    with pytest.raises(grpc.RpcError) as provider_error:
        side.construct(stub, service.hosted.token, "broken", wire)
    assert provider_error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert provider_error.value.details() == str(python_error.value)
    assert "\n" not in provider_error.value.details() and "latest" in provider_error.value.details()


def test_an_input_that_is_not_known_when_the_component_is_built_is_refused_in_one_line(both_paths):
    *_, side = both_paths
    zone = next(c for c in cases.CASES if c.hosted.name == "Zone")
    wire = to_wire(zone.args) | {"namespace": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}  # the engine's unknown
    with pytest.raises(grpc.RpcError) as error:
        side.construct(_stub(side), zone.hosted.token, "later", wire)
    assert error.value.details() == (
        "Zone 'later': namespace: must be a plain value known when the component is built, not another "
        "resource's output; pass a literal or a configuration value"
    )


def test_a_misspelt_input_is_refused_not_dropped(both_paths):
    *_, side = both_paths
    zone = next(c for c in cases.CASES if c.hosted.name == "Zone")
    with pytest.raises(grpc.RpcError) as error:
        side.construct(_stub(side), zone.hosted.token, "typo", to_wire(zone.args) | {"namespaec": "x"})
    assert error.value.details() == "Zone 'typo': namespaec: is not a known argument; remove it or fix its spelling"


def _stub(side):
    from pulumi.runtime.proto import provider_pb2_grpc

    return provider_pb2_grpc.ResourceProviderStub(side.channel)
