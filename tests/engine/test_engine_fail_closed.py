"""When the pack cannot run, the verdict is an error (exit 2), never a pass."""

from __future__ import annotations

import pytest

from cdb_engine.judge import pack_process
from cdb_engine.run import preview

from pathlib import Path

PACKS = Path(__file__).parent / "data" / "packs"

PROGRAM = """
import pulumi_kubernetes as k8s
k8s.core.v1.ConfigMap("cm", metadata={"name": "cm", "namespace": "apps"}, data={"a": "b"})
"""


def test_a_policy_that_raises_makes_the_verdict_an_error(make_project):
    verdict = preview(make_project(PROGRAM), "dev", PACKS / "raises")
    assert verdict.exit_code() == 2
    assert any("Analyze failed" in e and "boom" in e for e in verdict.errors), verdict.errors
    assert verdict.violations == []


def test_a_pack_that_dies_at_start_makes_the_verdict_an_error(make_project):
    verdict = preview(make_project(PROGRAM), "dev", PACKS / "crashes")
    assert verdict.exit_code() == 2
    assert any("failed to start" in e and "missing dependency" in e for e in verdict.errors), verdict.errors


def test_a_pack_that_never_reports_its_port_times_out(make_project, monkeypatch):
    monkeypatch.setattr(pack_process, "START_TIMEOUT_S", 2.0)
    verdict = preview(make_project(PROGRAM), "dev", PACKS / "hangs")
    assert verdict.exit_code() == 2
    assert any("did not report its port" in e for e in verdict.errors), verdict.errors


def test_a_policy_that_never_returns_hits_the_call_deadline(make_project, monkeypatch):
    monkeypatch.setattr(pack_process, "CALL_TIMEOUT_S", 2.0)
    verdict = preview(make_project(PROGRAM), "dev", PACKS / "stalls")
    assert verdict.exit_code() == 2
    assert any("did not answer within 2s" in e for e in verdict.errors), verdict.errors


def test_a_folder_that_is_not_a_pack_is_an_error(make_project, tmp_path):
    verdict = preview(make_project(PROGRAM), "dev", tmp_path)
    assert verdict.exit_code() == 2
    assert any("not a policy pack" in e for e in verdict.errors)


@pytest.mark.parametrize("level", ["advisory", "disabled"])
def test_policy_config_levels_reach_the_pack(make_project, level, tmp_path):
    # The `raises` pack's only policy never runs when disabled: proof that Configure took effect.
    verdict = preview(make_project(PROGRAM), "dev", PACKS / "raises", policy_config={"explodes": level})
    if level == "disabled":
        assert verdict.exit_code() == 0 and not verdict.errors
    else:
        assert verdict.exit_code() == 2


def test_a_config_too_large_for_the_environment_is_trimmed_and_said(capsys):
    config = {"p:small": "1", "p:huge": "x" * (pack_process.MAX_CONFIG_ENV + 10)}
    import json

    env = json.loads(pack_process._config_env(config))
    assert env == {"p:small": "1"}
    assert "p:huge reach the pack only through ConfigureStack" in capsys.readouterr().err
