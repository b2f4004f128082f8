"""The policy semantics on Pulumi programs written as users write them, previewed offline by `cdb preview`
(program under the mock engine, the pack over gRPC): Helm inputs, pulumi-vault secrets from literals and
from config secrets, workloads of other kinds, MAX_TOKENS, model-serving images, GitHub rulesets."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from cdb_cli import main

HEADER = """
import json
import pulumi
import pulumi_kubernetes as k8s
META = {"labels": {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/component": "service"},
        "annotations": {"cdb-infra.io/git-revision": "0123456789abcdef0123456789abcdef01234567"}}
def meta(name, namespace="apps", **labels):
    return {"name": name, "namespace": namespace, "labels": {**META["labels"], **labels},
            "annotations": dict(META["annotations"])}
SECURE = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}
def pod(*containers, **extra):
    return {"securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
            "automountServiceAccountToken": False, "containers": list(containers), **extra}
def box(name, image, **extra):
    spec = {"name": name, "image": image, "securityContext": dict(SECURE),
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}},
            "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
            "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}}}
    spec.update(extra)
    return spec
"""


@pytest.fixture
def preview(tmp_path, capsys):
    """Write a Pulumi project around `body`, preview it, return (exit code, {policy: [messages]})."""

    def run(body: str, config: str = "") -> tuple[int, dict[str, list[str]]]:
        folder = tmp_path / f"p{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        (folder / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
        (folder / "Pulumi.dev.yaml").write_text("config:\n" + textwrap.indent(textwrap.dedent(config), "  ")
                                                if config else "config: {}\n")
        (folder / "__main__.py").write_text(HEADER + textwrap.dedent(body))
        code = main(["preview", "--stack", "dev", "--cwd", str(folder), "--format", "json"])
        out = capsys.readouterr().out
        report = json.loads(out) if out.strip().startswith("{") else {"violations": []}
        found: dict[str, list[str]] = {}
        for violation in report["violations"]:
            found.setdefault(violation["policy"], []).append(violation["message"])
        return code, found

    return run


def test_a_helm_release_with_a_literal_password_and_persistence_fails_unexpanded(preview):
    code, found = preview("""
    k8s.helm.v3.Release("db", chart="oci://registry-1.docker.io/bitnamicharts/postgresql", version="16.7.4",
        namespace="apps", values={"auth": {"postgresPassword": "Pr0dPassw0rd"},
                                  "primary": {"persistence": {"enabled": True}}})
    """)
    assert code == 1
    assert any(m.startswith("values.auth.postgresPassword has a literal value") for m in
               found["helm-values-no-literal-secrets"])
    assert any(m.startswith("values.primary.persistence.enabled is true") for m in found["helm-values-no-persistence"])


def test_a_helm_v4_chart_pointed_at_an_existing_secret_passes_the_helm_rules(preview):
    _, found = preview("""
    k8s.helm.v4.Chart("db", chart="oci://registry-1.docker.io/bitnamicharts/postgresql", version="16.7.4",
        namespace="apps", values={"auth": {"existingSecret": "db-credentials"},
                                  "primary": {"persistence": {"enabled": False}}})
    """)
    assert "helm-values-no-literal-secrets" not in found and "helm-values-no-persistence" not in found


def test_vault_secrets_from_literals_fail_and_from_config_secrets_pass(preview, tmp_path):
    code, found = preview("""
    import pulumi_vault as vault
    config = pulumi.Config()
    vault.kv.SecretV2("from-code", mount="secret", name="orders/db",
                      data_json=json.dumps({"password": "Pr0dPassw0rd"}))
    vault.kv.SecretV2("from-config", mount="secret", name="orders/api",
                      data_json=config.require_secret("apiKey").apply(lambda key: json.dumps({"key": key})))
    """, config="probe:apiKey:\n  secure: v1:abc:def\n")
    assert code == 1
    assert found["vault-secret-no-literal-data"] == [
        "dataJson writes literal values (password) into Vault from the program; pass them as Pulumi config secrets "
        "(config.require_secret) or write them outside the code"]


def test_an_argo_rollout_running_as_root_with_a_password_in_env_fails(preview):
    code, found = preview("""
    k8s.apiextensions.CustomResource("web", api_version="argoproj.io/v1alpha1", kind="Rollout",
        metadata=meta("web"), spec={
            "selector": {"matchLabels": {"app": "web"}}, "strategy": {"canary": {"steps": [{"setWeight": 50}]}},
            "template": {"metadata": {"labels": {"app": "web", **META["labels"]}}, "spec": pod(box(
                "web", "registry.example/web:1.4.2", securityContext={**SECURE, "runAsUser": 0},
                env=[{"name": "DB_PWD", "value": pulumi.Config().require("dbPassword")}]))}})
    """, config="probe:dbPassword: Pr0dPassw0rd\n")
    assert code == 1
    assert any("runAsUser is 0 (root)" in m for m in found["k8s-pss-run-as-non-root"])
    assert any("(DB_PWD) has a literal value under a secret-like name" in m for m in found["no-plaintext-secrets"])


def test_an_llm_service_with_max_tokens_passes_the_secret_rules(preview):
    _, found = preview("""
    k8s.apps.v1.Deployment("assistant", metadata=meta("assistant", **{"cdb-infra.io/workload-class": "ai"}), spec={
        "selector": {"matchLabels": {"app": "assistant"}},
        "template": {"metadata": {"labels": {"app": "assistant", "cdb-infra.io/workload-class": "ai",
                                             **META["labels"]}},
                     "spec": pod(box("assistant", "registry.example/assistant:2.0.1",
                                     env=[{"name": "MAX_TOKENS", "value": "2048"},
                                          {"name": "TOKENS_PER_MINUTE", "value": "90000"}]))}})
    """)
    assert "no-plaintext-secrets" not in found


def test_ollama_without_the_ai_declaration_fails(preview):
    code, found = preview("""
    k8s.apps.v1.Deployment("ollama", metadata=meta("ollama"), spec={
        "selector": {"matchLabels": {"app": "ollama"}},
        "template": {"metadata": {"labels": {"app": "ollama", **META["labels"]}},
                     "spec": pod(box("ollama", "docker.io/ollama/ollama:0.6.5"))}})
    """)
    assert code == 1
    assert found["ai-workload-declared"][0].startswith('spec.template.spec.containers[0] (name "ollama") runs Ollama')
    assert any("no NetworkPolicy restricts its egress" in m for m in found["ai-no-vault-network-path"])


RULESET_PROGRAM = """
import pulumi_github as github
repo = github.Repository("repo", name="cdb-infra", visibility="private", allow_auto_merge=False)
github.RepositoryRuleset("main", name="main", repository=repo.name, target="branch", enforcement="{enforcement}",
    conditions={{"ref_name": {{"includes": ["~DEFAULT_BRANCH"], "excludes": []}}}},
    rules={{"pull_request": {{"required_approving_review_count": 1}},
           "required_status_checks": {{"required_checks": [{{"context": "tests"}}, {{"context": "policy-preview"}}]}},
           "non_fast_forward": True}})
