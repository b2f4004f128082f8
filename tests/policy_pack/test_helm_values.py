"""Helm inputs are judged even when nothing expands them: a v3 Release, a v4 Chart or a Flux HelmRelease
with literal credentials or persistence switched on in its values is refused."""

from __future__ import annotations

import pytest

from .harness import analyze, violations
from .objects import obj

SECRETS = "helm-values-no-literal-secrets"
PERSISTENCE = "helm-values-no-persistence"
RELEASE = "kubernetes:helm.sh/v3:Release"
CHART = "kubernetes:helm.sh/v4:Chart"


def release(values: dict, chart: str = "oci://registry-1.docker.io/bitnamicharts/postgresql") -> tuple[str, dict]:
    return RELEASE, {"chart": chart, "version": "16.7.4", "namespace": "apps", "values": values}


def chart(values: dict, chart_name: str = "ingress-nginx") -> tuple[str, dict]:
    return CHART, {"chart": chart_name, "version": "4.12.1", "namespace": "apps",
                   "repositoryOpts": {"repo": "https://kubernetes.github.io/ingress-nginx"}, "values": values}


def helm_release(values: dict, chart_name: str = "postgresql", metadata: dict | None = None) -> tuple[str, dict]:
    token, props = obj("HelmRelease", "db", "apps", spec={
        "interval": "5m", "chart": {"spec": {"chart": chart_name, "version": "16.7.4"}}, "values": values})
    if metadata:
        props["metadata"]["labels"].update(metadata.get("labels", {}))
        props["metadata"]["annotations"].update(metadata.get("annotations", {}))
    return token, props


@pytest.mark.parametrize(("build", "prefix"), [(release, "values"), (chart, "values"), (helm_release, "spec.values")])
@pytest.mark.parametrize(("values", "path"), [
    ({"auth": {"postgresPassword": "Pr0dPassw0rd", "existingSecret": ""}}, "auth.postgresPassword"),
    ({"global": {"redis": {"password": "hunter2hunter2"}}}, "global.redis.password"),
    ({"config": {"databaseUrl": "postgres://app:Pr0dPassw0rd@db:5432/app"}}, "config.databaseUrl"),
    ({"extraEnv": [{"name": "UPSTREAM", "value": "ghp_" + "Ab1" * 12}]}, "extraEnv[0].value"),
    ({"secrets": {"api-key": "abc123def456"}}, "secrets.api-key"),
])
def test_literal_credentials_in_helm_values_are_rejected(build, prefix, values, path):
    messages = violations(*build(values), SECRETS)
    assert any(m.startswith(f"{prefix}.{path} ") for m in messages), messages


@pytest.mark.parametrize("values", [
    {"auth": {"existingSecret": "db-credentials", "secretKeys": {"adminPasswordKey": "password"}}},
    {"controller": {"replicaCount": 2, "config": {"max-tokens": "2048", "proxy-body-size": "8m"}}},
    {"image": {"digest": "sha256:" + "ab" * 32}, "podAnnotations": {"git": "0123456789abcdef0123456789abcdef01234567"}},
    {"auth": {"password": "${DB_PASSWORD}"}},
])
def test_helm_values_that_reference_secrets_pass(values):
    for build in (release, chart, helm_release):
        assert violations(*build(values), SECRETS) == [], build


@pytest.mark.parametrize(("values", "switch"), [
    ({"primary": {"persistence": {"enabled": True, "size": "8Gi"}}}, "primary.persistence.enabled"),
    ({"persistence": {"enabled": True}}, "persistence.enabled"),
    ({"server": {"dataStorage": {"enabled": True}}}, "server.dataStorage.enabled"),
])
def test_persistence_switched_on_in_an_undeclared_release_is_rejected(values, switch):
    for build, prefix in ((release, "values"), (chart, "values"), (helm_release, "spec.values")):
        messages = violations(*build(values), PERSISTENCE)
        assert messages and messages[0].startswith(f"{prefix}.{switch} is true"), (build, messages)


def test_a_redis_chart_never_persists_even_when_declared_platform_state():
    declared = {"labels": {"cdb-infra.io/workload-class": "platform-state"},
                "annotations": {"cdb-infra.io/platform-state": "event-bus"}}
    values = {"master": {"persistence": {"enabled": True}}, "architecture": "standalone"}
    messages = violations(*helm_release(values, "redis", declared), PERSISTENCE)
    assert messages and "turns persistence on in Redis chart redis" in messages[0]
    assert violations(*release(values, "oci://registry-1.docker.io/bitnamicharts/redis"), PERSISTENCE)


def test_declared_platform_state_release_may_persist_and_switched_off_persistence_passes():
    declared = {"labels": {"cdb-infra.io/workload-class": "platform-state"},
                "annotations": {"cdb-infra.io/platform-state": "object-store"}}
    assert violations(*helm_release({"persistence": {"enabled": True}}, "minio", declared), PERSISTENCE) == []
    assert violations(*release({"primary": {"persistence": {"enabled": False}}}), PERSISTENCE) == []


def test_helm_rules_do_not_apply_to_other_resources():
    outcome = analyze(*obj("ConfigMap", "x", data={"password": "x"}))
    assert outcome.not_applicable[SECRETS] == "not a Helm release or chart"
