"""An incomplete verdict is not a pass: exit 3 in every format, 0 only when a reviewer accepts it."""

from __future__ import annotations

import json

import pytest

from cdb_cli import main

# Compliant as far as it can be seen, but built from a value only the cluster assigns (metadata.uid).
UNKNOWN_FROM_CLUSTER = """
import pulumi_kubernetes as k8s
M = {"labels": {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/component": "web"},
     "annotations": {"cdb-infra.io/git-revision": "0123456789abcdef0123456789abcdef01234567"}}
owner = k8s.core.v1.ConfigMap("owner", metadata={"name": "owner", "namespace": "apps", **M}, data={"a": "b"})
k8s.core.v1.ConfigMap("ref", metadata={"name": "ref", "namespace": "apps", **M}, data={"uid": owner.metadata.uid})
"""

HELM_RELEASE = """
import pulumi_kubernetes as k8s
k8s.helm.v3.Release("ingress", chart="ingress-nginx", version="4.11.3", namespace="ingress")
"""


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
@pytest.mark.parametrize("program", [UNKNOWN_FROM_CLUSTER, HELM_RELEASE], ids=["not-checked", "not-expanded"])
def test_an_incomplete_preview_exits_3_in_every_format_and_0_only_when_accepted(make_project, capsys, fmt, program):
    folder = make_project(program)
    assert main(["preview", "--stack", "dev", "--cwd", str(folder), "--format", fmt]) == 3
    out = capsys.readouterr().out
    if fmt == "json":
        summary = json.loads(out)["summary"]
        assert summary["exitCode"] == 3 and summary["verdict"] == "incomplete" and not summary["complete"]
    elif fmt == "sarif":
        invocation = json.loads(out)["runs"][0]["invocations"][0]
        assert invocation["exitCode"] == 3
        assert any(n["descriptor"]["id"] == "cdb/incomplete" and n["level"] == "error"
                   for n in invocation["toolExecutionNotifications"])
    else:
        assert "Verdict: INCOMPLETE" in out and "(exit 3" in out

    assert main(["preview", "--stack", "dev", "--cwd", str(folder), "--format", fmt, "--accept-incomplete"]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        summary = json.loads(out)["summary"]
        assert summary["exitCode"] == 0 and summary["incompleteAccepted"] and not summary["complete"]
    elif fmt == "text":
        assert "accepted by --accept-incomplete" in out


def test_accepting_incompleteness_never_hides_a_violation(make_project, capsys):
    program = UNKNOWN_FROM_CLUSTER + '\nk8s.core.v1.ConfigMap("bare", metadata={"name": "bare", "namespace": "apps"})\n'
    folder = make_project(program)
    assert main(["preview", "--stack", "dev", "--cwd", str(folder), "--accept-incomplete"]) == 1
    assert "k8s-provenance-metadata" in capsys.readouterr().out
