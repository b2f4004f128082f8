"""The pack reaches the SDK's private API through sdk_adapter.py only, and when the installed SDK is not a
version the adapter was proven with, it serves with the SDK's own servicer, says so, and gives the same
verdicts."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import grpc
import pytest
import yaml
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from cdb_cli import main
from policy_pack import pack, sdk_adapter, server
from policy_pack.rules import POLICIES
from policy_pack.rules.helpers.no_exceptions import PolicyConfigRefused
from pulumi_policy import EnforcementLevel

from . import harness
from .cases import CASES
from .harness import Node, analyze_stack, servicer, to_struct
from .stack_cases import STACK_CASES
from .test_no_exceptions import configure_request
from .test_pack_process import PACK_DIR, _read_port

pytestmark = pytest.mark.sdk_equality

ROOT = Path(__file__).resolve().parents[2]
FAKE = "1.99.0"  # a pulumi-policy the adapter was never proven with


@pytest.fixture
def faked_sdk_version(monkeypatch):
    """pulumi-policy's installed version, as importlib.metadata reports it, is FAKE."""
    real = metadata.version
    monkeypatch.setattr(sdk_adapter.metadata, "version",
                        lambda package: FAKE if package == "pulumi-policy" else real(package))
    monkeypatch.setattr(server, "_said", [])


def fast() -> pack.PackServicer:
    """The pack's own servicer, whichever SDK is installed (the newest-SDK lane proves it there)."""
    return sdk_adapter.sdk_servicer(pack.PackServicer, name="cdb-infra-policy", version="0.1.0", policies=POLICIES,
                                    enforcement_level=EnforcementLevel.MANDATORY)


# --- one adapter module --------------------------------------------------------------------------

_PRIVATE_MODULES = ("pulumi_policy.policy", "pulumi_policy.proxy", "pulumi_policy.deserialize")


def _parse(path: Path) -> ast.Module:
    """The file's syntax tree. CPython 3.11's AST constructor can refuse with a spurious "recursion depth
    mismatch" SystemError after deep recursion elsewhere in the same interpreter (seen late in the full
    suite); the tree is then rebuilt from a fresh interpreter's dump, which is the same tree."""
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    except SystemError:
        import pickle
        import subprocess
        import sys

        code = "import ast, pickle, sys; sys.stdout.buffer.write(pickle.dumps(ast.parse(open(sys.argv[1], encoding='utf-8').read())))"
        out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, check=True).stdout
        return pickle.loads(out)


def _private_uses(path: Path) -> list[str]:
    """Uses of the SDK's private API in one file: underscore names imported from pulumi or pulumi_policy,
    pulumi_policy's modules it does not re-export, the servicer's mangled fields and underscore helpers."""
    tree = _parse(path)
    helpers = set(sdk_adapter._METHODS)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("pulumi", "pulumi_policy"):
            if node.module in _PRIVATE_MODULES:
                found.append(f"from {node.module} import")
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
            found += [f"pulumi_policy.{a.name}" for a in node.names if node.module == "pulumi_policy"
                      and f"pulumi_policy.{a.name}" in _PRIVATE_MODULES]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name in _PRIVATE_MODULES]
        elif isinstance(node, ast.Attribute) and (node.attr.startswith("_PolicyAnalyzerServicer") or node.attr in helpers):
            found.append(node.attr)
        elif isinstance(node, ast.Name) and node.id.startswith("_PolicyAnalyzerServicer"):
            found.append(node.id)
    return [f"{path.relative_to(ROOT)}: {use}" for use in found]


def test_no_module_of_the_pack_but_the_adapter_touches_private_sdk_api():
    adapter = PACK_DIR / "sdk_adapter.py"
    uses = [use for path in sorted(PACK_DIR.rglob("*.py")) if path != adapter for use in _private_uses(path)]
    assert uses == []
    assert _private_uses(adapter), "the scan must see what the adapter itself does"


