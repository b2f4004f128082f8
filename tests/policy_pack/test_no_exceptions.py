"""Clause 8, "Keine Ausnahmen": config that weakens any policy is refused when the pack is configured,
through the servicer, over the real gRPC protocol, and through the cdb engine and CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from cdb_cli import main
from cdb_engine.run import check, preview
from policy_pack.rules import POLICIES
from policy_pack.rules.helpers.no_exceptions import PolicyConfigRefused, refusal

from .harness import servicer, to_struct
from .test_pack_process import PACK_DIR, _read_port

ROOT = Path(__file__).resolve().parents[2]
LEVEL = {"advisory": analyzer_pb2.ADVISORY, "mandatory": analyzer_pb2.MANDATORY,
         "disabled": analyzer_pb2.DISABLED, "remediate": analyzer_pb2.REMEDIATE}


@contextmanager
def started_pack() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The pack as the Pulumi CLI starts it, and a stub to it."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PULUMI_")}
    env.update(PULUMI_PROJECT="cdb-infra", PULUMI_STACK="test", PULUMI_DRY_RUN="true")
    process = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(PACK_DIR)],
                               cwd=PACK_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{_read_port(process)}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.kill()
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()


def configure_request(overrides: dict[str, str]) -> analyzer_pb2.ConfigureAnalyzerRequest:
    return analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={
        policy.name: analyzer_pb2.PolicyConfig(enforcementLevel=LEVEL[overrides.get(policy.name, "mandatory")],
                                               properties=to_struct({}))
        for policy in POLICIES})


def test_configure_with_every_policy_mandatory_is_accepted():
    servicer().Configure(configure_request({}), None)


@pytest.mark.parametrize("level", ["advisory", "disabled", "remediate"])
def test_configure_lowering_one_policy_is_refused_naming_it_and_clause_8(level):
    with pytest.raises(PolicyConfigRefused) as error:
        servicer().Configure(configure_request({"ai-no-vault-role": level}), None)
    assert str(error.value).startswith(f"policy config refused: ai-no-vault-role={level}; CDB_INFRA_POLICY clause 8")


def test_refusal_of_all_policies_lists_five_and_counts_the_rest():
    message = refusal({policy.name: analyzer_pb2.ADVISORY for policy in POLICIES}, [p.name for p in POLICIES])
    assert f"and {len(POLICIES) - 5} more" in message


def test_a_refused_configure_leaves_the_pack_mandatory():
    pack = servicer()
    with pytest.raises(PolicyConfigRefused):
        pack.Configure(configure_request({"k8s-probes-required": "disabled"}), None)
    from .cases import CASES

    failing = CASES["k8s-probes-required"]["fail"][0]
    response = pack.Analyze(analyzer_pb2.AnalyzeRequest(type=failing.resource[0],
                                                        properties=to_struct(failing.resource[1])), None)
    assert {d.enforcementLevel for d in response.diagnostics if d.policyName == "k8s-probes-required"} == {
        analyzer_pb2.MANDATORY}


def test_pack_started_like_the_cli_refuses_advisory_config_over_grpc():
    with started_pack() as stub:
        stub.Configure(configure_request({}), timeout=10)
        with pytest.raises(grpc.RpcError) as error:
            stub.Configure(configure_request({"k8s-no-literal-secret-data": "advisory"}), timeout=10)
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error.value.details().startswith("policy config refused: k8s-no-literal-secret-data=advisory")


def test_offline_check_with_a_disabled_policy_ends_in_an_error_verdict(tmp_path):
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
    verdict = check([manifest], policy_config={"k8s-provenance-metadata": "disabled"})
    assert verdict.exit_code() == 2
    assert any("k8s-provenance-metadata=disabled" in error and "clause 8" in error for error in verdict.errors)


def test_cdb_check_with_an_all_advisory_config_file_exits_2(tmp_path, capsys):
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({"all": "advisory"}))
    assert main(["check", str(manifest), "--policy-config", str(config)]) == 2
    out = capsys.readouterr()
    assert "clause 8" in out.out + out.err


def test_preview_of_the_dev_stack_with_all_advisory_is_refused():
    verdict = preview(ROOT, "dev", policy_config={"all": "advisory"})
    assert verdict.exit_code() == 2
    assert verdict.violations == []
    assert any("policy config refused" in error and "k8s-probes-required=advisory" in error
               for error in verdict.errors)
