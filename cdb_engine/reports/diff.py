"""What a change does to the stack, like `pulumi preview --diff`: pure, no I/O.

Two kinds of keys. Against a Git revision, whose program is previewed too, every custom resource (Vault
mounts and policies, providers, Kubernetes objects) is matched by URN, as the engine matches state: a
Kubernetes object whose name or namespace changes under the same URN is replaced, as Pulumi's provider
replaces it. Against a rendered folder only Kubernetes objects exist, matched by identity (API group,
kind, namespace, name), so a rename is a delete and a create. A matched resource is `same`, `update`
(with the changed field paths) or `replace`, when a field the provider cannot change in place differs.

Secrets never leave this module as values: anything marked secret in wire form and every value under
a Secret's data/stringData is compared by value but shown as `[secret]`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Union

from pulumi.runtime import rpc

SECRET_TEXT = "[secret]"
UNKNOWN_TEXT = "(known after apply)"
ACTIONS = ("create", "update", "replace", "delete", "same")
SYMBOLS = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "same": " "}

# Wire-form markers, as the engine records a program's inputs (from the SDK, not copied).
_UNKNOWN = rpc.UNKNOWN
_SIG_KEY = rpc._special_sig_key
_SECRET_SIG = rpc._special_secret_sig
_OUTPUT_SIG = rpc._special_output_value_sig

# Fields the API server refuses to change on a live object (so the provider replaces it), by
# (API group, kind). A path covers everything below it.
IMMUTABLE: dict[tuple[str, str], tuple[str, ...]] = {
    ("apps", "Deployment"): ("spec.selector",),
    ("apps", "ReplicaSet"): ("spec.selector",),
    ("apps", "DaemonSet"): ("spec.selector",),
    ("apps", "StatefulSet"): (
        "spec.selector", "spec.volumeClaimTemplates", "spec.serviceName", "spec.podManagementPolicy",
    ),
    ("batch", "Job"): ("spec.selector", "spec.template"),
    ("", "Service"): ("spec.clusterIP", "spec.clusterIPs"),
    ("", "PersistentVolumeClaim"): ("spec.storageClassName", "spec.accessModes", "spec.volumeName"),
    ("", "ConfigMap"): (),
    ("", "Secret"): ("type",),
    ("rbac.authorization.k8s.io", "RoleBinding"): ("roleRef",),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): ("roleRef",),
}
# Kubernetes objects matched by URN: the provider replaces an object whose name or namespace changes.
IMMUTABLE_BY_URN = ("metadata.name", "metadata.namespace")
# Other providers' inputs that force a new resource (ForceNew in the Terraform schemas pulumi-vault
# bridges), by Pulumi type token.
IMMUTABLE_TYPES: dict[str, tuple[str, ...]] = {
    "vault:index/mount:Mount": ("type", "local", "sealWrap", "externalEntropyAccess"),
    "vault:index/authBackend:AuthBackend": ("type", "local"),
    "vault:index/audit:Audit": ("type", "path", "local", "options", "description"),
    "vault:index/policy:Policy": ("name",),
    "vault:kubernetes/authBackendRole:AuthBackendRole": ("backend", "roleName"),
    "vault:kubernetes/authBackendConfig:AuthBackendConfig": ("backend",),
}


@dataclass(frozen=True)
class Hidden:
    """A secret value: equal to another by value, but only ever shown as [secret]."""

    value: Any = field(repr=False)

    def __repr__(self) -> str:
        return SECRET_TEXT


@dataclass(frozen=True)
class Identity:
    group: str
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        kind = f"{self.kind}.{self.group}" if self.group else self.kind
        return f"{kind} {self.namespace}/{self.name}" if self.namespace else f"{kind} {self.name}"


@dataclass(frozen=True)
class ResourceKey:
    """A resource as the engine knows it (by URN), with its Kubernetes identity when it is an object."""

    urn: str  # the key: equal URNs are the same resource whatever else changed
    type: str = field(compare=False)
    name: str = field(compare=False)
    object: Identity | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return str(self.object) if self.object is not None else f"{self.type} {self.name}"

    # The picture and the reports read these of either key.
    @property
    def group(self) -> str:
        return self.object.group if self.object is not None else ""

    @property
    def kind(self) -> str:
        return self.object.kind if self.object is not None else self.type

    @property
    def namespace(self) -> str:
        return self.object.namespace if self.object is not None else ""


Key = Union[Identity, ResourceKey]


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any  # shown values: secrets already replaced by [secret], missing is None
    new: Any


@dataclass(frozen=True)
class Change:
    action: str
    identity: Key
    fields: tuple[FieldChange, ...] = ()
    replace_because: tuple[str, ...] = ()  # the immutable paths that changed


@dataclass
class Diff:
    base: str  # what was compared against, in words (a revision or a folder)
    changes: list[Change]
    # The base's Kubernetes objects (type token, prepared body): the picture evaluates their
    # NetworkPolicies too, to mark the paths this change adds or removes.
    base_objects: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def counts(self) -> Counter:
        return Counter(c.action for c in self.changes)

    @property
    def changed(self) -> list[Change]:
        return [c for c in self.changes if c.action != "same"]

    def summary(self) -> str:
        """`+ 3 to create, ~ 2 to update, 165 unchanged`, as Pulumi words it."""
        counts = self.counts
        parts = [f"{SYMBOLS[a]} {counts[a]} to {a}" for a in ("create", "update", "replace", "delete") if counts[a]]
        parts.append(f"{counts['same']} unchanged")
        return ", ".join(parts)


def identity(body: dict[str, Any]) -> Identity | None:
    """The object's identity, or None when it is not a named Kubernetes object."""
    api_version, kind, meta = body.get("apiVersion"), body.get("kind"), body.get("metadata")
    if not isinstance(api_version, str) or not isinstance(kind, str) or not isinstance(meta, dict):
        return None
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        return None
    namespace = meta.get("namespace")
    return Identity(api_version.rpartition("/")[0], kind, namespace if isinstance(namespace, str) else "", name)