"""


def test_a_repository_protected_by_a_github_ruleset_is_governed(preview):
    code, found = preview(RULESET_PROGRAM.format(enforcement="active"))
    assert "github-repository-governed" not in found, found
    code, found = preview(RULESET_PROGRAM.format(enforcement="evaluate"))
    assert any('enforcement is "evaluate"' in m for m in found["github-repository-governed"])


def test_the_programs_here_are_written_to_separate_folders(tmp_path):
    assert isinstance(tmp_path, Path)


DSN_PROGRAM = """
config = pulumi.Config()
password = config.{getter}("dbPassword")
dsn = pulumi.Output.concat("postgres://app:", password, "@db.apps:5432/orders")
k8s.apps.v1.Deployment("orders", metadata=meta("orders"), spec={{
    "selector": {{"matchLabels": {{"app": "orders"}}}},
    "template": {{"metadata": {{"labels": {{"app": "orders", **META["labels"]}}}},
                 "spec": pod(box("orders", "registry.example/orders:1.4.2",
                                 env=[{{"name": "DATABASE_URL", "value": dsn}},
                                      {{"name": "API_TOKEN", "value": pulumi.Output.from_input(password).apply(lambda p: p[::-1])}}]))}}}})
"""


def test_a_connection_string_built_with_output_concat_from_plain_config_is_a_literal(preview):
    code, found = preview(DSN_PROGRAM.format(getter="require"), config="probe:dbPassword: Pr0dPassw0rd\n")
    messages = found["no-plaintext-secrets"]
    assert any("(DATABASE_URL) value looks like a password in a URL" in m for m in messages), messages
    assert any("(API_TOKEN) has a literal value under a secret-like name" in m for m in messages), messages


def test_the_same_program_with_a_config_secret_passes_the_secret_rule(preview):
    _, found = preview(DSN_PROGRAM.format(getter="require_secret"), config="probe:dbPassword:\n  secure: v1:abc:def\n")
    assert "no-plaintext-secrets" not in found, found


def test_knative_and_keda_workloads_written_as_custom_resources_are_judged(preview):
    code, found = preview("""
    k8s.apiextensions.CustomResource("hello", api_version="serving.knative.dev/v1", kind="Service",
        metadata=meta("hello"), spec={"template": {"metadata": {"labels": META["labels"]}, "spec": {
            "containers": [{"image": "ghcr.io/knative/helloworld-go:latest", "env": [
                {"name": "SLACK_WEBHOOK", "value": "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX"}]}]}}})
    k8s.apiextensions.CustomResource("drain", api_version="keda.sh/v1alpha1", kind="ScaledJob",
        metadata=meta("drain"), spec={"jobTemplate": {"spec": {"template": {"metadata": {"labels": META["labels"]},
            "spec": pod(box("drain", "registry.example/drain:1.0.0", securityContext={"privileged": True}),
                        restartPolicy="Never")}}},
            "triggers": [{"type": "nats-jetstream", "metadata": {"stream": "orders"}}]})
    """)
    assert code == 1
    assert any('(name "drain"): securityContext.privileged is true' in m for m in found["k8s-pss-no-privilege"])
    assert any('image "ghcr.io/knative/helloworld-go:latest"' in m for m in found["k8s-image-pinned"])
    assert any("value looks like a Slack webhook" in m for m in found["no-plaintext-secrets"])
    assert not any("drain" in m for m in found.get("k8s-probes-required", []))


def test_a_config_map_file_and_a_secret_with_literal_data_fail(preview):
    code, found = preview("""
    k8s.core.v1.ConfigMap("app", metadata=meta("app"), data={
        "application.properties": "server.port=8080\\nspring.datasource.password=Pr0dPassw0rd\\n",
        "MAX_TOKENS": "2048"})
    k8s.core.v1.Secret("db", metadata=meta("db"), string_data={"password": "Pr0dPassw0rd"})
    """)
    assert code == 1
    assert found["no-plaintext-secrets"] == [
        'data["application.properties"] line 2 sets spring.datasource.password to a literal value; keep secrets out '
        "of ConfigMaps: put them in a Secret from the secret manager and reference it"]
    assert found["k8s-no-literal-secret-data"]


def test_the_stacks_own_settings_take_an_llm_service_with_max_tokens_and_the_pack_passes_it():
    from tests.stack.platform_stack import DEPLOYMENT, of_type, run_stack

    from .harness import analyze

    services = [{"name": "insight-ai", "zone": "apps", "image": "ghcr.io/cdb/insight-ai:0.9.1", "port": 8080,
                 "replicas": 1, "workloadClass": "ai",
                 "env": {"MODEL_NAME": "small", "MAX_TOKENS": "2048", "MAX_NEW_TOKENS": "512"}}]
    deployment = next(r for r in of_type(run_stack("dev", services=services), DEPLOYMENT) if r.name == "insight-ai")
    env = deployment.properties["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "MAX_TOKENS", "value": "2048"} in env
    outcome = analyze(DEPLOYMENT, deployment.properties)
    assert outcome.messages("no-plaintext-secrets") == [] and outcome.messages("ai-workload-declared") == []
