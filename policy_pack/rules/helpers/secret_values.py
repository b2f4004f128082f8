"""What a secret in plain text looks like: by the name it is stored under, and by its value.

Names: the normalised name (separators removed, lower case) contains a secret word and does not end
in a word that makes it a reference (DB_PASSWORD_FILE, TOKEN_TTL, SECRET_NAME point at a secret).
Values: well-known key and token formats, and long random-looking strings. The entropy threshold
(4.2 bits per character over at least 24 characters, letters and digits mixed) is above what hex
digests and commit shas can reach (at most 4.0), so revisions and image digests do not trip it.
Patterns are compiled once at import; evaluation stays cheap for thousands of objects.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

# detect-secrets' maintained token formats, as a second opinion after the patterns below (which name the
# finding in our words). Listed explicitly; its entropy, keyword and public-IP plugins are left out: names
# are judged in context here, and entropy has its own threshold that keeps digests out.
from detect_secrets.plugins.artifactory import ArtifactoryDetector
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.cloudant import CloudantDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.ibm_cloud_iam import IbmCloudIamDetector
from detect_secrets.plugins.ibm_cos_hmac import IbmCosHmacDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.softlayer import SoftlayerDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

DETECT_SECRETS = tuple(plugin() for plugin in (
    AWSKeyDetector, ArtifactoryDetector, AzureStorageKeyDetector, BasicAuthDetector, CloudantDetector,
    DiscordBotTokenDetector, GitHubTokenDetector, GitLabTokenDetector, IbmCloudIamDetector, IbmCosHmacDetector,
    JwtTokenDetector, MailchimpDetector, NpmDetector, OpenAIDetector, PrivateKeyDetector, PypiTokenDetector,
    SendGridDetector, SlackDetector, SoftlayerDetector, SquareOAuthDetector, StripeDetector,
    TelegramBotTokenDetector, TwilioKeyDetector,
))
# Their patterns, searched directly: the plugins' own analyze_string costs three times as much per value.
DETECT_SECRETS_PATTERNS = tuple((plugin.secret_type, regex) for plugin in DETECT_SECRETS for regex in plugin.denylist)

# Compound words that name a credential wherever they appear in a name (dbPassword, x-api-key, ...).
_SECRET_WORD = re.compile(r"password|passwd|passphrase|token|secret|apikey|privatekey|accesskey|credential|"
                          r"requirepass|masterauth|connectionstring|connstr|signingkey|encryptionkey|"
                          r"masterkey|authkey|sessionkey|webhookkey")
# Short spellings that only count as a whole word (DB_PWD, db.pass, SMTP_PW), never inside another word.
_SECRET_TOKENS = frozenset(("pwd", "pass", "pw", "psk", "dsn", "secrets", "tokens"))
_REFERENCE_SUFFIX = re.compile(
    r"(name|names|ref|path|file|dir|policy|ttl|length|provider|store|enabled|mount|role|engine|kind|type|"
    r"id|ids|url|uri|endpoint|audience|version|namespace|key(s)?ref|header|expiry|duration|timeout)$"
)
# Words that make a name about a quantity or a place, not a credential: MAX_TOKENS, TOKENS_PER_MINUTE,
# PASSWORD_MIN_LENGTH, existingSecret, passwordKey (the key inside a Secret), tokenizer.
_CONTEXT_TOKENS = frozenset((
    "max", "min", "limit", "limits", "count", "num", "number", "size", "budget", "per", "rate", "quota",
    "ttl", "timeout", "expiry", "expires", "lifetime", "length", "len", "window", "interval", "duration",
    "seconds", "minutes", "hours", "existing", "rotation", "rotate", "policy", "format", "encoding",
))
_KEY_OF = frozenset(("password", "passwd", "token"))  # <word>Key names the key inside a Secret
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|\b|[^A-Za-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_SEPARATORS = re.compile(r"[-_.]")
_ENV_REFERENCE = re.compile(r"^(\$\([A-Za-z_][A-Za-z0-9_]*\))+$")
# Values that stand for a secret rather than being one: templates, references, switches.
_PLACEHOLDER = re.compile(r"^(\$\{[^}]*\}|\$\([^)]*\)|\{\{.*\}\}|<[^>]*>|%\([^)]*\)s|true|false|null|none|yes|no|"
                          r"\*+|x+|[-+]?\d+(\.\d+)?)$", re.IGNORECASE)
_CONFIG_LINE = re.compile(r"^\s*[\"']?([A-Za-z][A-Za-z0-9_.-]*)[\"']?\s*(?:[:=]|\s)\s*(.+?)\s*[,;]?$")
VALUE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b")),
    ("a GCP service-account key", re.compile(r'"private_key_id"\s*:\s*"[0-9a-f]{20,}"')),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b")),
    ("a GitLab token", re.compile(r"\bgl(?:pat|dt|rt|cbt|ptt|oas)-[A-Za-z0-9_-]{20,}\b")),
    ("a Slack token", re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{10,}\b")),
    ("a Slack webhook", re.compile(r"https://hooks\.slack\.com/services/T[A-Za-z0-9_/]{20,}")),
    ("a JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("a password in a URL", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]*:(?![$%{<])[^/\s@]{3,}@")),
    ("a password in a connection string",
     re.compile(r"(?i)(?:^|[;\s])(?:password|pwd)\s*=\s*(?![$%{<;])[^;\s]{3,}")),
    ("an authorization header", re.compile(r"(?i)\b(?:bearer|basic)\s+[A-Za-z0-9+/=._~-]{20,}")),
    ("an OpenAI/Anthropic API key", re.compile(r"\bsk-(?:proj-|ant-(?:api\d+-)?)?[A-Za-z0-9_-]{20,}")),
    ("a Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("a Stripe key", re.compile(r"\b[rs]k_live_[0-9a-zA-Z]{20,}\b")),
    ("an npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("a SendGrid key", re.compile(r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b")),
)
# One search that every VALUE_PATTERNS match must pass (each pattern's fixed part, case-insensitive): most
# values match none, and one search is cheaper than seventeen. test_secret_values pins that it covers them.
_ANCHORS = re.compile(r"-----BEGIN|AKIA|ASIA|ABIA|ACCA|private_key_id|AIza|gh[pousr]_|github_pat_|gl(?:pat|dt|rt|cbt|ptt|oas)-|"
                      r"xox[abposre]-|hooks\.slack\.com|eyJ|://|password|pwd|bearer|basic|sk-|hf_|k_live_|npm_|SG\.",
                      re.IGNORECASE)
ENTROPY_BITS = 4.2
ENTROPY_MIN_LENGTH = 24
_TOKEN = re.compile(r"^[A-Za-z0-9+/=_-]+$")


def name_words(name: str) -> list[str]:
    """A name's words in lower case: "dbPassword" -> [db, password], "MAX_TOKENS" -> [max, tokens]."""
    return [word.lower() for word in _WORDS.findall(name)]


