"""Each offline speed-up of the Pulumi SDK gives what the SDK's own code gives, and each can be switched off."""

from __future__ import annotations

import gc
import sys
from dataclasses import replace
from pathlib import Path
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
import pulumi_vault as vault
import pytest
from pulumi import Input, _types, log
from pulumi.runtime import resource as sdk_resource

from cdb_cli import main
from cdb_engine.preview import sdk_speedups
from cdb_engine.preview.program import run_program
from cdb_core.project import load_project

from tests.engine.test_engine_program import NESTED_PROGRAM

pytestmark = pytest.mark.sdk_equality

ROOT = Path(__file__).resolve().parents[2]

# Classes the stack registers, of each kind the type functions take, and the annotations they unwrap.
RESOURCES = (k8s.apps.v1.Deployment, k8s.core.v1.ConfigMap, k8s.networking.v1.NetworkPolicy, k8s.core.v1.Namespace,
             vault.Policy, vault.kubernetes.AuthBackendRole, pulumi.ComponentResource)
INPUTS = (k8s.apps.v1.DeploymentSpecArgs, k8s.core.v1.PodSpecArgs, k8s.core.v1.ContainerArgs,
          k8s.meta.v1.ObjectMetaArgs, k8s.networking.v1.NetworkPolicySpecArgs)
OUTPUTS = (k8s.apps.v1.outputs.DeploymentSpec, k8s.core.v1.outputs.PodSpec, k8s.meta.v1.outputs.ObjectMeta)
ANNOTATIONS = (str, int, Optional[str], Input[str], Optional[Input[str]], Optional[Input[k8s.core.v1.PodSpecArgs]],
               Input[list[Input[str]]], Optional[dict[str, Input[str]]], Optional[Input[int]],
               Optional[Input["k8s.meta.v1.ObjectMetaArgs"]])
INPUT_OF = {
    "resource_types": RESOURCES, "resource_pulumi_to_py_names": RESOURCES, "resource_py_to_pulumi_names": RESOURCES,
    "input_type_types": INPUTS, "input_type_py_to_pulumi_names": INPUTS, "output_type_types": OUTPUTS,
    "_py_properties": INPUTS + OUTPUTS, "unwrap_type": ANNOTATIONS, "unwrap_optional_type": ANNOTATIONS,
    "_is_union_type": ANNOTATIONS, "_is_optional_type": ANNOTATIONS,
}


def test_every_replaced_type_function_has_representative_inputs():
    assert set(INPUT_OF) == set(sdk_speedups.PURE_TYPE_FUNCTIONS)


def _answer(function, argument):
    try:
        result = function(argument)
    except Exception as error:  # noqa: BLE001 - the SDK's error is an answer too
        return ("raises", type(error))
    # _py_properties yields: compare what it yields.
    return list(result) if hasattr(result, "__next__") else result


@pytest.mark.parametrize("name", sdk_speedups.PURE_TYPE_FUNCTIONS)
def test_each_remembered_type_function_answers_as_the_sdks_own(name):
    original = getattr(_types, name)
    remembered = sdk_speedups.remembered(original)
    for argument in INPUT_OF[name]:
        expected = _answer(original, argument)
        assert _answer(remembered, argument) == expected, argument
        assert _answer(remembered, argument) == expected, f"{argument}, asked twice"


