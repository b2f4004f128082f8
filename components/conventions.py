"""Label and annotation keys shared with the policy pack (see the project's conventions brief).

The policy pack keeps its own copy of these constants because it may not import `components`;
a test in tests/ pins that both copies agree, so change them together.
"""

import re
from typing import Any, Final

# Kubernetes recommended labels, set on every object and on every pod template.
LABEL_NAME: Final = "app.kubernetes.io/name"
LABEL_INSTANCE: Final = "app.kubernetes.io/instance"
LABEL_COMPONENT: Final = "app.kubernetes.io/component"
LABEL_PART_OF: Final = "app.kubernetes.io/part-of"
LABEL_MANAGED_BY: Final = "app.kubernetes.io/managed-by"
RECOMMENDED_LABELS: Final = (LABEL_NAME, LABEL_INSTANCE, LABEL_COMPONENT, LABEL_PART_OF, LABEL_MANAGED_BY)

MANAGED_BY_PULUMI: Final = "pulumi"
DEFAULT_PART_OF: Final = "cdb"

# Workload class: on workloads and pod templates (this package also puts it on every object a
# workload component owns, so a stack policy can group a service's objects by class).
LABEL_WORKLOAD_CLASS: Final = "cdb-infra.io/workload-class"
WORKLOAD_CLASS_SERVICE: Final = "service"
WORKLOAD_CLASS_AI: Final = "ai"
WORKLOAD_CLASS_PLATFORM_STATE: Final = "platform-state"
WORKLOAD_CLASSES: Final = (WORKLOAD_CLASS_SERVICE, WORKLOAD_CLASS_AI, WORKLOAD_CLASS_PLATFORM_STATE)

# Provenance annotations, on every object.
ANNOTATION_GIT_REVISION: Final = "cdb-infra.io/git-revision"
ANNOTATION_SOURCE: Final = "cdb-infra.io/source"
UNKNOWN_REVISION: Final = "unknown"

# Declared platform state: the only workloads that may mount PersistentVolumeClaims.
ANNOTATION_PLATFORM_STATE: Final = "cdb-infra.io/platform-state"
PLATFORM_STATE_KINDS: Final = (
    "object-store",
    "event-bus",
    "secret-store",
    "metrics-store",
    "log-store",
    "trace-store",
)

# Kubernetes sets this label on every namespace; NetworkPolicies select namespaces by it.
LABEL_NAMESPACE_NAME: Final = "kubernetes.io/metadata.name"

# Pod Security Admission namespace labels.
PSA_MODES: Final = ("enforce", "audit", "warn")
PSA_LEVEL_LABEL: Final = "pod-security.kubernetes.io/{mode}"
PSA_VERSION_LABEL: Final = "pod-security.kubernetes.io/{mode}-version"

# Upper-case fragments of environment variable names that carry secrets: such a variable may
# never hold a literal value (CDB_INFRA_POLICY clause 6), only a secretKeyRef.
SECRET_NAME_MARKERS: Final = (
    "PASSWORD",
    "PASSWD",
    "TOKEN",
    "SECRET",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
)