@lru_cache(maxsize=16384)  # names repeat across a stack's workloads and config files
def secret_like_name(name: str) -> bool:
    """Whether a key or variable name says it holds a credential, judged with the words around it."""
    words = name_words(name)
    if not words:
        return False
    if any(word in _CONTEXT_TOKENS or word.startswith("tokeniz") for word in words):
        return False
    if len(words) > 1 and words[-1] in ("key", "keys") and words[-2] in _KEY_OF:
        return False
    normalised = "".join(words)
    if normalised.endswith("accesskeyid"):  # one half of a cloud key pair, not a reference to one
        return True
    if _REFERENCE_SUFFIX.search(normalised):
        return False
    return bool(_SECRET_WORD.search(normalised)) or any(word in _SECRET_TOKENS for word in words)


_STANDS_FOR = re.compile(r"^(\$\{[^}]*\}|\$\([^)]*\)|\{\{.*\}\}|<[^>]*>|%\([^)]*\)s|true|false|null|none|\*+)$",
                         re.IGNORECASE)


def stands_for_secret(value: str) -> bool:
    """A template, reference or switch written where a secret goes (${DB_PASSWORD}, {{ .Values.x }}, true)."""
    return bool(_STANDS_FOR.match(value.strip().strip("\"'")))


def is_literal(value: object) -> bool:
    """A value someone typed in: a non-empty string that is not only $(VAR) references."""
    return isinstance(value, str) and bool(value.strip()) and not _ENV_REFERENCE.match(value.strip())


def entropy(value: str) -> float:
    counts = Counter(value)
    length = len(value)
    return -sum(n / length * math.log2(n / length) for n in counts.values())


def high_entropy(value: str) -> bool:
    if len(value) < ENTROPY_MIN_LENGTH or not _TOKEN.match(value):
        return False
    if not (any(c.isdigit() for c in value) and any(c.isalpha() for c in value)):
        return False
    return entropy(value) >= ENTROPY_BITS


def secret_value_kind(value: object) -> str | None:
    """What kind of secret a value looks like, or None."""
    if not isinstance(value, str) or len(value) < 16:
        return None
    return _value_kind(str(value))


# Stacks repeat values (the same URLs, hosts and settings in many services); ~50 pattern searches per value
# are worth remembering.
@lru_cache(maxsize=16384)
def _value_kind(value: str) -> str | None:
    if _ANCHORS.search(value):
        for label, pattern in VALUE_PATTERNS:
            if pattern.search(value):
                return label
    for secret_type, regex in DETECT_SECRETS_PATTERNS:
        if regex.search(value):
            return f"a {secret_type} (detect-secrets)"
    for word in value.split():
        if high_entropy(word.strip("\"',;")):
            return "a high-entropy string"
    return None


def config_line_secrets(text: str) -> list[tuple[int, str]]:
    """(line number, key) of config-file lines that set a secret-like key to a literal value."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith(("#", "//", ";")):
            continue
        match = _CONFIG_LINE.match(line)
        if not match or not secret_like_name(match[1]):
            continue
        value = match[2].strip().strip("\"'")
        if value and not _PLACEHOLDER.match(value):
            found.append((number, match[1]))
    return found