def test_the_debug_log_the_sdk_would_send_is_one_the_offline_engine_drops(make_project):
    """log.debug offline: the SDK's own sends the message to the mock's logger at DEBUG, which keeps
    warnings and errors only, so dropping it early leaves the same run."""
    program = NESTED_PROGRAM + (
        "import pulumi\npulumi.log.debug('resolving', resource=box)\npulumi.log.debug('plain')\n"
        "pulumi.log.warn('kept')\npulumi.log.error('also kept')\n")
    folder = make_project(program)
    fast = run_program(load_project(folder, "dev"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(sdk_speedups.OFF_SWITCH, "no-debug")
        slow = run_program(load_project(folder, "dev"))
    assert (fast.warnings, fast.errors) == (slow.warnings, slow.errors) == (["kept"], ["also kept"])
    assert fast.resources == slow.resources


# A program that notes which of the SDK's functions and which collector thresholds it runs with.
PROBE = NESTED_PROGRAM + """
import gc, sys
import pulumi._types, pulumi.log
from pulumi.runtime import resource
sys.cdb_probe = {"stack-walk": resource._get_stack_trace, "no-debug": pulumi.log.debug,
                 "type-memo": pulumi._types.resource_types, "rare-gc": gc.get_threshold()}
"""


def _probe(folder: Path, off: str) -> tuple[dict, object]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(sdk_speedups.OFF_SWITCH, off)
        run = run_program(load_project(folder, "dev"))
    return sys.__dict__.pop("cdb_probe"), run


def _sdk_own() -> dict:
    return {"stack-walk": sdk_resource._get_stack_trace, "no-debug": log.debug, "type-memo": _types.resource_types,
            "rare-gc": gc.get_threshold()}


@pytest.mark.parametrize("off", sdk_speedups.SPEEDUPS)
def test_each_speedup_switched_off_runs_the_sdks_own_code_and_records_the_same_program(make_project, off):
    folder = make_project(PROBE)
    baseline_probe, baseline = _probe(folder, "")
    probe, run = _probe(folder, off)
    own = _sdk_own()
    for name in own:  # on: replaced; off: the SDK's own
        assert (baseline_probe[name] == own[name]) is False, f"{name} is not active by default"
        assert (probe[name] == own[name]) is (name == off), name
    assert run.resources == baseline.resources
    assert (run.warnings, run.errors, run.unanswered) == (baseline.warnings, baseline.errors, baseline.unanswered)


def _settled(resources: list) -> list:
    """Resources with their dependencies in URN order: the SDK gathers them in a set, so their order
    differs between any two runs of the same program, speed-ups or not."""
    return [replace(r, dependencies=tuple(sorted(r.dependencies)),
                    property_dependencies={k: tuple(sorted(v)) for k, v in r.property_dependencies.items()})
            for r in resources]


def test_all_switched_off_the_dev_stack_records_exactly_what_the_speedups_record(monkeypatch):
    fast = run_program(load_project(ROOT, "dev"))
    monkeypatch.setenv(sdk_speedups.OFF_SWITCH, "all")
    slow = run_program(load_project(ROOT, "dev"))
    assert len(fast.resources) > 100
    assert _settled(fast.resources) == _settled(slow.resources)
    assert (fast.warnings, fast.errors, fast.unanswered) == (slow.warnings, slow.errors, slow.unanswered)


def test_echo_switched_off_sends_every_registration_the_mocks_way(make_project, monkeypatch):
    from pulumi.runtime import mocks

    mock_answers = []
    mock_register = mocks.MockMonitor.RegisterResource

    def counted(self, request):
        mock_answers.append(request.type)
        return mock_register(self, request)

    monkeypatch.setattr(mocks.MockMonitor, "RegisterResource", counted)
    folder = make_project(NESTED_PROGRAM)
    echoed = run_program(load_project(folder, "dev"))
    assert mock_answers == ["pulumi:pulumi:Stack"]  # echo on: only the root stack takes the mock's path
    mock_answers.clear()
    monkeypatch.setenv(sdk_speedups.OFF_SWITCH, "echo")
    mocked = run_program(load_project(folder, "dev"))
    assert len(mock_answers) == len(mocked.resources)
    assert mocked.resources == echoed.resources


def test_an_unknown_speedup_name_is_one_line_and_exit_2(monkeypatch, capsys):
    monkeypatch.setenv(sdk_speedups.OFF_SWITCH, "stack-walk,warp-drive")
    assert main(["preview", "--stack", "dev", "--cwd", str(ROOT)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"cdb preview: error: {sdk_speedups.OFF_SWITCH}: unknown speed-up warp-drive; use all or a comma list of "
                   "stack-walk, type-memo, no-debug, rare-gc, echo"]


def test_the_program_runs_with_the_programs_collector_thresholds_and_the_caller_gets_its_own_back(make_project):
    from cdb_engine.preview import collector

    folder = make_project(PROBE)
    before = gc.get_threshold()
    with collector.rare_collections():  # as `cdb preview` wraps the whole verdict
        probe, _ = _probe(folder, "")
        assert gc.get_threshold() == collector.RARE
    assert probe["rare-gc"] == collector.PROGRAM != collector.RARE
    assert gc.get_threshold() == before
