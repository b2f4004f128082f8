"""Application services declare their path to the backbone servers their zone is a client of (event bus,
Redis, Kafka), so the pack's connectivity rule judges it: a NetworkPolicy that cuts an application zone off
the bus is a violation naming the flow, not a silent outage."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from cdb_core.project import load_project
from cdb_stack.parts import Clients, EventBusOffer, KafkaOffer, Published, RedisOffer
from cdb_engine.manifests.render import render_files, render_project
from components.network import Peer
from tests.stack.platform_stack import stack_config
from tests.stack.test_kafka_connectivity import FLOWS, check, rendered_with_kafka

ROOT = Path(__file__).resolve().parents[2]
APPS = ("orders-api", "insight-ai")
NATS = {"port": 4222, "purpose": "publish and consume events", "service": "event-bus/nats"}
REDIS = {"port": 6379, "purpose": "send events over the Redis transport", "service": "event-bus/redis"}


def rendered(stack: str, tmp_path: Path) -> Path:
    project = load_project(ROOT, stack)
    flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in stack_config(stack).items()}
    out = tmp_path / "rendered"
    for name, text in render_files(render_project(dataclasses.replace(project, config=flat))).items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)
    return out


def doc_path(folder: Path, kind: str, namespace: str, name: str) -> Path:
    for path in folder.rglob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        meta = doc.get("metadata", {}) if isinstance(doc, dict) else {}
        if doc and doc.get("kind") == kind and meta.get("name") == name and meta.get("namespace") == namespace:
            return path
    raise AssertionError(f"{kind} {namespace}/{name} is not rendered")


def flows_of(folder: Path, app: str) -> list[dict]:
    doc = yaml.safe_load(doc_path(folder, "Deployment", "apps", app).read_text())
    return json.loads(doc["spec"]["template"]["metadata"]["annotations"]["cdb-infra.io/flows"])


def denied(data: dict) -> list[str]:
    return [v["message"] for v in data["violations"] if v["policy"] == FLOWS]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_app_service_declares_its_client_flows_and_the_stack_admits_them(stack, tmp_path, capsys):
    folder = rendered(stack, tmp_path)
    expected = [NATS, REDIS] if stack_config(stack).get("cdb-infra:redis", {}).get("clientZones") else [NATS]
    for app in APPS:
        assert flows_of(folder, app) == expected, app
    code, data = check(folder, tmp_path, capsys)
    assert code == 0 and data["violations"] == [] and data["unchecked"] == [], data["violations"] or data["unchecked"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_removing_the_app_zones_egress_to_nats_denies_every_app_at_the_source(stack, tmp_path, capsys):
    folder = rendered(stack, tmp_path)
    doc_path(folder, "NetworkPolicy", "apps", "allow-nats-client-egress").unlink()
    code, data = check(folder, tmp_path, capsys)
    messages = denied(data)
    assert code == 1
    for app in APPS:
        assert any(f"Deployment apps/{app}" in m and '"publish and consume events" to Service event-bus/nats port 4222/TCP'
                   in m and "denied at the source" in m for m in messages), messages
    assert not any("denied at the destination" in m for m in messages), messages


def test_removing_the_apps_zone_from_the_nats_ingress_denies_the_apps_at_the_servers(tmp_path, capsys):
    folder = rendered("dev", tmp_path)
    path = doc_path(folder, "NetworkPolicy", "event-bus", "nats")
    doc = yaml.safe_load(path.read_text())
    apps_peer = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "apps"}}}
    (client_rule,) = [r for r in doc["spec"]["ingress"] if {"port": 4222, "protocol": "TCP"} in r["ports"]]
    client_rule["from"].remove(apps_peer)
    path.write_text(yaml.safe_dump(doc))
    code, data = check(folder, tmp_path, capsys)
    messages = denied(data)
    assert code == 1
    for app in APPS:
        assert any(f"Deployment apps/{app}" in m and "Service event-bus/nats port 4222" in m
                   and "denied at the destination" in m for m in messages), messages
    # Flux's notification-controller, the other client zone, still gets through.
    assert not any("notification-controller" in m for m in messages), messages


def test_removing_the_app_zones_egress_to_redis_denies_the_redis_flow(tmp_path, capsys):
    folder = rendered("dev", tmp_path)
    doc_path(folder, "NetworkPolicy", "apps", "allow-redis-client-egress").unlink()
    code, data = check(folder, tmp_path, capsys)
    messages = denied(data)
    assert code == 1 and messages
    assert all("Service event-bus/redis port 6379" in m and "denied at the source" in m for m in messages), messages


def test_with_kafka_the_app_services_reach_the_brokers_and_losing_the_egress_is_caught(tmp_path, capsys):
    folder = rendered_with_kafka("prod", tmp_path, clientZones=["apps"])
    brokers = {"namespace": "kafka", "matchLabels": {"strimzi.io/cluster": "events", "strimzi.io/kind": "Kafka",
                                                     "strimzi.io/name": "events-kafka"}}
    kafka_flows = [f for f in flows_of(folder, "orders-api") if "pods" in f]
    assert [(f["pods"], f["port"]) for f in kafka_flows] == [(brokers, 9092)], kafka_flows
    code, data = check(folder, tmp_path, capsys)
    assert code == 0 and data["violations"] == [] and data["unchecked"] == [], data["violations"] or data["unchecked"]
    doc_path(folder, "NetworkPolicy", "apps", "events-kafka-client-egress").unlink()
    code, data = check(folder, tmp_path, capsys)
    messages = denied(data)
    assert code == 1
    assert any("Deployment apps/orders-api" in m and "port 9092" in m and "denied at the source" in m
               for m in messages), messages


def test_only_the_zones_a_server_admits_declare_flows_to_it() -> None:
    published = Published(
        event_bus=EventBusOffer(url="nats://x", audit_subject="a", namespace="event-bus", client_labels={},
                                clients=Clients.of((Peer(namespace="apps"), Peer(namespace="flux-system")), [NATS])),
        redis=RedisOffer(url="redis://x", clients=Clients.of((Peer(namespace="apps"),), [REDIS])),
        kafka=KafkaOffer(bootstrap="k:9092", clients=Clients.of((Peer(namespace="batch"),), [{"pods": {}, "port": 9092}])),
    )
    assert published.client_flows("apps") == [NATS, REDIS]
    assert published.client_flows("batch") == [{"pods": {}, "port": 9092}]
    assert published.client_flows("storage") == []
    assert Published().client_flows("apps") == []
