"""Clause 6: secrets in code are found by their name in context and by their content, wherever a literal
hides (env, args, ConfigMap data and files, pulumi-vault resources); names of limits and counts are not
credentials, values the engine marks secret are not literals, and the audited allow-list clears a false
positive."""

from __future__ import annotations

import json

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY

from components.conventions import is_secret_like_name
from policy_pack.rules.helpers.secret_values import secret_like_name

from .fixtures import container, deployment
from .harness import _outcome, servicer, violations
from .objects import obj

PLAINTEXT = "no-plaintext-secrets"
VAULT = "vault-secret-no-literal-data"


def env_violations(name: str, value: str) -> list[str]:
    return violations(*deployment(container(env=[{"name": name, "value": value}])), PLAINTEXT)


@pytest.mark.parametrize("name", [
    "DB_PASSWORD", "db_passwd", "MYSQL_PWD", "SMTP_PASS", "smtp.pass", "POSTGRES_PW", "secret_key", "SECRET_KEY_BASE",
    "api-key", "x-api-key", "apiKey", "CLIENT_SECRET", "oauthClientSecret", "GITHUB_TOKEN", "HF_TOKEN",
    "refresh_token", "PRIVATE_KEY", "sshPrivateKey", "AWS_SECRET_ACCESS_KEY", "DATABASE_CONNECTION_STRING",
    "JWT_SIGNING_KEY", "ENCRYPTION_KEY", "WIFI_PSK", "SENTRY_DSN", "REDIS_REQUIREPASS", "masterauth",
])
def test_password_keys_in_every_common_spelling_are_secret_like(name):
    assert secret_like_name(name) and is_secret_like_name(name)
    assert env_violations(name, "s3cr3t-v4lue")


@pytest.mark.parametrize("name", [
    "MAX_TOKENS", "max_tokens", "MAX_NEW_TOKENS", "TOKENS_PER_MINUTE", "TOKEN_LIMIT", "maxTokens", "CONTEXT_TOKEN_COUNT",
    "PASSWORD_MIN_LENGTH", "TOKEN_TTL", "SESSION_TOKEN_LIFETIME", "existingSecret", "passwordKey", "TOKENIZER",
    "TOKENIZER_MODEL", "SECRET_NAME", "DB_PASSWORD_FILE", "bypass", "COMPASS_HEADING", "PASSTHROUGH", "KEYCLOAK_REALM",
])
def test_names_of_limits_counts_ttls_and_references_are_not_credentials(name):
    assert not secret_like_name(name) and not is_secret_like_name(name)
    assert env_violations(name, "2048") == []


@pytest.mark.parametrize(("value", "kind"), [
    ("postgres://app:Pr0dPassw0rd@db.internal:5432/orders", "a password in a URL"),
    ("redis://:hunter2hunter2@redis.bus:6379/0", "a password in a URL"),
    ("amqp://guest:guest123@rabbit:5672/", "a password in a URL"),
    ("Server=db;Database=orders;User Id=app;Password=Pr0dPassw0rd;", "a password in a connection string"),
    ("host=db port=5432 user=app pwd=Pr0dPassw0rd", "a password in a connection string"),
    ("Bearer eyJhbGciOiJIUzI1NiJ9abcdefghijklmnop", "an authorization header"),
    ("sk-proj-" + "Ab3dE" * 8, "an OpenAI/Anthropic API key"),
    ("hf_" + "aBcD1234" * 5, "a Hugging Face token"),
    ("xoxp-1234567890-0987654321-abcdefabcdef", "a Slack token"),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "a GitHub token"),
    ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "a Stripe key"),
])
def test_credentials_inside_values_are_found_by_content_under_any_name(value, kind):
    messages = env_violations("UPSTREAM", value)
    assert messages and f"value looks like {kind}" in messages[0]


@pytest.mark.parametrize("value", [
    "postgres://db.internal:5432/orders", "https://user@git.example/repo.git", "redis://redis.bus:6379/0",
    "postgres://app:$(DB_PASSWORD)@db:5432/orders", "postgres://app:${DB_PASSWORD}@db:5432/orders",
    "Server=db;Database=orders;Integrated Security=true;", "Bearer", "sk-short",
])
def test_urls_and_connection_strings_without_credentials_pass(value):
    assert env_violations("UPSTREAM", value) == []


@pytest.mark.parametrize("args", [
    ["--db-password=hunter2hunter2"], ["--token", "abc123def456ghi"], ["server --api-key=abc123def456ghi --port 80"],
    ["--upstream", "postgres://app:Pr0dPassw0rd@db:5432/orders"],
])
def test_credentials_on_the_command_line_are_rejected(args):
    messages = violations(*deployment(container(args=args)), PLAINTEXT)
    assert messages and "args[" in messages[0]


@pytest.mark.parametrize("args", [
    ["--max-tokens=2048"], ["--password-file=/run/secrets/db"], ["--token", "$(API_TOKEN)"], ["--port", "8080"],
])
def test_ordinary_flags_pass(args):
    assert violations(*deployment(container(args=args)), PLAINTEXT) == []