def test_every_sdk_pin_the_pack_installs_is_a_version_the_adapter_was_proven_with():
    pins = dict(re.findall(r"^([a-z0-9-]+)==(\S+)", (PACK_DIR / "requirements.txt").read_text(), re.MULTILINE))
    project = (ROOT / "pyproject.toml").read_text()
    for package, proven in sdk_adapter.PROVEN.items():
        assert pins[package] in proven, f"policy_pack/requirements.txt pins {package} {pins[package]}"
        assert f'"{package}=={pins[package]}"' in project, f"pyproject.toml pins {package} elsewhere"


def test_the_pinned_sdk_is_served_by_the_packs_own_servicer(capsys):
    if sdk_adapter.installed()["pulumi-policy"] not in sdk_adapter.PROVEN["pulumi-policy"]:
        pytest.skip("a newer SDK than the pins (the newest-SDK lane): the stock path serves")
    assert isinstance(pack.servicer(), pack.PackServicer)
    assert capsys.readouterr().err == ""


# --- the start-up check --------------------------------------------------------------------------

def test_another_sdk_version_is_served_by_the_sdks_own_servicer_with_one_line_saying_so(faked_sdk_version, capsys):
    first, second = pack.servicer(), pack.servicer()
    assert isinstance(first, pack.StockPackServicer) and isinstance(second, pack.StockPackServicer)
    assert isinstance(first._sdk, sdk_adapter.SdkServicer) and not isinstance(first._sdk, server.Servicer)
    err = capsys.readouterr().err.splitlines()
    assert err == [f"policy pack cdb-infra-policy: pulumi-policy {FAKE} is not a version the SDK adapter was proven "
                   f"with ({', '.join(sdk_adapter.PROVEN['pulumi-policy'])}); serving with the SDK's own servicer "
                   "(slower, same verdicts)"]


def test_a_private_helper_missing_from_the_sdk_selects_the_stock_path(monkeypatch):
    monkeypatch.setattr(sdk_adapter, "_METHODS", (*sdk_adapter._METHODS, "_a_helper_a_newer_sdk_dropped"))
    monkeypatch.setattr(server, "_said", [])
    assert "_a_helper_a_newer_sdk_dropped" in sdk_adapter.unproven()
    assert isinstance(pack.servicer(), pack.StockPackServicer)


def test_a_private_field_missing_from_the_sdks_servicer_selects_the_stock_path(monkeypatch, capsys):
    monkeypatch.setattr(sdk_adapter, "_FIELDS", (*sdk_adapter._FIELDS, "a_field_a_newer_sdk_renamed"))
    monkeypatch.setattr(server, "_said", [])
    assert isinstance(pack.servicer(), pack.StockPackServicer)
    assert "lacks _PolicyAnalyzerServicer__a_field_a_newer_sdk_renamed" in capsys.readouterr().err


def test_the_off_switch_selects_the_stock_path(monkeypatch):
    monkeypatch.setenv(sdk_adapter.OFF_SWITCH, "off")
    monkeypatch.setattr(server, "_said", [])
    assert isinstance(pack.servicer(), pack.StockPackServicer)


# --- the same verdicts on the stock path ---------------------------------------------------------

def _resource_cases():
    for policy, kinds in CASES.items():
        for kind, cases in kinds.items():
            for case in cases:
                yield pytest.param(case.resource, id=f"{policy}-{kind}-{case.label}")


def _stack_cases():
    for policy, kinds in STACK_CASES.items():
        for kind, cases in kinds.items():
            for label, build, _ in cases:
                yield pytest.param(build, id=f"{policy}-{kind}-{label}")


@pytest.mark.parametrize("resource", list(_resource_cases()))
def test_every_resource_case_gets_the_same_answer_on_the_stock_path(resource, monkeypatch):
    resource_type, props = resource
    request = analyzer_pb2.AnalyzeRequest(type=resource_type, properties=to_struct(props), urn="urn:x", name="x")
    ours = fast()
    monkeypatch.setenv(sdk_adapter.OFF_SWITCH, "off")
    stock = servicer()
    assert isinstance(stock, pack.StockPackServicer)
    assert stock.Analyze(request, None) == ours.Analyze(request, None)


