"""Reading the documents audit records are made from: a `cdb preview --format json` report, the
PreviewDigest of `pulumi preview --refresh --expect-no-changes --json`, and Flux events.

Shapes (upstream):
- PreviewDigest (pulumi/pulumi pkg/display/json.go): {"steps": [{"op", "urn", "provider",
  "diffReasons", "replaceReasons", "detailedDiff", "oldState", "newState"}], "changeSummary": {op: n}, ...}
- Flux event as notification-controller forwards it (fluxcd/pkg apis/event/v1beta1): {"involvedObject":
  {apiVersion, kind, name, namespace, uid}, "severity", "timestamp", "message", "reason", "metadata": {...},
  "reportingController"}; or the same event as a Kubernetes Event (`metadata.annotations`, `type`).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from cdb_core.errors import CdbError

# Ops that mean "the live state differs from the program" after a refresh. `same`, `read` and `refresh`
# do not: refresh steps only bring the state file up to date before the diff is taken.
_NO_DRIFT_OPS = {"same", "read", "refresh"}
# kustomize-controller's change log lines: `Deployment/apps/web configured` (ssa change set entries).
_CHANGE_LINE = re.compile(r"^(?P<kind>[A-Za-z0-9]+)/(?:(?P<ns>[a-z0-9.-]+)/)?(?P<name>[A-Za-z0-9._:-]+)\s+"
                          r"(?P<action>configured|created|deleted)$")
_HELM_DRIFT_REASONS = {"DriftDetected", "DriftCorrected", "DriftCorrectionFailed"}


def _refuse_constant(name: str) -> Any:
    # Python reads NaN and Infinity, which are not JSON and have no canonical form for the audit hash.
    raise json.JSONDecodeError(f"{name} is not a JSON value", name, 0)


def read_json(path: Path, what: str, fix: str) -> tuple[Any, bytes]:
    try:
        raw = path.read_bytes()
        return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant), raw
    except OSError as exc:
        raise CdbError(f"{path}: cannot read the {what} ({exc.strerror}); {fix}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CdbError(f"{path}: the {what} is not JSON ({exc}); {fix}") from exc


def preview_summary(path: Path) -> dict[str, Any]:
    """The part of a `cdb preview --format json` report a merge record keeps, plus the file's digest."""
    fix = "produce it with `cdb preview --stack <stack> --format json --output <file>`"
    report, raw = read_json(path, "preview report", fix)
    if not isinstance(report, dict) or report.get("schemaVersion") != 1 or not isinstance(report.get("summary"), dict):
        raise CdbError(f"{path}: not a cdb preview JSON report (schemaVersion 1 with a summary); {fix}")
    pack = report.get("pack") or {}
    return {
        "sha256": hashlib.sha256(raw).hexdigest(),
        "project": report.get("project"),
        "stack": report.get("stack"),
        "pack": f"{pack.get('name')}@{pack.get('version')}" if isinstance(pack, dict) and pack else None,
        "summary": report["summary"],
    }


def _resource_of_urn(urn: str) -> dict[str, str]:
    # urn:pulumi:<stack>::<project>::<qualified type>::<name>; the type may contain `$` for parents.
    parts = urn.split("::")
    if len(parts) < 4 or not parts[0].startswith("urn:pulumi:"):
        return {"urn": urn}
    return {"urn": urn, "type": parts[2].split("$")[-1], "name": "::".join(parts[3:])}


def pulumi_drift(digest: dict[str, Any], where: str) -> list[dict[str, Any]]:
    steps = digest.get("steps")
    if steps is None and "changeSummary" in digest:
        return []  # no steps at all: nothing was shown, nothing drifted
    if not isinstance(steps, list):
        raise CdbError(f"{where}: no `steps` list; pass the output of `pulumi preview --refresh --json`")
    drifted = []
    for index, step in enumerate(steps):
        if not isinstance(step, dict) or not isinstance(step.get("op"), str) or not isinstance(step.get("urn"), str):
            raise CdbError(f"{where}: steps[{index}] has no op/urn; is this a Pulumi PreviewDigest?")
        if step["op"] in _NO_DRIFT_OPS:
            continue
        item = {"source": "pulumi", "op": step["op"], **_resource_of_urn(step["urn"])}
        reasons = sorted(set(step.get("diffReasons") or []) | set(step.get("replaceReasons") or []))
        item["diffReasons"] = reasons or sorted((step.get("detailedDiff") or {}).keys())
        drifted.append(item)
    return drifted


def _flux_fields(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], str | None, str | None]:
    """(involvedObject, metadata, timestamp, controller) for both the forwarded and the Kubernetes form."""
    meta = event.get("metadata") or {}
    if isinstance(meta.get("annotations"), dict):  # core/v1 Event: Flux metadata lives in annotations
        metadata = meta["annotations"]
        stamp = event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp")
        controller = (event.get("source") or {}).get("component") or event.get("reportingComponent")
    else:
        metadata, stamp, controller = meta, event.get("timestamp"), event.get("reportingController")
    return event.get("involvedObject") or {}, metadata, stamp, controller


def flux_drift(event: dict[str, Any], where: str) -> list[dict[str, Any]]:
    obj, metadata, stamp, controller = _flux_fields(event)
    if not obj.get("kind") or not obj.get("name") or not isinstance(event.get("reason"), str):
        raise CdbError(f"{where}: a Flux event needs involvedObject.kind/name and reason")
    base = {"source": "flux", "reporter": {"kind": obj["kind"], "name": obj["name"],
                                           "namespace": obj.get("namespace")},
            "reason": event["reason"], "eventTime": stamp, "controller": controller,
            "revision": next((v for k, v in metadata.items() if k.endswith("/revision")), None)}
    if event["reason"] in _HELM_DRIFT_REASONS:
        return [{**base, "kind": obj["kind"], "name": obj["name"], "namespace": obj.get("namespace"),
                 "action": event["reason"], "message": str(event.get("message", ""))[:500]}]
    drifted = []
    for line in str(event.get("message", "")).splitlines():
        match = _CHANGE_LINE.match(line.strip())
        if match:
            drifted.append({**base, "kind": match["kind"], "namespace": match["ns"], "name": match["name"],
                            "action": match["action"]})
    return drifted


def drift_items(document: Any, where: str) -> list[dict[str, Any]]:
    """Drifted resources from a PreviewDigest, one Flux event, or a list of Flux events."""
    if isinstance(document, dict) and ("steps" in document or "changeSummary" in document):
        return pulumi_drift(document, where)
    if isinstance(document, dict) and "involvedObject" in document:
        return flux_drift(document, where)
    if isinstance(document, list) and all(isinstance(e, dict) and "involvedObject" in e for e in document):
        return [item for i, event in enumerate(document) for item in flux_drift(event, f"{where}[{i}]")]
    raise CdbError(f"{where}: neither a Pulumi PreviewDigest (`steps`) nor a Flux event (`involvedObject`)")