# Names are judged word by word (dbPassword -> db, password): short spellings count as whole words only,
# and words of quantity or reference make a name about a secret rather than one.
_WORDS: Final = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|\b|[^A-Za-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_SECRET_WORDS: Final = frozenset(("pwd", "pass", "pw", "psk", "dsn"))
_SECRET_COMPOUND: Final = re.compile(r"password|passwd|passphrase|token|secret|apikey|privatekey|accesskey|"
                                     r"credential|requirepass|masterauth|connectionstring|connstr|signingkey|"
                                     r"encryptionkey|masterkey|authkey|sessionkey|webhookkey")
_CONTEXT_WORDS: Final = frozenset((
    "max", "min", "limit", "limits", "count", "num", "number", "size", "budget", "per", "rate", "quota",
    "ttl", "timeout", "expiry", "expires", "lifetime", "length", "len", "window", "interval", "duration",
    "seconds", "minutes", "hours", "existing", "rotation", "rotate", "policy", "format", "encoding",
))
_REFERENCE_SUFFIX: Final = re.compile(
    r"(name|names|ref|path|file|dir|policy|ttl|length|provider|store|enabled|mount|role|engine|kind|type|"
    r"id|ids|url|uri|endpoint|audience|version|namespace|key(s)?ref|header|expiry|duration|timeout)$"
)

# Pod annotations that make the Vault agent injector hand secrets to a pod: refused on AI pods.
VAULT_INJECTOR_ANNOTATION_PREFIX: Final = "vault.hashicorp.com/"

# Component type tokens.
ZONE_TYPE: Final = "cdb:index:Zone"
STATELESS_SERVICE_TYPE: Final = "cdb:index:StatelessService"


def is_secret_like_name(name: str) -> bool:
    """True when an environment variable name says it carries a secret, judged with the words around it.

    MAX_TOKENS, TOKEN_LIMIT or PASSWORD_MIN_LENGTH are about a quantity, DB_PASSWORD_FILE and
    SECRET_NAME point at a secret: none is a credential. Same judgement as the policy pack's
    secret_values.secret_like_name (a test pins that both agree).
    """
    words = [word.lower() for word in _WORDS.findall(name)]
    if not words or any(word in _CONTEXT_WORDS or word.startswith("tokeniz") for word in words):
        return False
    if len(words) > 1 and words[-1] in ("key", "keys") and words[-2] in ("password", "passwd", "token"):
        return False
    joined = "".join(words)
    if joined.endswith("accesskeyid"):  # one half of a cloud key pair, not a reference to one
        return True
    if _REFERENCE_SUFFIX.search(joined):
        return False
    upper = name.upper()
    return (any(marker in upper for marker in SECRET_NAME_MARKERS) or bool(_SECRET_COMPOUND.search(joined))
            or any(word in _SECRET_WORDS for word in words))


# --- Mirrors of policy_pack/rules/helpers/conventions.py for clauses 2.4, 4, 6 and 7 (keep in step). --------
# Break-glass marker (clause 2.4): an object changed by hand carries every one of these annotations.
BREAK_GLASS_PREFIX: Final = "cdb-infra.io/break-glass-"
ANNOTATION_BREAK_GLASS_TICKET: Final = "cdb-infra.io/break-glass-ticket"
ANNOTATION_BREAK_GLASS_REASON: Final = "cdb-infra.io/break-glass-reason"
ANNOTATION_BREAK_GLASS_RESPONSIBLE: Final = "cdb-infra.io/break-glass-responsible"
ANNOTATION_BREAK_GLASS_TIME: Final = "cdb-infra.io/break-glass-time"
ANNOTATION_BREAK_GLASS_EXPIRY: Final = "cdb-infra.io/break-glass-expiry"
BREAK_GLASS_REASONS: Final = ("incident", "security")

# Stack declaration (clauses 4, 4.3): one ConfigMap labelled LABEL_STACK_DECLARATION="true" whose data
# carries the environment and the migration phase.
LABEL_STACK_DECLARATION: Final = "cdb-infra.io/stack-declaration"
DECLARATION_ENVIRONMENT: Final = "environment"
DECLARATION_MIGRATION_PHASE: Final = "migration-phase"
DECLARATION_REDIS_SUNSET: Final = "redis-sunset"
DECLARATION_REDIS_DOCS: Final = "redis-sunset-docs"
ENVIRONMENT_DEV: Final = "dev"
MIGRATION_PHASES: Final = ("redis-only", "dual-write", "jetstream")
DECLARATION_RETRY_HORIZON: Final = "dual-write-retry-horizon"

# Secrets (clause 6): keys an object declares as holding no secret (audited false positives).
ANNOTATION_NOT_A_SECRET: Final = "cdb-infra.io/not-a-secret"

# Audit streams: this label (or "audit" as a token of the stream name) demands denyDelete/denyPurge.
LABEL_STREAM_CLASS: Final = "cdb-infra.io/stream-class"
STREAM_CLASS_AUDIT: Final = "audit"

# The vault zone: its Namespace carries this label.
LABEL_ZONE_CLASS: Final = "cdb-infra.io/zone-class"
ZONE_CLASS_VAULT: Final = "vault"

# Status checks every protected default branch requires (the CI job names).
REQUIRED_CHECK_TESTS: Final = "tests"
REQUIRED_CHECK_POLICY_PREVIEW: Final = "policy-preview"
REQUIRED_STATUS_CHECKS: Final = (REQUIRED_CHECK_TESTS, REQUIRED_CHECK_POLICY_PREVIEW)

GOVERNANCE_TYPE: Final = "cdb:index:RepositoryGovernance"

# --- Whole-system declarations (mirror of policy_pack/rules/helpers/conventions.py; keep in step). ------------
# Flows a workload needs: JSON list on the pod template annotation (see policy_pack/rules/helpers/flows.py).
ANNOTATION_FLOWS: Final = "cdb-infra.io/flows"
FLOW_TARGETS: Final = ("service", "pods", "apiServer", "cidr")
# The API server's endpoint addresses and port, in the stack declaration ConfigMap.
DECLARATION_API_SERVER_ENDPOINTS: Final = "api-server-endpoints"
DECLARATION_API_SERVER_PORT: Final = "api-server-port"
DEFAULT_API_SERVER_PORT: Final = 6443
# Kinds an operator creates objects of, and Secrets a workload or custom resource creates.
ANNOTATION_PROVIDES_KINDS: Final = "cdb-infra.io/provides-kinds"
ANNOTATION_PRODUCES: Final = "cdb-infra.io/provides-secrets"
PSA_ENFORCE_LABEL: Final = "pod-security.kubernetes.io/enforce"


def flows_annotation(flows: list[dict[str, Any]]) -> dict[str, str]:
    """The annotation declaring a workload's flows, e.g. {"service": "event-bus/nats", "port": "client"}."""
    import json  # local: the module is otherwise constants only

    return {ANNOTATION_FLOWS: json.dumps(flows, sort_keys=True, separators=(",", ":"))}
