"""The pack starts the way the Pulumi CLI starts it and answers over the real Analyzer gRPC protocol."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
from pathlib import Path

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from policy_pack.rules import PACK_NAME, POLICIES

from .cases import CASES
from .harness import to_struct

PACK_DIR = Path(__file__).resolve().parents[2] / "policy_pack"
START_TIMEOUT = 30.0


def _read_port(process: subprocess.Popen) -> int:
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    if not selector.select(timeout=START_TIMEOUT):
        raise AssertionError(f"pack printed no port within {START_TIMEOUT}s")
    line = process.stdout.readline().strip()
    if not line.isdigit():
        stderr = process.stderr.read() if process.poll() is not None else ""
        raise AssertionError(f"expected a port line, got {line!r}; stderr: {stderr}")
    return int(line)


def test_pack_started_like_the_cli_lists_every_policy_as_mandatory_and_rejects_over_grpc():
    env = {key: value for key, value in os.environ.items() if not key.startswith("PULUMI_")}
    env.update(PULUMI_PROJECT="cdb-infra", PULUMI_STACK="test", PULUMI_DRY_RUN="true")
    process = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(PACK_DIR)],
                               cwd=PACK_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = _read_port(process)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=10)
            assert info.name == PACK_NAME
            listed = {policy.name: policy for policy in info.policies}
            assert set(listed) == {policy.name for policy in POLICIES}
            mandatory = analyzer_pb2.EnforcementLevel.Value("MANDATORY")
            assert all(policy.enforcementLevel == mandatory for policy in listed.values())
            assert all(policy.framework.name == "CDB_INFRA_POLICY" for policy in listed.values())

            failing = CASES["k8s-probes-required"]["fail"][0]
            response = stub.Analyze(analyzer_pb2.AnalyzeRequest(
                type=failing.resource[0], properties=to_struct(failing.resource[1]),
                urn="urn:pulumi:test::cdb-infra::kubernetes:apps/v1:Deployment::web", name="web"), timeout=10)
            messages = [d.message for d in response.diagnostics if d.policyName == "k8s-probes-required"]
            assert any(failing.expect in message for message in messages)
    finally:
        process.kill()
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()
