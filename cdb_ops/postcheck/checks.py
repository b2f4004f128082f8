"""Pure readiness checks on objects as the Kubernetes API returns them. Each returns None when the
object is done, or one line saying what is missing.

Field names: Kustomization kustomize.toolkit.fluxcd.io/v1 (`status.conditions[type=Ready]`,
`status.lastAppliedRevision` like `main@sha1:<sha>`, `status.observedGeneration`, `spec.suspend`);
apps/v1 Deployment, StatefulSet and DaemonSet status as the controllers write it.
"""

from __future__ import annotations

import re
from typing import Any

_SHA = re.compile(r"(?:sha1:|sha256:|/|^)([0-9a-f]{7,64})$")


def ref(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind', '?')} {where}{meta.get('name', '?')}"


def _condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def _stale(obj: dict[str, Any]) -> str | None:
    generation = (obj.get("metadata") or {}).get("generation")
    observed = (obj.get("status") or {}).get("observedGeneration")
    if generation is not None and (observed is None or observed < generation):
        return f"status not yet observed for generation {generation} (observedGeneration {observed})"
    return None


def revision_matches(applied: str | None, expected: str) -> bool:
    """`expected` is a Flux revision (`main@sha1:<sha>`) or a commit SHA, full or at least 7 digits."""
    if not applied:
        return False
    if applied == expected:
        return True
    wanted = expected.strip().lower()
    match = _SHA.search(applied.strip().lower())
    return bool(match) and len(wanted) >= 7 and re.fullmatch(r"[0-9a-f]+", wanted) is not None \
        and match.group(1).startswith(wanted)


def kustomization_problem(obj: dict[str, Any], revision: str | None) -> str | None:
    if (obj.get("spec") or {}).get("suspend") is True:
        return "suspended: reconciliation is off"
    stale = _stale(obj)
    if stale:
        return stale
    ready = _condition(obj, "Ready")
    if ready is None:
        return "no Ready condition yet"
    if ready.get("status") != "True":
        return f"not Ready ({ready.get('reason', 'unknown')}: {str(ready.get('message', '')).strip()[:200]})"
    applied = (obj.get("status") or {}).get("lastAppliedRevision")
    if revision and not revision_matches(applied, revision):
        return f"Ready at revision {applied!r}, expected {revision}"
    return None


def _deployment(spec: dict[str, Any], status: dict[str, Any], obj: dict[str, Any]) -> str | None:
    want = spec.get("replicas", 1)
    progressing = _condition(obj, "Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        return f"rollout failed: {progressing.get('message', 'progress deadline exceeded')}"
    updated, available = status.get("updatedReplicas", 0), status.get("availableReplicas", 0)
    if updated < want or available < want or status.get("replicas", 0) > want:
        return f"{available}/{want} available, {updated}/{want} updated, {status.get('replicas', 0)} total"
    available_cond = _condition(obj, "Available")
    if want > 0 and (available_cond is None or available_cond.get("status") != "True"):
        return "Available condition is not True"
    return None


def _statefulset(spec: dict[str, Any], status: dict[str, Any], _obj: dict[str, Any]) -> str | None:
    want = spec.get("replicas", 1)
    ready = status.get("readyReplicas", 0)
    available = status.get("availableReplicas", ready)
    if ready < want or available < want:
        return f"{ready}/{want} ready, {available}/{want} available"
    if (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate":
        if status.get("updatedReplicas", 0) < want or status.get("currentRevision") != status.get("updateRevision"):
            return (f"rollout incomplete: {status.get('updatedReplicas', 0)}/{want} updated, revision "
                    f"{status.get('currentRevision')} -> {status.get('updateRevision')}")
    return None


def _daemonset(_spec: dict[str, Any], status: dict[str, Any], _obj: dict[str, Any]) -> str | None:
    want = status.get("desiredNumberScheduled", 0)
    available, updated = status.get("numberAvailable", 0), status.get("updatedNumberScheduled", 0)
    if available < want or updated < want or status.get("numberUnavailable", 0) > 0:
        return f"{available}/{want} available, {updated}/{want} updated"
    return None


WORKLOAD_CHECKS = {"Deployment": _deployment, "StatefulSet": _statefulset, "DaemonSet": _daemonset}


def workload_problem(obj: dict[str, Any]) -> str | None:
    stale = _stale(obj)
    if stale:
        return stale
    check = WORKLOAD_CHECKS[obj["kind"]]
    return check(obj.get("spec") or {}, obj.get("status") or {}, obj)


PULUMI_MANAGER_PREFIX = "pulumi-kubernetes"
FLUX_MANAGER = "kustomize-controller"


def shared_ownership_problem(obj: dict[str, Any]) -> str | None:
    """An object must be applied by Pulumi or by Flux, never both (cdb_stack.ownership): two appliers
    of one object overwrite each other's fields on every run. Status writers are not appliers."""
    managers = [entry.get("manager") or "" for entry in (obj.get("metadata") or {}).get("managedFields") or []
                if not entry.get("subresource")]
    pulumi = sorted({m for m in managers if m.startswith(PULUMI_MANAGER_PREFIX)})
    if pulumi and FLUX_MANAGER in managers:
        return (f"applied by both Pulumi ({', '.join(pulumi)}) and Flux ({FLUX_MANAGER}); it must have one owner: "
                "list it in kustomization.yaml only if Pulumi does not apply it (cdb_stack/ownership.py)")
    return None
