"""What `cdb audit breakglass` tells people to put on their change is what the policy pack accepts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from cdb_ops.audit.breakglass import annotations, record_data
from tests.policy_pack.harness import analyze

POLICY = "break-glass-marker-complete"


def _config_map(marks: dict[str, str]) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "hotfix", "namespace": "apps",
            "annotations": marks}, "data": {"mode": "degraded"}}


def test_the_printed_annotations_satisfy_the_break_glass_policy():
    now = datetime.now(timezone.utc).replace(microsecond=0)
    data = record_data("INC-4711", "incident", "dora@example.org", now.isoformat(), (now + timedelta(hours=4)).isoformat())
    outcome = analyze("kubernetes:core/v1:ConfigMap", _config_map(annotations(data, "3:sha256:abc")))
    assert outcome.messages(POLICY) == []


def test_the_same_annotations_after_their_expiry_are_rejected():
    past = datetime.now(timezone.utc) - timedelta(days=2)
    data = record_data("INC-4711", "incident", "dora@example.org", past.isoformat(), (past + timedelta(hours=4)).isoformat())
    outcome = analyze("kubernetes:core/v1:ConfigMap", _config_map(annotations(data, None)))
    assert any("expir" in m for m in outcome.messages(POLICY)), outcome.findings