def normalize(value: Any) -> Any:
    """Wire form or parsed YAML to comparable data: secrets hidden, unknowns marked, nulls dropped,
    integral floats as ints (the wire carries every number as a double)."""
    if isinstance(value, dict):
        sig = value.get(_SIG_KEY)
        if sig == _SECRET_SIG:
            return Hidden(_plain(value.get("value")))
        if sig == _OUTPUT_SIG:
            if "value" not in value:
                return UNKNOWN_TEXT
            inner = normalize(value["value"])
            return Hidden(_plain(inner)) if value.get("secret") else inner
        return {k: normalize(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if value == _UNKNOWN:
        return UNKNOWN_TEXT
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _plain(value: Any) -> Any:
    return normalize(value) if not isinstance(value, Hidden) else value


def hide_secret_data(body: dict[str, Any]) -> dict[str, Any]:
    """A v1 Secret's data/stringData values hidden (compared, never shown)."""
    if body.get("kind") != "Secret" or body.get("apiVersion") != "v1":
        return body
    hidden = dict(body)
    for key in ("data", "stringData"):
        if isinstance(body.get(key), dict):
            hidden[key] = {k: v if isinstance(v, Hidden) else Hidden(v) for k, v in body[key].items()}
    return hidden


def prepare(body: dict[str, Any], ignored_annotations: frozenset[str] = frozenset()) -> dict[str, Any]:
    """One side's object ready to compare: normalized, Secret data hidden, and the `ignored_annotations`
    removed wherever annotations appear (pod templates and claim templates carry them too)."""
    return hide_secret_data(_without(normalize(body), ignored_annotations))


def _without(value: Any, annotations: frozenset[str], key: str = "") -> Any:
    if isinstance(value, dict):
        if key == "annotations" and annotations:
            return {k: v for k, v in value.items() if k not in annotations}
        return {k: _without(v, annotations, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_without(v, annotations) for v in value]
    return value


def shown(value: Any) -> Any:
    """A value as a report may show it: every secret inside replaced by [secret]."""
    if isinstance(value, Hidden):
        return SECRET_TEXT
    if isinstance(value, dict):
        return {k: shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shown(v) for v in value]
    return value


def _key_path(path: str, key: str) -> str:
    part = key if key.replace("_", "").replace("-", "").isalnum() else f'"{key}"'
    return f"{path}.{part}" if path else part


def field_changes(old: Any, new: Any, path: str = "") -> list[FieldChange]:
    """Every leaf where `old` and `new` differ, as dotted paths (`spec.template.spec.containers[0].image`)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[FieldChange] = []
        for key in list(old) + [k for k in new if k not in old]:
            out += field_changes(old.get(key), new.get(key), _key_path(path, str(key)))
        return out
    if isinstance(old, list) and isinstance(new, list) and old and new:
        out = []
        for i in range(max(len(old), len(new))):
            out += field_changes(old[i] if i < len(old) else None, new[i] if i < len(new) else None, f"{path}[{i}]")
        return out
    if old == new:
        return []
    return [FieldChange(path, shown(old), shown(new))]


def _covers(prefix: str, path: str) -> bool:
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


def immutable_paths(key: Key) -> tuple[str, ...]:
    if isinstance(key, Identity):
        return IMMUTABLE.get((key.group, key.kind), ())
    if key.object is not None:
        return IMMUTABLE_BY_URN + IMMUTABLE.get((key.group, key.kind), ())
    return IMMUTABLE_TYPES.get(key.type, ())


def compare(key: Key, old: dict[str, Any], new: dict[str, Any]) -> Change:
    """One matched resource: same, update (with the changed paths) or replace (an immutable field changed)."""
    fields = tuple(field_changes(old, new))
    if not fields:
        return Change("same", key)
    immutable = immutable_paths(key)
    because = tuple(p for p in immutable if any(_covers(p, f.path) for f in fields))
    return Change("replace" if because else "update", key, fields, because)


def diff(base: dict[Key, dict[str, Any]], head: dict[Key, dict[str, Any]], described: str) -> Diff:
    """Resources (prepared) of the base and of this change, compared; ordered by action, then name."""
    changes = [Change("delete", k) for k in base if k not in head]
    changes += [Change("create", k) if k not in base else compare(k, base[k], head[k]) for k in head]
    order = {a: i for i, a in enumerate(ACTIONS)}
    changes.sort(key=lambda c: (order[c.action], str(c.identity)))
    return Diff(described, changes)
