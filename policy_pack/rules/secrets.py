"""Clause 6: no secret in code. Kubernetes Secrets come from the secret manager, and nothing else
(env vars, args, ConfigMaps and the files in them, Helm values, Vault secret resources) carries a
secret in plain text.

A literal is judged by its name in context (secret_values.secret_like_name) and by its content (key
and token formats, URLs with user info, connection strings, random-looking strings), so a credential
under an innocent name is found as well as a password key spelled in an unusual way. A value the
engine marks secret (Pulumi config secrets, Output.secret) came from the secret manager and is never
a literal. False positives are allowed per object, audited in code: the annotation
``cdb-infra.io/not-a-secret`` lists the keys (env names, data keys, value paths) that hold no secret.

Accepted: SealedSecret and operator CRs (VaultStaticSecret, ExternalSecret, ...) are other kinds, so
they never reach these rules; a Secret of type service-account-token is filled by the token controller;
a Secret owned (metadata.ownerReferences) by a secret operator's object was produced by that operator.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .helpers.conventions import ANNOTATION_NOT_A_SECRET
from .helpers.access import SecretText, get, indexed, is_list, is_mapping, items, mapping, text
from .helpers.metadata import NotApplicable, Rule, kinds_rule
from .helpers.objects import kind_of
from .helpers.podspec import containers, find_pod_template, may_hold_pod_template
from .helpers.secret_values import config_line_secrets, is_literal, secret_like_name, secret_value_kind, stands_for_secret

SECRET = ("core", "Secret")
CONFIG_MAP = ("core", "ConfigMap")
SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"
# Kinds of the objects secret operators produce Secrets from (they set themselves as owner).
OPERATOR_OWNER_KINDS = ("SealedSecret", "VaultStaticSecret", "VaultDynamicSecret", "VaultPKISecret",
                        "ExternalSecret", "ClusterExternalSecret", "PushSecret")
# pulumi-vault resources that write a secret into Vault from the program: literal data is a secret in code.
VAULT_SECRET_TYPES = ("vault:generic/secret:Secret", "vault:kv/secretV2:SecretV2", "vault:kv/secret:Secret",
                      "vault:generic/endpoint:Endpoint")
# A flag on a command line that carries a credential: --password=x, --token x, -p x is too vague to judge.
_FLAG = re.compile(r"^--?([A-Za-z][A-Za-z0-9_.-]*)(?:=(.*))?$")


def operator_owner(props: Mapping[str, Any]) -> str | None:
    for _, owner in indexed(mapping(props, "metadata"), "ownerReferences", ""):
        if text(owner, "kind") in OPERATOR_OWNER_KINDS:
            return text(owner, "kind")
    return None


def allowed_keys(metadata: Mapping[str, Any]) -> frozenset[str]:
    """Keys an object declares as holding no secret (the audited allow-list for false positives)."""
    listed = text(mapping(metadata, "annotations"), ANNOTATION_NOT_A_SECRET) or ""
    return frozenset(part.strip() for part in listed.split(",") if part.strip())


def literal_problem(name: str, value: Any) -> str | None:
    """Why a (name, value) pair is a secret in plain text, or None."""
    if isinstance(value, SecretText) or not is_literal(value):
        return None
    if secret_like_name(name) and not stands_for_secret(value):
        return "has a literal value under a secret-like name"
    kind = secret_value_kind(value)
    return f"value looks like {kind}" if kind else None


def check_literal_secret(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    if text(props, "type") == SERVICE_ACCOUNT_TOKEN or operator_owner(props):
        return
    for field in ("data", "stringData"):
        values = get(props, field)
        if is_mapping(values) and values:
            keys = ", ".join(sorted(str(key) for key in values))
            yield (f"{field} holds literal values ({keys}); deliver the secret through the secret manager: a "
                   "SealedSecret, or a VaultStaticSecret/ExternalSecret that the operator turns into this Secret")


def _flag_findings(words: list[Any], where: str) -> Iterator[str]:
    for index, word in enumerate(words):
        if not isinstance(word, str) or isinstance(word, SecretText):
            continue
        for part in word.split() if " " in word else [word]:
            match = _FLAG.match(part)
            if match and secret_like_name(match[1]):
                value = match[2] if match[2] is not None else (
                    words[index + 1] if index + 1 < len(words) and " " not in word else None)
                if isinstance(value, str) and not isinstance(value, SecretText) and is_literal(value) \
                        and not stands_for_secret(value):
                    yield f"{where}[{index}] passes {match[1]} as a literal on the command line"
                    break
        else:
            kind = secret_value_kind(word)
            if kind:
                yield f"{where}[{index}] looks like {kind}"


def _pod_findings(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    template = find_pod_template(resource_type, props)
    if template is None:
        raise NotApplicable("neither a ConfigMap nor a workload with a pod template")
    allowed = allowed_keys(template.owner_metadata)
    for container in containers(template):
        for path, env in indexed(container.spec, "env", container.path):
            name = text(env, "name") or ""
            problem = None if name in allowed else literal_problem(name, get(env, "value"))
            if problem:
                field = path.removeprefix(container.path + ".")
                yield (f"{container.where}: {field} ({name}) {problem}; use valueFrom.secretKeyRef to a Secret "
                       "delivered by the secret manager")
        for field in ("command", "args"):
            for problem in _flag_findings(items(container.spec, field), field):
                yield f"{container.where}: {problem}; read it from a file or env var filled from a Secret"


def _config_map_findings(props: Mapping[str, Any]) -> Iterator[str]:
    allowed = allowed_keys(mapping(props, "metadata"))
    for key, value in mapping(props, "data").items():
        if key in allowed or not is_literal(value):
            continue
        problem = literal_problem(str(key), value)
        if problem:
            yield f'data["{key}"] {problem}'
            continue
        for line, name in config_line_secrets(value)[:3]:
            yield f'data["{key}"] line {line} sets {name} to a literal value'


def check_plaintext(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    if kind_of(resource_type) == CONFIG_MAP:
        for finding in _config_map_findings(props):
            yield (f"{finding}; keep secrets out of ConfigMaps: put them in a Secret from the secret manager "
                   "and reference it")
        return
    yield from _pod_findings(resource_type, props)


def value_findings(value: Any, path: str, allowed: frozenset[str] = frozenset()) -> Iterator[str]:
    """Literal secrets anywhere in nested data (Helm values, JSON documents), by key and by content."""
    if is_mapping(value):
        for key, inner in value.items():
            inner_path = f"{path}.{key}" if path else str(key)
            if str(key) in allowed or inner_path in allowed:
                continue
            if isinstance(inner, str):
                problem = literal_problem(str(key), inner)
                if problem:
                    yield f"{inner_path} {problem}"
                    continue
                for line, name in config_line_secrets(inner)[:3] if "\n" in inner else ():
                    yield f"{inner_path} line {line} sets {name} to a literal value"
            else:
                yield from value_findings(inner, inner_path, allowed)
    elif is_list(value):
        for index, inner in enumerate(value):
            inner_path = f"{path}[{index}]"
            if isinstance(inner, str):
                kind = None if isinstance(inner, SecretText) else secret_value_kind(inner)
                if kind:
                    yield f"{inner_path} looks like {kind}"
            else:
                yield from value_findings(inner, inner_path, allowed)


OFFLINE_SECURE_PLACEHOLDER = "[secure value: not decrypted offline]"


def secret_config_values() -> frozenset[str]:
    """Values of the stack's secret config, as the engine hands the pack its config (PULUMI_CONFIG).

    pulumi-vault marks dataJson secret whatever it was built from, so the mark says nothing there; what
    does is whether the value came from the stack's encrypted config. The CLI passes config decrypted;
    when it names the secret keys (PULUMI_CONFIG_SECRET_KEYS) only those count, else every value does
    (plain-text secrets in the stack file are `cdb scan`'s to refuse). Offline, secure values are a
    placeholder.
    """
    try:
        config = json.loads(os.environ.get("PULUMI_CONFIG") or "{}")
        secret_keys = json.loads(os.environ.get("PULUMI_CONFIG_SECRET_KEYS") or "null")
    except ValueError:
        return frozenset()
    if not isinstance(config, dict):
        return frozenset()
    keys = set(secret_keys) if isinstance(secret_keys, list) else set(config)
    return frozenset(value for key, value in config.items()
                     if isinstance(value, str) and len(value) >= 4 and key in keys) | {OFFLINE_SECURE_PLACEHOLDER}


def _from_config(value: Any, secrets: frozenset[str]) -> bool:
    return isinstance(value, str) and any(secret in value for secret in secrets)


def check_vault_secret(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    secrets = secret_config_values()
    for field in ("dataJson", "data"):
        raw = get(props, field)
        if raw is None:
            continue
        data = raw
        if isinstance(raw, str):
            try:
                data = json.loads(raw)
            except ValueError:
                data = {field: raw}
        if not is_mapping(data):
            continue
        keys = [str(key) for key, value in data.items()
                if is_literal(value) and not stands_for_secret(value) and not _from_config(value, secrets)]
        if keys:
            yield (f"{field} writes literal values ({', '.join(sorted(keys))}) into Vault from the program; pass "
                   "them as Pulumi config secrets (config.require_secret) or write them outside the code")


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
    description="Env vars, command lines and ConfigMaps carry no secret in plain text.",
    clause="6",
    specification="Keine Secrets im Repo (Scan + CI-Block).",
    severity=Severity.CRITICAL,
    remediation=(
        "Give secret-like env vars (PASSWORD, PASSWD, PWD, TOKEN, SECRET, API_KEY, CLIENT_SECRET, ...) a "
        "valueFrom.secretKeyRef instead of a value, pass no --password/--token flag with a literal, and move "
        "private keys, cloud keys, tokens, JWTs, URLs with passwords, connection strings and random-looking "
        "strings out of env values, args and ConfigMap data into Secrets delivered by the secret manager. "
        "Names of limits, counts, sizes and TTLs (MAX_TOKENS) are not credentials. A value that is provably "
        f"no secret is listed in the object's annotation {ANNOTATION_NOT_A_SECRET} (comma-separated keys)."
    ),
    tags=("secrets", "scan"),
    check=check_plaintext,
    applies_to=lambda resource_type: kind_of(resource_type) == CONFIG_MAP or may_hold_pod_template(resource_type),
    not_applicable_reason="neither a ConfigMap nor a workload with a pod template",
)

VAULT_LITERAL = Rule(
    name="vault-secret-no-literal-data",
    description="pulumi-vault secret resources write no literal data from the program.",
    clause="6",
    specification="Keine Secrets im Repo (Scan + CI-Block).",
    severity=Severity.CRITICAL,
    remediation=(
        f"On {', '.join(VAULT_SECRET_TYPES)} build dataJson/data from Pulumi config secrets "
        "(pulumi config set --secret, config.require_secret) or generated values (pulumi_random), never from "
        "literals in the program."
    ),
    tags=("secrets", "vault"),
    check=check_vault_secret,
    applies_to=lambda resource_type: resource_type in VAULT_SECRET_TYPES,
    not_applicable_reason="not a pulumi-vault secret resource",
)

RULES = [LITERAL_SECRET, PLAINTEXT, VAULT_LITERAL]
