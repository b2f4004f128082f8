"""The offline engine records what a program registers, as the Pulumi engine would see it."""

from __future__ import annotations

import pytest

from cdb_engine.preview.program import run_program
from cdb_core.project import SECURE_PLACEHOLDER, load_project
from cdb_engine.preview.urns import make_urn, name_of, stack_urn, type_of
from cdb_core.errors import CdbError

NESTED_PROGRAM = """
import pulumi
import pulumi_kubernetes as k8s

class Box(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("test:index:Box", name, {"size": 3}, opts)
        inner = pulumi.ComponentResource("test:index:Inner", f"{name}-inner", {}, pulumi.ResourceOptions(parent=self))
        self.cm = k8s.core.v1.ConfigMap(f"{name}-cm", metadata={"name": name, "namespace": "apps"},
                                        data={"mode": "x"}, opts=pulumi.ResourceOptions(parent=inner))
        self.register_outputs({})

box = Box("box")
k8s.core.v1.ConfigMap("user", metadata={"name": "user", "namespace": "apps"}, data={"from": box.cm.metadata["name"]})
"""


def test_top_level_resources_are_not_qualified_by_the_stack_type():
    root = stack_urn("p", "dev")
    assert root == "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev"
    assert make_urn("p", "dev", root, "kubernetes:core/v1:Namespace", "apps") == (
        "urn:pulumi:dev::p::kubernetes:core/v1:Namespace::apps"
    )


def test_nested_resources_carry_the_whole_parent_type_chain():
    comp = make_urn("p", "dev", stack_urn("p", "dev"), "a:b:C", "c")
    inner = make_urn("p", "dev", comp, "a:b:D", "d")
    leaf = make_urn("p", "dev", inner, "kubernetes:core/v1:ConfigMap", "x::y")
    assert leaf == "urn:pulumi:dev::p::a:b:C$a:b:D$kubernetes:core/v1:ConfigMap::x::y"
    assert type_of(leaf) == "kubernetes:core/v1:ConfigMap"
    assert name_of(leaf) == "x::y"


def test_a_program_is_recorded_with_engine_style_urns_parents_and_sources(make_project):
    run = run_program(load_project(make_project(NESTED_PROGRAM), "dev"))
    by_name = {r.name: r for r in run.resources}
    assert by_name["probe-dev"].type == "pulumi:pulumi:Stack"
    cm = by_name["box-cm"]
    assert cm.urn == "urn:pulumi:dev::probe::test:index:Box$test:index:Inner$kubernetes:core/v1:ConfigMap::box-cm"
    assert cm.parent == by_name["box-inner"].urn
    assert by_name["box-inner"].parent == by_name["box"].urn
    assert by_name["box"].parent == by_name["probe-dev"].urn
    assert cm.custom and not by_name["box"].custom
    # Component inputs reach the analyzers, numbers as floats as on the wire.
    assert by_name["box"].properties == {"size": 3.0}
    assert cm.properties["kind"] == "ConfigMap" and cm.properties["apiVersion"] == "v1"
    assert cm.source is not None and cm.source.path == "__main__.py" and cm.source.line == 9
    user = by_name["user"]
    assert user.properties["data"] == {"from": "box"}
    assert cm.urn in user.dependencies


def test_a_second_run_in_the_same_process_starts_from_nothing(make_project):
    folder = make_project(NESTED_PROGRAM)
    first = run_program(load_project(folder, "dev"))
    second = run_program(load_project(folder, "dev"))
    assert [r.urn for r in first.resources] == [r.urn for r in second.resources]


def test_values_unknown_at_preview_stay_unknown_on_the_wire(make_project):
    program = """
    import pulumi_kubernetes as k8s
    ns = k8s.core.v1.Namespace("ns", metadata={"name": "apps"})
    k8s.core.v1.ConfigMap("cm", metadata={"name": "cm", "namespace": "apps"}, data={"uid": ns.id})
    """
    run = run_program(load_project(make_project(program), "dev"))
    cm = next(r for r in run.resources if r.name == "cm")
    from pulumi.runtime.rpc import UNKNOWN

    assert cm.properties["data"]["uid"] == UNKNOWN


def test_a_failing_program_is_one_line_naming_the_program(make_project):
    folder = make_project("raise ValueError('bad input in program')\n")
    with pytest.raises(CdbError, match=r"__main__.py: the program failed: ValueError: bad input in program"):
        run_program(load_project(folder, "dev"))


