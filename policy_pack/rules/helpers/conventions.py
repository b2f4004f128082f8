"""Label and annotation keys the components write and the pack reads (docs: conventions).

policy_pack may not import components, so it keeps its own copy of these constants; a test in tests/
pins that both copies agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .access import mapping, text

LABEL_NAME = "app.kubernetes.io/name"
LABEL_INSTANCE = "app.kubernetes.io/instance"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_PART_OF = "app.kubernetes.io/part-of"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_WORKLOAD_CLASS = "cdb-infra.io/workload-class"

MANAGED_BY_VALUE = "pulumi"
DEFAULT_PART_OF = "cdb"

WORKLOAD_CLASS_SERVICE = "service"
WORKLOAD_CLASS_AI = "ai"
WORKLOAD_CLASS_PLATFORM_STATE = "platform-state"
WORKLOAD_CLASSES = (WORKLOAD_CLASS_SERVICE, WORKLOAD_CLASS_AI, WORKLOAD_CLASS_PLATFORM_STATE)

ANNOTATION_GIT_REVISION = "cdb-infra.io/git-revision"
ANNOTATION_SOURCE = "cdb-infra.io/source"
ANNOTATION_PLATFORM_STATE = "cdb-infra.io/platform-state"

PLATFORM_STATE_KINDS = (
    "object-store",
    "event-bus",
    "secret-store",
    "metrics-store",
    "log-store",
    "trace-store",
)

REQUIRED_LABELS = (LABEL_NAME, LABEL_INSTANCE, LABEL_COMPONENT, LABEL_PART_OF, LABEL_MANAGED_BY)
REQUIRED_ANNOTATIONS = (ANNOTATION_GIT_REVISION, ANNOTATION_SOURCE)

PLATFORM_STATE_HOWTO = (
    f'declare the workload as platform state: metadata.labels["{LABEL_WORKLOAD_CLASS}"]='
    f'"{WORKLOAD_CLASS_PLATFORM_STATE}" and metadata.annotations["{ANNOTATION_PLATFORM_STATE}"]=one of '
    + ", ".join(PLATFORM_STATE_KINDS)
)


def platform_state_gaps(metadata: Mapping[str, Any]) -> list[str]:
    """What is missing from a workload's own metadata for it to count as declared platform state.

    An empty list means the declaration is complete.
    """
    gaps = []
    workload_class = text(mapping(metadata, "labels"), LABEL_WORKLOAD_CLASS)
    if workload_class != WORKLOAD_CLASS_PLATFORM_STATE:
        found = f'"{workload_class}"' if workload_class is not None else "absent"
        gaps.append(
            f'label "{LABEL_WORKLOAD_CLASS}" is {found}, not "{WORKLOAD_CLASS_PLATFORM_STATE}"'
        )
    kind = text(mapping(metadata, "annotations"), ANNOTATION_PLATFORM_STATE)
    if kind not in PLATFORM_STATE_KINDS:
        found = f'"{kind}"' if kind is not None else "absent"
        gaps.append(
            f'annotation "{ANNOTATION_PLATFORM_STATE}" is {found}, not one of '
            + ", ".join(PLATFORM_STATE_KINDS)
        )
    return gaps


# --- Break-glass (clause 2.4): an object changed by hand carries every one of these annotations. ----
BREAK_GLASS_PREFIX = "cdb-infra.io/break-glass-"
ANNOTATION_BREAK_GLASS_TICKET = "cdb-infra.io/break-glass-ticket"
ANNOTATION_BREAK_GLASS_REASON = "cdb-infra.io/break-glass-reason"
ANNOTATION_BREAK_GLASS_RESPONSIBLE = "cdb-infra.io/break-glass-responsible"
ANNOTATION_BREAK_GLASS_TIME = "cdb-infra.io/break-glass-time"
ANNOTATION_BREAK_GLASS_EXPIRY = "cdb-infra.io/break-glass-expiry"
BREAK_GLASS_ANNOTATIONS = (
    ANNOTATION_BREAK_GLASS_TICKET,
    ANNOTATION_BREAK_GLASS_REASON,
    ANNOTATION_BREAK_GLASS_RESPONSIBLE,
    ANNOTATION_BREAK_GLASS_TIME,
    ANNOTATION_BREAK_GLASS_EXPIRY,
)
BREAK_GLASS_REASONS = ("incident", "security")

# --- Stack declaration (clauses 4 and 4.3): one ConfigMap per stack says what the stack is. ----------
# The pack cannot see stack settings under `cdb check`, so the stack states them as an object: a
# ConfigMap labelled LABEL_STACK_DECLARATION="true" whose data holds the keys below.
LABEL_STACK_DECLARATION = "cdb-infra.io/stack-declaration"
DECLARATION_ENVIRONMENT = "environment"  # "dev" | "prod"; anything but "dev" is held to production rules
DECLARATION_MIGRATION_PHASE = "migration-phase"  # one of MIGRATION_PHASES
DECLARATION_REDIS_SUNSET = "redis-sunset"  # ISO 8601 date after which Redis-only operation ends
DECLARATION_REDIS_DOCS = "redis-sunset-docs"  # https:// link to the documented Redis-only plan
ENVIRONMENT_DEV = "dev"
PHASE_REDIS_ONLY = "redis-only"
PHASE_DUAL_WRITE = "dual-write"
PHASE_JETSTREAM = "jetstream"
MIGRATION_PHASES = (PHASE_REDIS_ONLY, PHASE_DUAL_WRITE, PHASE_JETSTREAM)
# How long the dual-write keeps retrying one event (Go duration); streams de-duplicate at least as long.
DECLARATION_RETRY_HORIZON = "dual-write-retry-horizon"

# --- Secrets (clause 6): keys an object declares as holding no secret (audited false positives). ------
ANNOTATION_NOT_A_SECRET = "cdb-infra.io/not-a-secret"

# --- Event backbone (clause 4). ----------------------------------------------------------------------
# Streams carrying the audit trail: by this label, or by "audit" as a token of the stream's name.
LABEL_STREAM_CLASS = "cdb-infra.io/stream-class"
STREAM_CLASS_AUDIT = "audit"

# --- Vault zone (clause 6): the namespace holding Vault carries this label. ------------------------
LABEL_ZONE_CLASS = "cdb-infra.io/zone-class"
ZONE_CLASS_VAULT = "vault"
LABEL_NAMESPACE_NAME = "kubernetes.io/metadata.name"

# --- Change control (clause 7): the status checks every protected default branch requires. ---------
REQUIRED_CHECK_TESTS = "tests"
REQUIRED_CHECK_POLICY_PREVIEW = "policy-preview"
REQUIRED_STATUS_CHECKS = (REQUIRED_CHECK_TESTS, REQUIRED_CHECK_POLICY_PREVIEW)


def labels_of(obj: Any) -> Mapping[str, Any]:
    return mapping(obj, "metadata", "labels")


def annotations_of(obj: Any) -> Mapping[str, Any]:
    return mapping(obj, "metadata", "annotations")


# --- Whole-system rules (clause 5): what components declare so the pack can judge the stack as one. --
# Flows a workload needs, as JSON on its pod template (or workload, or FluxInstance) annotations: a list
# of objects, each with exactly one target key and a port (see rules/helpers/flows.py for the full grammar):
#   {"service": "event-bus/nats", "port": "client", "purpose": "publish events"}
#   {"pods": {"namespace": "event-bus", "matchLabels": {"app.kubernetes.io/name": "nats"}}, "port": 4222}
#   {"apiServer": true, "purpose": "watch Streams"}
#   {"cidr": "203.0.113.0/24", "port": 443, "purpose": "pull images"}
ANNOTATION_FLOWS = "cdb-infra.io/flows"
FLOW_TARGETS = ("service", "pods", "apiServer", "cidr")
# The API server as NetworkPolicies see it: its endpoint addresses (never the Service ClusterIP) and port,
# in the stack declaration ConfigMap (comma-separated addresses or CIDRs; the port defaults to 6443).
DECLARATION_API_SERVER_ENDPOINTS = "api-server-endpoints"
DECLARATION_API_SERVER_PORT = "api-server-port"
DEFAULT_API_SERVER_PORT = 6443
# Kinds an operator workload creates objects of (its CRDs), comma-separated group/Kind, on the workload:
# "jetstream.nats.io/Stream,jetstream.nats.io/Consumer". A vendored CustomResourceDefinition counts too.
ANNOTATION_PROVIDES_KINDS = "cdb-infra.io/provides-kinds"
# Secrets a workload or custom resource creates (the secret operator's VaultStaticSecret destination is
# read from its spec; others declare "namespace/name,..." here).
ANNOTATION_PRODUCES = "cdb-infra.io/provides-secrets"
# Pod Security Admission namespace labels.
PSA_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
