"""The object-storage part on recorded wire inputs: distributed MinIO, Vault-delivered credentials, WORM bucket."""

from __future__ import annotations

import pytest

from components.minio import ENGINES, AuditBucket, bucket_commands
from tests.stack.platform_stack import (
    JOB, NETPOL, PDB, STATE_CLASS, STATE_KIND, STS, VSS, one, pod, refusal, run_stack,
)


def server(stack: str, **overrides) -> dict:
    return pod(one(run_stack(stack, **overrides), STS, "minio"))["containers"][0]


@pytest.mark.parametrize(("stack", "replicas"), [("dev", 1), ("prod", 4)])
def test_minio_is_a_declared_object_store_with_one_claim_per_server(stack: str, replicas: int) -> None:
    sts = one(run_stack(stack), STS, "minio")
    assert sts["spec"]["replicas"] == replicas
    assert sts["metadata"]["labels"][STATE_CLASS] == "platform-state"
    assert sts["metadata"]["annotations"][STATE_KIND] == "object-store"
    assert [c["metadata"]["name"] for c in sts["spec"]["volumeClaimTemplates"]] == ["data"]
    assert sts["metadata"]["namespace"] == "storage"


def test_prod_servers_find_each_other_through_the_headless_service() -> None:
    args = server("prod")["args"]
    assert args[-1] == "http://minio-{0...3}.minio-hl.storage.svc.cluster.local/export"
    assert server("dev")["args"][-1] == "/export"


def test_probes_use_the_live_and_ready_endpoints_on_the_s3_port() -> None:
    container = server("prod")
    assert container["livenessProbe"]["httpGet"] == {"path": "/minio/health/live", "port": "s3", "scheme": "HTTP"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/minio/health/ready", "port": "s3", "scheme": "HTTP"}
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"s3": 9000, "console": 9001}


def test_credentials_come_from_the_vault_delivered_secret_never_a_literal() -> None:
    resources = run_stack("prod")
    env = {e["name"]: e for e in server("prod")["env"]}
    for name, key in (("MINIO_ROOT_USER", "rootUser"), ("MINIO_ROOT_PASSWORD", "rootPassword")):
        assert env[name] == {"name": name, "valueFrom": {"secretKeyRef": {"name": "minio-root", "key": key}}}
    delivered = one(resources, VSS, "storage-minio-secrets-minio-root")
    assert delivered["metadata"]["namespace"] == "storage"
    assert delivered["spec"]["destination"]["name"] == "minio-root"
    assert delivered["spec"]["rolloutRestartTargets"] == [{"kind": "StatefulSet", "name": "minio"}]


def test_tls_secret_switches_probes_to_https_and_mounts_the_certificate() -> None:
    container = server("prod", objectStorage={"tlsSecret": "minio-tls"})
    assert container["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    assert container["args"][-1].startswith("https://")
    volumes = {v["name"]: v for v in pod(one(run_stack("prod", objectStorage={"tlsSecret": "minio-tls"}), STS, "minio"))["volumes"]}
    assert volumes["certs"]["secret"]["secretName"] == "minio-tls"


def test_the_audit_bucket_job_creates_a_locked_versioned_compliance_bucket_with_the_same_secret() -> None:
    job = one(run_stack("prod"), JOB, "minio-audit-bucket")
    spec = pod(job)
    steps = [*spec["initContainers"], *spec["containers"]]
    commands = [" ".join(c["args"][2:]) for c in steps]
    assert commands[1] == "mb --ignore-existing --with-lock store/audit"
    assert commands[2] == "version enable store/audit"
    assert commands[3] == "retention set --default COMPLIANCE 3650d store/audit"
    for container in steps:
        assert container["image"].startswith("quay.io/minio/mc:RELEASE.")
        refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"]}
        assert refs == {"minio-root"}
        assert container["resources"]["limits"] and container["securityContext"]["runAsNonRoot"] is True
    assert spec["automountServiceAccountToken"] is False


def test_bucket_commands_follow_the_retention_setting() -> None:
    steps = bucket_commands(AuditBucket(name="merges", retention_days=30), "http://s3:9000")
    assert ["retention", "set", "--default", "COMPLIANCE", "30d", "store/merges"] in steps
    assert steps[0][-2:] == ["$(ROOT_USER)", "$(ROOT_PASSWORD)"]  # expanded by the kubelet from the Secret


def test_the_store_keeps_quorum_and_admits_only_named_peers() -> None:
    resources = run_stack("prod")
    assert one(resources, PDB, "minio-pdb")["spec"]["maxUnavailable"] == 1
    spec = one(resources, NETPOL, "minio-netpol")["spec"]
    for rule in spec["ingress"]:
        for peer in rule["from"]:
            assert peer.get("podSelector", {}).get("matchLabels") or peer.get("namespaceSelector", {}).get("matchLabels")
    scrape = one(resources, NETPOL, "observability-scrape-minio")
    assert scrape["metadata"]["namespace"] == "storage"


def test_the_engine_is_a_registry_entry_chosen_by_settings() -> None:
    assert "minio" in ENGINES
    assert "cdb-infra:objectStorage.engine" in refusal("dev", objectStorage={"engine": "seaweedfs"})


@pytest.mark.parametrize(("stack", "overrides", "expected"), [
    ("dev", {"objectStorage": {"replicas": 3}}, "distributed mode needs at least 4 servers"),
    ("prod", {"objectStorage": {"replicas": 1}}, "replicas: 1 outside dev"),
    ("dev", {"objectStorage": {"image": "quay.io/minio/minio:latest"}}, "mutable tag 'latest'"),
    ("dev", {"objectStorage": {"ingressFrom": ["nowhere"]}}, "ingressFrom[0]: zone 'nowhere' is not declared"),
])
def test_unsafe_object_storage_settings_are_refused(stack: str, overrides: dict, expected: str) -> None:
    assert expected in refusal(stack, **overrides)