def test_config_map_files_are_read_line_by_line_and_values_by_content():
    config = obj("ConfigMap", "app", data={
        "application.yaml": "server:\n  port: 8080\nspring:\n  datasource:\n    password: Pr0dPassw0rd\n",
        "settings.ini": "[db]\nurl = postgres://app:Pr0dPassw0rd@db:5432/orders\n",
        "llm.env": "MAX_TOKENS=2048\nTEMPERATURE=0.2\n",
        "DB_PWD": "Pr0dPassw0rd",
    })
    messages = violations(*config, PLAINTEXT)
    assert any(m.startswith('data["application.yaml"] line 5 sets password') for m in messages), messages
    assert any(m.startswith('data["settings.ini"] value looks like a password in a URL') for m in messages), messages
    assert any(m.startswith('data["DB_PWD"] has a literal value under a secret-like name') for m in messages)
    assert not any("llm.env" in m for m in messages)


def test_the_allow_list_annotation_clears_named_keys_only():
    env = [{"name": "PUBLIC_TOKEN_EXAMPLE", "value": "documented-example-value"},
           {"name": "DB_PASSWORD", "value": "Pr0dPassw0rd"}]
    token, props = deployment(container(env=env))
    props["metadata"]["annotations"]["cdb-infra.io/not-a-secret"] = "PUBLIC_TOKEN_EXAMPLE"
    messages = violations(token, props, PLAINTEXT)
    assert len(messages) == 1 and "(DB_PASSWORD)" in messages[0]


def _secret(value: str) -> dict:
    return {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": value}


def _analyze_wire(resource_type: str, props: dict):
    struct = struct_pb2.Struct()
    struct.update(props)
    request = analyzer_pb2.AnalyzeRequest(type=resource_type, properties=struct, urn="urn:x", name="x")
    return _outcome(servicer().Analyze(request, None))


def test_a_value_the_engine_marks_secret_is_not_a_literal():
    token, props = deployment(container(env=[{"name": "DB_PASSWORD", "value": _secret("Pr0dPassw0rd")}]))
    assert _analyze_wire(token, props).messages(PLAINTEXT) == []
    token, props = deployment(container(env=[{"name": "DB_PASSWORD", "value": "Pr0dPassw0rd"}]))
    assert _analyze_wire(token, props).messages(PLAINTEXT)


@pytest.mark.parametrize("resource_type", ["vault:generic/secret:Secret", "vault:kv/secretV2:SecretV2"])
def test_pulumi_vault_secrets_written_with_literal_data_are_rejected(resource_type):
    props = {"path": "secret/orders/db", "dataJson": json.dumps({"username": "app", "password": "Pr0dPassw0rd"})}
    messages = violations(resource_type, props, VAULT)
    assert messages and "dataJson writes literal values (password, username)" in messages[0]


def test_pulumi_vault_secrets_are_judged_by_origin_not_by_the_secret_mark_the_provider_always_sets(monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"probe:dbPassword": "Xk2-from-config", "probe:region": "eu"}))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(["probe:dbPassword"]))
    from_config = {"path": "secret/orders/db", "dataJson": _secret(json.dumps({"password": "Xk2-from-config"}))}
    assert _analyze_wire("vault:kv/secretV2:SecretV2", from_config).messages(VAULT) == []
    literal = {"path": "secret/orders/db", "dataJson": _secret(json.dumps({"password": "typed-in-code"}))}
    assert _analyze_wire("vault:kv/secretV2:SecretV2", literal).messages(VAULT)
    plain_config = {"path": "secret/orders/db", "dataJson": json.dumps({"region": "eu-west"})}
    assert _analyze_wire("vault:kv/secretV2:SecretV2", plain_config).messages(VAULT)


@pytest.mark.parametrize(("value", "kind"), [
    ("SK" + "0123456789abcdef" * 2, "Twilio API Key"),
    ("0123456789abcdef0123456789abcdef-us12", "Mailchimp Access Key"),
    ("pypi-AgEIcHlwaS5vcmc" + "A1b2C3d4E5" * 8, "PyPI Token"),
])
def test_token_formats_only_detect_secrets_knows_are_found_through_it(value, kind):
    messages = env_violations("UPSTREAM", value)
    assert messages and f"value looks like a {kind} (detect-secrets)" in messages[0], messages


def test_every_value_pattern_passes_the_one_search_that_guards_them():
    from policy_pack.rules.helpers.secret_values import _ANCHORS, VALUE_PATTERNS

    samples = {
        "a private key": "-----BEGIN OPENSSH PRIVATE KEY-----", "an AWS access key id": "AKIAIOSFODNN7EXAMPLE",
        "a GCP service-account key": '"private_key_id": "0123456789abcdef0123"',
        "a Google API key": "AIza" + "x" * 35, "a GitHub token": "ghs_" + "a" * 36, "a GitLab token": "glrt-" + "a" * 20,
        "a Slack token": "xoxe-1234567890", "a Slack webhook": "https://hooks.slack.com/services/T" + "a" * 24,
        "a JSON Web Token": "eyJabcdefgh.eyJabcdefgh.abcdefgh", "a password in a URL": "amqp://u:pass@h",
        "a password in a connection string": "PWD=abcdef", "an authorization header": "BASIC " + "a" * 24,
        "an OpenAI/Anthropic API key": "sk-ant-api03-" + "a" * 20, "a Hugging Face token": "hf_" + "a" * 30,
        "a Stripe key": "rk_live_" + "a" * 20, "an npm token": "npm_" + "a" * 36,
        "a SendGrid key": "SG." + "a" * 22 + "." + "b" * 43,
    }
    for label, pattern in VALUE_PATTERNS:
        assert pattern.search(samples[label]), label
        assert _ANCHORS.search(samples[label]), label