@pytest.mark.parametrize("build", list(_stack_cases()))
def test_every_stack_case_gets_the_same_answer_on_the_stock_path(build, faked_sdk_version, monkeypatch):
    stock = analyze_stack(build())
    monkeypatch.undo()
    monkeypatch.setattr(harness, "servicer", fast)
    assert analyze_stack(build()) == stock


def test_a_stack_value_unknown_at_preview_is_not_checked_on_the_stock_path_too(faked_sdk_version, monkeypatch):
    from pulumi.runtime.rpc import UNKNOWN

    from .stack_cases import GITHUB_PROTECTION, GITHUB_REPO

    def graph() -> list[Node]:
        unknown_name = Node(GITHUB_REPO, {"name": UNKNOWN, "allowAutoMerge": False}, "billing")
        protection = Node(GITHUB_PROTECTION, {"repositoryId": UNKNOWN, "pattern": "main", "enforceAdmins": True,
                                              "requiredPullRequestReviews": [{"requiredApprovingReviewCount": 1}],
                                              "requiredStatusChecks": [{"contexts": ["tests", "policy-preview"]}]},
                          "billing-main", dependencies=["billing"])
        return [unknown_name, protection, Node(GITHUB_REPO, {"name": "playground", "allowAutoMerge": True}, "playground")]

    stock = [f for f in analyze_stack(graph()).findings if f.policy == "github-repository-governed"]
    monkeypatch.undo()
    monkeypatch.setattr(harness, "servicer", fast)
    ours = [f for f in analyze_stack(graph()).findings if f.policy == "github-repository-governed"]
    # The same violations; what was not checked the SDK's servicer reports once for the whole policy
    # (it cannot name resources), so the verdict is "not checked" on both paths.
    assert [f for f in stock if f.enforcement == "mandatory"] == [f for f in ours if f.enforcement == "mandatory"] != []
    unchecked = [f for f in stock if f.enforcement == "advisory"]
    assert [f.urn for f in unchecked] == [""]
    assert unchecked[0].message.startswith("can't run policy 'github-repository-governed'")
    assert "2 resources not checked" in unchecked[0].message
    assert len([f for f in ours if f.enforcement == "advisory"]) == 2


def test_clause_8_refuses_a_weakened_config_on_the_stock_path(faked_sdk_version):
    stock = servicer()
    assert isinstance(stock, pack.StockPackServicer)
    stock.Configure(configure_request({}), None)
    with pytest.raises(PolicyConfigRefused, match="k8s-probes-required=disabled; CDB_INFRA_POLICY clause 8"):
        stock.Configure(configure_request({"k8s-probes-required": "disabled"}), None)


def test_cdb_check_judges_in_process_on_the_stock_path_with_the_same_report(tmp_path, capsys, monkeypatch):
    documents = []
    for kinds in CASES.values():
        for case in kinds["fail"] + kinds["pass"]:
            resource_type, props = case.resource
            if resource_type.startswith("kubernetes:"):
                _, group_version, kind = resource_type.split(":")
                documents.append({"apiVersion": group_version.removeprefix("core/"), "kind": kind, **props})
    path = tmp_path / "cases.yaml"
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))

    def report() -> dict:
        code = main(["check", str(path), "--format", "json"])
        out = capsys.readouterr()
        assert json.loads(out.out)["summary"]["exitCode"] == code == 1
        return json.loads(out.out) | {"stderr": [line for line in out.err.splitlines() if "SDK's own" in line]}

    ours = report()
    monkeypatch.setattr(server, "_said", [])
    monkeypatch.setenv(sdk_adapter.OFF_SWITCH, "off")
    stock = report()
    assert stock["stderr"] and not ours["stderr"]
    assert {k: v for k, v in stock.items() if k != "stderr"} == {k: v for k, v in ours.items() if k != "stderr"}


# --- under the Pulumi CLI's start-up ---------------------------------------------------------------

