"""The workloads that use each image, read from Kubernetes manifests (rendered `deploy/<stack>/` or
paths the user names): kind, name, container, and the security context that applies to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cdb_core import yaml_limits
from cdb_stack.images.model import ImageError

# Kinds whose pods keep no state by contract; a StatefulSet is declared platform state.
STATELESS_KINDS = ("Deployment", "ReplicaSet", "DaemonSet", "Job", "CronJob", "Pod")
_POD_SPEC_PATHS = {"Pod": ("spec",), "CronJob": ("spec", "jobTemplate", "spec", "template", "spec")}


@dataclass
class Workload:
    kind: str
    name: str
    namespace: str
    container: str
    image: str
    run_as_user: int | None
    probe_ports: list[int | str] = field(default_factory=list)
    named_ports: dict[str, int] = field(default_factory=dict)
    source: str = ""
    probe_paths: dict[str, str] = field(default_factory=dict)  # livenessProbe -> /healthz

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name} container {self.container}"

    @property
    def stateless(self) -> bool:
        return self.kind in STATELESS_KINDS


def _dig(doc: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc


def _probe_ports(container: dict) -> list[int | str]:
    ports = []
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        for handler in ("httpGet", "tcpSocket", "grpc"):
            port = _dig(container, (probe, handler, "port"))
            if port is not None:
                ports.append(port)
    return ports


def _probe_paths(container: dict) -> dict[str, str]:
    paths = {}
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        path = _dig(container, (probe, "httpGet", "path"))
        if isinstance(path, str):
            paths[probe] = path
    return paths


def _workloads(doc: dict, source: str) -> list[Workload]:
    kind = str(doc.get("kind") or "")
    spec = _dig(doc, _POD_SPEC_PATHS.get(kind, ("spec", "template", "spec")))
    if not isinstance(spec, dict):
        return []
    meta = doc.get("metadata") or {}
    pod_user = _dig(spec, ("securityContext", "runAsUser"))
    found = []
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        if not isinstance(container, dict) or not container.get("image"):
            continue
        user = _dig(container, ("securityContext", "runAsUser"))
        named = {str(p.get("name")): int(p["containerPort"]) for p in container.get("ports") or []
                 if isinstance(p, dict) and p.get("name") and isinstance(p.get("containerPort"), int)}
        found.append(Workload(kind, str(meta.get("name", "?")), str(meta.get("namespace", "default")),
                              str(container.get("name", "?")), str(container["image"]),
                              user if isinstance(user, int) else pod_user if isinstance(pod_user, int) else None,
                              _probe_ports(container), named, source, _probe_paths(container)))
    return found


def from_documents(docs: list[dict], source: str) -> list[Workload]:
    return [w for doc in docs if isinstance(doc, dict) for w in _workloads(doc, source)]


def read_manifests(paths: list[Path]) -> list[Workload]:
    found: list[Workload] = []
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")) if path.is_dir() else [path]
        if not path.exists():
            raise ImageError(f"{path}: no such file or folder; name rendered manifests or use --stack")
        for file in files:
            try:
                docs = yaml_limits.load_all(file.read_text(encoding="utf-8"), str(file))
            except (yaml.YAMLError, yaml_limits.YamlLimitError, UnicodeDecodeError) as exc:
                raise ImageError(f"{file}: not readable YAML ({' '.join(str(exc).split())[:200]})") from None
            for doc in docs:
                if isinstance(doc, dict):
                    found.extend(_workloads(doc, str(file)))
    return found
