"""Kafka enabled comes up behind its zone's default-deny: the Strimzi operator, the entity operator and the
nodes declare their flows, the component writes the policies that admit them before the operator runs,
and the pack models the pods Strimzi creates (connectivity, capacity, admission judge them)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
import yaml

from cdb_cli import main
from cdb_core.project import load_project
from cdb_engine.manifests.render import render_files, render_project
from tests.stack.platform_stack import stack_config

ROOT = Path(__file__).resolve().parents[2]
FLOWS = "system-flows-admitted"


def with_kafka(stack: str, tmp_path: Path, **kafka: object) -> Path:
    """A copy of the project whose stack file turns Kafka on (the way a user does it)."""
    project = tmp_path / "project"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(".venv", ".git", "deploy", "__pycache__", "tests"))
    path = project / f"Pulumi.{stack}.yaml"
    data = yaml.safe_load(path.read_text())
    data["config"]["cdb-infra:kafka"] = {"enabled": True, **kafka}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return project


def rendered_with_kafka(stack: str, tmp_path: Path, **kafka: object) -> Path:
    project = load_project(ROOT, stack)
    config = {**stack_config(stack), "cdb-infra:kafka": {"enabled": True, **kafka}}
    flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    files = render_files(render_project(dataclasses.replace(project, config=flat)))
    out = tmp_path / "rendered"
    for name, text in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)
    return out


def check(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> tuple[int, dict]:
    report = tmp_path / "check.json"
    code = main(["check", str(folder), "--format", "json", "--output", str(report)])
    capsys.readouterr()
    return code, json.loads(report.read_text())


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_stack_with_kafka_enabled_previews_clean_with_every_kafka_flow_judged(stack, tmp_path, capsys):
    project = with_kafka(stack, tmp_path, clientZones=["apps"])
    report = tmp_path / "preview.json"
    code = main(["preview", "--stack", stack, "--cwd", str(project), "--format", "json", "--output", str(report)])
    capsys.readouterr()
    data = json.loads(report.read_text())
    assert data["violations"] == [] and data["unchecked"] == [] and code == 0, data["violations"] or data["unchecked"]
    names = {r["name"] for r in data["resources"] if r["type"].endswith("NetworkPolicy")}
    # The policies that open the bootstrap are the stack's own, not Strimzi's generated ones.
    assert {"events-operator-egress", "events-nodes", "events-entity-operator-egress", "events-client-egress-apps"} <= names


def _without(folder: Path, kind: str, name: str) -> None:
    for path in folder.rglob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        if isinstance(doc, dict) and doc.get("kind") == kind and doc.get("metadata", {}).get("name") == name:
            path.unlink()
            return
    raise AssertionError(f"{kind} {name} is not rendered")


def test_the_rendered_kafka_zone_passes_and_removing_the_operator_egress_denies_its_flows(tmp_path, capsys):
    folder = rendered_with_kafka("prod", tmp_path)
    code, data = check(folder, tmp_path, capsys)
    assert code == 0 and data["violations"] == [], data["violations"]
    _without(folder, "NetworkPolicy", "events-strimzi-operator-egress")
    code, data = check(folder, tmp_path, capsys)
    denied = [v["message"] for v in data["violations"] if v["policy"] == FLOWS]
    assert code == 1
    assert any("strimzi-cluster-operator" in m and "the API server" in m and "denied at the source" in m
               for m in denied), denied
    assert any("strimzi-cluster-operator" in m and "port 9091" in m for m in denied), denied


def test_removing_the_nodes_policy_denies_the_quorum_and_the_operators_at_the_nodes(tmp_path, capsys):
    folder = rendered_with_kafka("prod", tmp_path)
    _without(folder, "NetworkPolicy", "events-kafka-nodes")
    code, data = check(folder, tmp_path, capsys)
    denied = [v["message"] for v in data["violations"] if v["policy"] == FLOWS]
    assert code == 1
    # The nodes are modelled from the KafkaNodePool (created by the Kafka), so their own flows are judged too.
    assert any("created by Kafka kafka/events" in m and "port 9090" in m for m in denied), denied
    assert any("events-entity-operator" in m and "denied at the destination" in m for m in denied), denied


def test_an_entity_operator_without_a_security_context_is_refused_by_admission(tmp_path, capsys):
    folder = rendered_with_kafka("prod", tmp_path)
    kafka = next(p for p in folder.rglob("*.yaml") if yaml.safe_load(p.read_text()).get("kind") == "Kafka")
    doc = yaml.safe_load(kafka.read_text())
    del doc["spec"]["entityOperator"]["template"]["topicOperatorContainer"]
    kafka.write_text(yaml.safe_dump(doc))
    code, data = check(folder, tmp_path, capsys)
    refused = [v["message"] for v in data["violations"] if "topic-operator" in v["message"]]
    assert code == 1 and refused, data["violations"]