@contextmanager
def _pack(tmp_path: Path, fake_version: str | None):
    """The pack started as the Pulumi CLI starts it; with fake_version, a pulumi-policy distribution of
    that version comes first on the path, as an upgraded virtual environment would report it."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PULUMI_", "CDB_"))}
    env.update(PULUMI_PROJECT="cdb-infra", PULUMI_STACK="test", PULUMI_DRY_RUN="true")
    if fake_version:
        info = tmp_path / "fake" / f"pulumi_policy-{fake_version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: pulumi-policy\nVersion: {fake_version}\n")
        env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "fake"), env.get("PYTHONPATH", "")])
    process = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(PACK_DIR)],
                               cwd=PACK_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{_read_port(process)}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel), process
    finally:
        process.kill()
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()


def _conversation(stub) -> list:
    """Configure, every failing resource case, and one stack of every failing stack case's first graph."""
    answers = [stub.Configure(configure_request({}), timeout=30)]
    for kinds in CASES.values():
        resource_type, props = kinds["fail"][0].resource
        answers.append(stub.Analyze(analyzer_pb2.AnalyzeRequest(
            type=resource_type, properties=to_struct(props), urn=f"urn:pulumi:test::cdb-infra::{resource_type}::x",
            name="x"), timeout=30))
    resources = []
    for i, kinds in enumerate(STACK_CASES.values()):
        for node in kinds["fail"][0][1]():
            resources.append(analyzer_pb2.AnalyzerResource(type=node.type, properties=to_struct(node.props),
                                                           urn=f"{node.urn}-{i}", name=node.name))
    answers.append(stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources), timeout=60))
    with pytest.raises(grpc.RpcError) as refused:
        stub.Configure(configure_request({"k8s-probes-required": "advisory"}), timeout=30)
    answers.append((refused.value.code(), refused.value.details()))
    return answers


def _verdict(response) -> tuple[list, set]:
    mandatory = [(d.policyName, d.urn, d.message) for d in response.diagnostics
                 if d.enforcementLevel == analyzer_pb2.MANDATORY]
    return mandatory, {d.policyName for d in response.diagnostics if d.enforcementLevel == analyzer_pb2.ADVISORY}


def test_the_pack_under_the_clis_start_up_with_another_sdk_says_so_and_answers_the_same(tmp_path):
    with _pack(tmp_path, FAKE) as (stub, process):
        stock = _conversation(stub)
        process.kill()
        process.wait(timeout=10)
        said = process.stderr.read().splitlines()
    with _pack(tmp_path, None) as (stub, process):
        ours = _conversation(stub)
    assert [line for line in said if "serving with the SDK's own servicer" in line] == [
        f"policy pack cdb-infra-policy: pulumi-policy {FAKE} is not a version the SDK adapter was proven with "
        f"({', '.join(sdk_adapter.PROVEN['pulumi-policy'])}); serving with the SDK's own servicer (slower, same verdicts)"]
    assert stock[:-2] == ours[:-2]  # Configure and every resource answer: identical
    assert stock[-1] == ours[-1] and stock[-1][0] == grpc.StatusCode.FAILED_PRECONDITION
    # The stack: the same violations; what was not checked, per policy instead of per resource (see above).
    assert _verdict(stock[-2]) == _verdict(ours[-2])
    assert [d.urn for d in stock[-2].diagnostics if d.enforcementLevel == analyzer_pb2.ADVISORY] == [""]
    assert any(answer.diagnostics for answer in stock[1:-1])


def test_cdb_preview_passes_the_packs_line_on_and_reports_the_same_on_the_stock_path(monkeypatch, capsys):
    from cdb_engine.judge.pack_process import STOCK_PATH_NOTE

    def report() -> tuple[dict, list[str]]:
        code = main(["preview", "--stack", "dev", "--cwd", str(ROOT), "--format", "json"])
        out = capsys.readouterr()
        result = json.loads(out.out)
        assert result["summary"]["exitCode"] == code
        return result, [line for line in out.err.splitlines() if STOCK_PATH_NOTE in line]

    ours, said = report()
    assert said == []
    monkeypatch.setenv(sdk_adapter.OFF_SWITCH, "off")
    stock, said = report()
    assert said == [f"cdb: policy pack cdb-infra-policy: {sdk_adapter.OFF_SWITCH} is off; {STOCK_PATH_NOTE} "
                    "(slower, same verdicts)"]
    assert stock == ours
