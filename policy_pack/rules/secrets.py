"""Clause 6: no secret in code. Kubernetes Secrets come from the secret manager, and nothing else
(env vars, ConfigMaps) carries a secret in plain text.

Accepted: SealedSecret and operator CRs (VaultStaticSecret, ExternalSecret, ...) are other kinds, so
they never reach this rule; a Secret of type service-account-token is filled by the token controller;
a Secret owned (metadata.ownerReferences) by a secret operator's object was produced by that operator.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .access import get, indexed, is_mapping, mapping, text
from .metadata import Rule, kinds_rule
from .objects import kind_of
from .podspec import containers, find_pod_template, is_pod_template_type
from .secret_values import config_line_secrets, is_literal, secret_like_name, secret_value_kind

SECRET = ("core", "Secret")
CONFIG_MAP = ("core", "ConfigMap")
SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"
# Kinds of the objects secret operators produce Secrets from (they set themselves as owner).
OPERATOR_OWNER_KINDS = ("SealedSecret", "VaultStaticSecret", "VaultDynamicSecret", "VaultPKISecret",
                        "ExternalSecret", "ClusterExternalSecret", "PushSecret")


def operator_owner(props: Mapping[str, Any]) -> str | None:
    for _, owner in indexed(mapping(props, "metadata"), "ownerReferences", ""):
        if text(owner, "kind") in OPERATOR_OWNER_KINDS:
            return text(owner, "kind")
    return None


def check_literal_secret(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    if text(props, "type") == SERVICE_ACCOUNT_TOKEN or operator_owner(props):
        return
    for field in ("data", "stringData"):
        values = get(props, field)
        if is_mapping(values) and values:
            keys = ", ".join(sorted(str(key) for key in values))
            yield (f"{field} holds literal values ({keys}); deliver the secret through the secret manager: a "
                   "SealedSecret, or a VaultStaticSecret/ExternalSecret that the operator turns into this Secret")


def _env_findings(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    template = find_pod_template(resource_type, props)
    if template is None:
        return
    for container in containers(template):
        for path, env in indexed(container.spec, "env", container.path):
            name, value = text(env, "name") or "", get(env, "value")
            if not is_literal(value):
                continue
            field = path.removeprefix(container.path + ".")
            kind = secret_value_kind(value)
            if secret_like_name(name):
                yield (f"{container.where}: {field} ({name}) has a literal value for a secret-like name; use "
                       "valueFrom.secretKeyRef to a Secret delivered by the secret manager")
            elif kind:
                yield (f"{container.where}: {field} ({name}) value looks like {kind}; move it to a Secret "
                       "delivered by the secret manager and use valueFrom.secretKeyRef")


def _config_map_findings(props: Mapping[str, Any]) -> Iterator[str]:
    for key, value in mapping(props, "data").items():
        if not is_literal(value):
            continue
        if secret_like_name(str(key)):
            yield f'data["{key}"] holds a literal value under a secret-like key'
            continue
        kind = secret_value_kind(value)
        if kind:
            yield f'data["{key}"] looks like {kind}'
            continue
        for line, name in config_line_secrets(value)[:3]:
            yield f'data["{key}"] line {line} sets {name} to a literal value'


def check_plaintext(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    if kind_of(resource_type) == CONFIG_MAP:
        for finding in _config_map_findings(props):
            yield (f"{finding}; keep secrets out of ConfigMaps: put them in a Secret from the secret manager "
                   "and reference it")
        return
    yield from _env_findings(resource_type, props)


LITERAL_SECRET = kinds_rule(
    name="k8s-no-literal-secret-data",
    description="Kubernetes Secrets carry no literal data in code; secrets come from the secret manager.",
    clause="6",
    specification="Secrets nur via Secret-Manager.",
    severity=Severity.CRITICAL,
    remediation=(
        "Replace Secrets with data/stringData by a SealedSecret (bitnami.com/v1alpha1) or a VaultStaticSecret "
        "(secrets.hashicorp.com/v1beta1) / ExternalSecret that the operator materialises. Secrets of type "
        f"{SERVICE_ACCOUNT_TOKEN} and Secrets owned by one of {', '.join(OPERATOR_OWNER_KINDS)} are accepted."
    ),
    tags=("secrets",),
    kinds=(SECRET,),
    check=check_literal_secret,
)

PLAINTEXT = Rule(
    name="no-plaintext-secrets",
    description="Env vars and ConfigMaps carry no secret in plain text.",
    clause="6",
    specification="Keine Secrets im Repo (Scan + CI-Block).",
    severity=Severity.CRITICAL,
    remediation=(
        "Give secret-like env vars (PASSWORD, TOKEN, SECRET, API_KEY, ...) a valueFrom.secretKeyRef instead of "
        "a value, and move private keys, cloud keys, tokens, JWTs and random-looking strings out of env values "
        "and ConfigMap data into Secrets delivered by the secret manager."
    ),
    tags=("secrets", "scan"),
    check=check_plaintext,
    applies_to=lambda resource_type: kind_of(resource_type) == CONFIG_MAP or is_pod_template_type(resource_type),
    not_applicable_reason="neither a ConfigMap nor a workload with a pod template",
)

RULES = [LITERAL_SECRET, PLAINTEXT]