def test_a_missing_stack_file_names_the_known_stacks(make_project):
    folder = make_project("pass\n")
    with pytest.raises(CdbError, match=r"Pulumi.qa.yaml: no such stack file; known stacks: dev"):
        load_project(folder, "qa")


def test_malformed_stack_yaml_names_file_and_line(make_project):
    folder = make_project("pass\n")
    (folder / "Pulumi.dev.yaml").write_text("config:\n  probe:a: [1, 2\n  probe:b: 3\n")
    with pytest.raises(CdbError, match=r"Pulumi.dev.yaml:\d+: malformed YAML"):
        load_project(folder, "dev")


def test_config_is_flattened_as_the_language_host_passes_it(make_project):
    folder = make_project(
        "pass\n",
        config="""
        probe:plain: hello
        probe:number: 3
        probe:object: {a: [1, 2]}
        probe:password:
          secure: v1:AAAA
        short: value
        """,
    )
    project = load_project(folder, "dev")
    assert project.config["probe:plain"] == "hello"
    assert project.config["probe:number"] == "3"
    assert project.config["probe:object"] == '{"a": [1, 2]}'
    assert project.config["probe:short"] == "value"
    assert project.config["probe:password"] == SECURE_PLACEHOLDER
    assert project.secret_keys == ("probe:password",)


@pytest.mark.sdk_equality
def test_the_fast_stack_walk_gives_the_sdks_stack_trace_for_every_registration(make_project, monkeypatch):
    import sys

    from pulumi.runtime import resource as sdk_resource

    from cdb_engine.preview import sdk_speedups as program

    sdk_walk = sdk_resource._get_stack_trace
    compared = []

    def both():
        # Called where the SDK calls _get_stack_trace, so this frame stands where the SDK's own would.
        ours = program.stack_trace_from(sys._getframe())
        theirs = sdk_walk()
        compared.append((ours, theirs))
        return ours

    monkeypatch.setattr(program, "_fast_get_stack_trace", both)
    run = run_program(load_project(make_project(NESTED_PROGRAM), "dev"))
    assert len(compared) == len(run.resources) - 1  # every registration but the mock runtime's root stack
    assert all(ours == theirs for ours, theirs in compared)
    assert all(len(theirs.frames) > 0 for _, theirs in compared)
    assert sdk_resource._get_stack_trace is sdk_walk  # restored after the run


def test_the_sdk_and_the_collector_are_restored_when_the_program_fails(make_project):
    import gc

    from pulumi.runtime import resource as sdk_resource

    sdk_walk, thresholds = sdk_resource._get_stack_trace, gc.get_threshold()
    with pytest.raises(CdbError, match="the program failed"):
        run_program(load_project(make_project("raise RuntimeError('boom')\n"), "dev"))
    assert sdk_resource._get_stack_trace is sdk_walk
    assert gc.get_threshold() == thresholds and gc.get_freeze_count() == 0


def test_the_registered_inputs_kept_for_the_pack_are_the_recorded_properties(make_project):
    from cdb_engine.judge.analyzer import _inputs, _struct

    run = run_program(load_project(make_project(NESTED_PROGRAM), "dev"))
    assert all(r.wire is not None for r in run.resources)
    assert all(_inputs(r) == _struct(r.properties) for r in run.resources)
    assert any(_inputs(r).fields for r in run.resources)


MANY_FROM_ONE_FILE = """
import pulumi_kubernetes as k8s

for i in range(12):
    k8s.core.v1.ConfigMap(f"cm-{i}", metadata={"name": f"cm-{i}", "namespace": "apps"}, data={"i": str(i)})
"""


def test_a_source_file_is_resolved_once_however_many_resources_it_registers(make_project, monkeypatch):
    from pathlib import Path

    import cdb_engine.preview.program as program

    resolved: list[str] = []
    real_resolve = Path.resolve

    def counting_resolve(self, *args, **kwargs):
        if self.name == "__main__.py":
            resolved.append(str(self))
        return real_resolve(self, *args, **kwargs)

    project = load_project(make_project(MANY_FROM_ONE_FILE), "dev")
    monkeypatch.setattr(program.Path, "resolve", counting_resolve)
    run = run_program(project)
    maps = [r for r in run.resources if r.type == "kubernetes:core/v1:ConfigMap"]
    assert len(maps) == 12
    # Every registration still names its own line in the project's file; resolving that file's path
    # (a stat per folder) happens once for the run.
    assert {(r.source.path, r.source.line) for r in maps} == {("__main__.py", 5)}
    assert len(resolved) == 1
