"""Our own detectors, for what detect-secrets does not know: Pulumi stack configuration in plain text,
literal Kubernetes Secret data, and token formats of the clouds and Git hosts this stack talks to.

Each detector is a pure function `(path, text) -> [Hit]`; the registry at the bottom is explicit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

import yaml

from cdb_core import yaml_limits
from components.conventions import is_secret_like_name
from cdb_ops.scan.model import Detector


@dataclass(frozen=True)
class Hit:
    line: int
    secret: str
    description: str


class UncheckedFile(Exception):
    """A structural detector could not read the file; the scan reports it as not checked."""


# --- Pulumi stack files ---------------------------------------------------------------------------

_STACK_FILE = re.compile(r"^Pulumi\.[^/]+\.ya?ml$")
_PLACEHOLDER = re.compile(r"^\s*(\$\{[A-Za-z_][A-Za-z0-9_.]*\}|\{\{.*\}\})\s*$")


def is_secret_like_key(key: str) -> bool:
    """A stack-config key that names a credential, judged like env names in the components and the pack
    (`dbPassword` is, `maxTokens`, `tokenTtl` and `vaultSecretPath` are not)."""
    return is_secret_like_name(key.rsplit(":", 1)[-1])



def _compose(text: str, path: str) -> list[yaml.Node]:
    try:
        return yaml_limits.compose_all(text, path)
    except yaml_limits.YamlLimitError as exc:
        raise UncheckedFile(str(exc)) from None
    except yaml.YAMLError as exc:
        raise UncheckedFile(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc


def _mapping_items(node: yaml.Node) -> Iterator[tuple[yaml.ScalarNode, yaml.Node]]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                yield key, value


def _literal_string(node: yaml.Node) -> str | None:
    """A plain string value a human typed in; numbers, booleans, nulls and placeholders are not secrets."""
    if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str":
        return None
    value = str(node.value)
    if not value.strip() or _PLACEHOLDER.match(value):
        return None
    return value


def _is_reference(keys: list[str]) -> bool:
    """`{secure: ...}` is Pulumi ciphertext; `{secret: <name>, key: <key>}` names a Kubernetes Secret."""
    return keys == ["secure"] or ("key" in keys and bool({"secret", "secretName", "name"} & set(keys)))


def _walk_stack_config(node: yaml.Node, under_secret_key: bool) -> Iterator[Hit]:
    if isinstance(node, yaml.MappingNode):
        keys = [str(k.value) for k, _ in _mapping_items(node)]
        if _is_reference(keys):
            return
        # A secret-like key over a mapping (`secretEnv: {...}`) groups entries; each entry's own key
        # decides, so `secretEnv: {DB_URL: {secret: db, key: url}}` is a reference, not a leak.
        for key, value in _mapping_items(node):
            yield from _walk_stack_config(value, is_secret_like_key(str(key.value)))
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk_stack_config(item, under_secret_key)
    elif under_secret_key:
        value = _literal_string(node)
        if value is not None:
            yield Hit(node.start_mark.line + 1, value, "plaintext secret-like value in Pulumi stack config; "
                      "set it with `pulumi config set --secret` so it is stored as `secure:`")


def pulumi_stack_config(path: str, text: str) -> list[Hit]:
    hits: list[Hit] = []
    for doc in _compose(text, path):
        for key, value in _mapping_items(doc):
            if key.value == "config":
                hits.extend(_walk_stack_config(value, under_secret_key=False))
    return hits


# --- Kubernetes Secret data -----------------------------------------------------------------------

def _secret_documents(node: yaml.Node) -> Iterator[yaml.MappingNode]:
    fields = {str(k.value): v for k, v in _mapping_items(node)}
    kind = fields.get("kind")
    kind_name = kind.value if isinstance(kind, yaml.ScalarNode) else None
    if kind_name == "Secret" and isinstance(node, yaml.MappingNode):
        yield node
    elif kind_name is not None and kind_name.endswith("List") and isinstance(fields.get("items"), yaml.SequenceNode):
        for item in fields["items"].value:
            yield from _secret_documents(item)


def kubernetes_secret_data(path: str, text: str) -> list[Hit]:
    if "Secret" not in text:  # cheap guard: most YAML files are not Secrets
        return []
    hits: list[Hit] = []
    for doc in _compose(text, path):
        for secret in _secret_documents(doc):
            for key, value in _mapping_items(secret):
                if key.value not in ("data", "stringData"):
                    continue
                for entry_key, entry_value in _mapping_items(value):
                    literal = _literal_string(entry_value)
                    if literal is not None:
                        hits.append(Hit(entry_value.start_mark.line + 1, literal,
                                        f"literal Kubernetes Secret {key.value}.{entry_key.value}; deliver it "
                                        "from Vault (operator/injector) or as a SealedSecret"))
    return hits


# --- ciphertext that looks like a secret ---------------------------------------------------------

def _secure_value_lines(node: yaml.Node) -> Iterator[int]:
    if isinstance(node, yaml.MappingNode):
        for key, value in _mapping_items(node):
            if key.value == "secure" and isinstance(value, yaml.ScalarNode):
                yield value.start_mark.line + 1
            else:
                yield from _secure_value_lines(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _secure_value_lines(item)


def _sealed_value_lines(doc: yaml.Node) -> Iterator[int]:
    fields = {str(k.value): v for k, v in _mapping_items(doc)}
    kind = fields.get("kind")
    if not (isinstance(kind, yaml.ScalarNode) and kind.value == "SealedSecret"):
        return
    for key, value in _mapping_items(fields.get("spec")):
        if key.value == "encryptedData":
            yield from (entry.start_mark.line + 1 for _, entry in _mapping_items(value))


def ciphertext_lines(path: str, text: str) -> set[int]:
    """Lines holding encrypted values: Pulumi `secure:` config and SealedSecret `encryptedData`.
    High-entropy detectors flag ciphertext; it is the safe way to keep a secret in Git."""
    if not _is_yaml(path) or ("secure:" not in text and "SealedSecret" not in text):
        return set()
    try:
        docs = _compose(text, path)
    except UncheckedFile:
        return set()
    lines: set[int] = set()
    for doc in docs:
        if is_stack_file(path):
            lines.update(_secure_value_lines(doc))
        lines.update(_sealed_value_lines(doc))
    return lines


# --- token formats --------------------------------------------------------------------------------

# Formats detect-secrets 1.5 does not know (it covers AKIA ids, ghp_/gho_/..., glpat-, xox*, PEM keys).
_TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])")),
    ("GitHub fine-grained personal access token", re.compile(r"\bgithub_pat_[0-9A-Za-z_]{60,255}")),
    ("Pulumi access token", re.compile(r"\bpul-[0-9a-f]{40}\b")),
    ("Vault/OpenBao token", re.compile(r"\bhv[sbr]\.[0-9A-Za-z_\-]{24,}")),
    ("AWS secret access key", re.compile(
        r"(?i)aws_?secret_?access_?key[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])")),
    ("GitLab runner or deploy token", re.compile(r"\bgl(?:rt|dt|ft|soat)-[0-9A-Za-z_\-]{20,}")),
)


def cloud_tokens(path: str, text: str) -> list[Hit]:
    hits = []
    for number, line in enumerate(text.splitlines(), start=1):
        for label, pattern in _TOKEN_PATTERNS:
            for match in pattern.finditer(line):
                secret = match.group(match.lastindex or 0)
                hits.append(Hit(number, secret, f"{label} in plain text; revoke it and load it from Vault"))
    return hits


# --- registry -------------------------------------------------------------------------------------

def is_stack_file(path: str) -> bool:
    return bool(_STACK_FILE.match(PurePosixPath(path).name))


def _is_yaml(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in (".yaml", ".yml", ".json")


OwnDetector = tuple[Detector, Callable[[str], bool], Callable[[str, str], list[Hit]]]

OWN_DETECTORS: tuple[OwnDetector, ...] = (
    (Detector("PulumiPlaintextConfig", "Secret-like key with a plaintext value in a Pulumi stack file "
              "(Pulumi.<stack>.yaml); `secure:` values are fine.", "cdb"), is_stack_file, pulumi_stack_config),
    (Detector("KubernetesSecretData", "Literal `data`/`stringData` of a Kubernetes Secret in YAML.", "cdb"),
     _is_yaml, kubernetes_secret_data),
    (Detector("CloudTokenDetector", "Cloud, Git-hosting and Vault token formats detect-secrets does not know.",
              "cdb"), lambda _path: True, cloud_tokens),
)


def run_own_detectors(path: str, text: str) -> Iterable[tuple[Detector, Hit]]:
    """Yields hits; raises UncheckedFile when a structural detector that applies cannot parse the file."""
    unchecked: list[str] = []
    for detector, applies, run in OWN_DETECTORS:
        if not applies(path):
            continue
        try:
            for hit in run(path, text):
                yield detector, hit
        except UncheckedFile as exc:
            unchecked.append(f"{detector.id}: {exc}")
    if unchecked:
        raise UncheckedFile("; ".join(unchecked))
