"""Which YAML files of a GitOps repository hold Kubernetes objects, and which are something else.

A real repository keeps Helm charts and their values, kustomize files and tool configuration beside the
manifests. Those are recognised by their content (and a Helm chart by its `Chart.yaml`), skipped, and
reported as skipped, never judged and never silently dropped. A document that looks like an object but
is broken (it has `kind` but no `apiVersion`, say) is not "something else": it stays an error.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from cdb_engine.manifests.yaml_docs import STDIN, YAML_SUFFIXES
from cdb_core.errors import ManifestError

# What only an object has at its top level; a document with none of them is not meant as one.
_OBJECT_KEYS = ("apiVersion", "kind", "metadata")
# Fields of a kustomization.yaml (kustomize accepts the file without apiVersion/kind) and of the
# transformer configuration files (kustomizeconfig.yaml) that kustomize reads.
_KUSTOMIZE_KEYS = frozenset({
    "resources", "bases", "components", "patches", "patchesStrategicMerge", "patchesJson6902",
    "namePrefix", "nameSuffix", "namespace", "commonLabels", "labels", "commonAnnotations", "images",
    "replicas", "configMapGenerator", "secretGenerator", "generatorOptions", "generators", "transformers",
    "validators", "helmCharts", "helmGlobals", "crds", "openapi", "vars", "replacements", "sortOptions",
    "buildMetadata", "configurations", "nameReference", "varReference",
})
HELM_CHART_FILE = "Chart.yaml"


class Skipped(NamedTuple):
    """A file (or folder) that holds no Kubernetes objects, and what it is."""

    path: str
    reason: str


def not_kubernetes(documents: Sequence[Any]) -> str | None:
    """What the documents of one file are when none of them is meant as a Kubernetes object, else None.

    Only a file whose every document is something else is skipped: a file that mixes objects with other
    documents keeps its errors, because a half-read manifest would be a silent pass."""
    if not documents:
        return None
    if all(isinstance(doc, list) for doc in documents):
        if any(isinstance(item, dict) and _looks_like_object(item) for doc in documents for item in doc):
            return None  # objects written as a list: a mistake to report, not a file to skip
        return "a YAML list, not Kubernetes objects (for example an Ansible playbook)"
    if not all(isinstance(doc, dict) for doc in documents):
        return None
    if len(documents) == 1 and chart_reason(documents[0]):
        return chart_reason(documents[0])
    if any(_looks_like_object(doc) for doc in documents):
        return None
    if all(doc.keys() <= _KUSTOMIZE_KEYS for doc in documents):
        return "kustomize configuration (kustomization or transformer config), read by kustomize or Flux"
    return "configuration without apiVersion/kind (for example Helm values or a tool's settings)"


def _looks_like_object(doc: dict[str, Any]) -> bool:
    if any(key in doc for key in _OBJECT_KEYS[1:]):
        return True
    api_version = doc.get("apiVersion")
    if api_version is None:
        return False
    # Chart.yaml has an apiVersion (v1/v2) but no kind: it describes a chart, it is not an object.
    return not (api_version in ("v1", "v2") and "name" in doc and "version" in doc)


def chart_reason(doc: Any) -> str | None:
    """Chart.yaml content: the metadata of a Helm chart."""
    if isinstance(doc, dict) and "kind" not in doc and doc.get("apiVersion") in ("v1", "v2") and "name" in doc:
        return "Helm chart metadata (Chart.yaml); render the chart with `helm template` and check the output"
    return None


def yaml_files(paths: Sequence[str | Path], excludes: Sequence[str] = ()) -> tuple[list[str], list[Skipped]]:
    """The YAML files to read under `paths`, and the folders and files left out (Helm charts, --exclude)."""
    files: list[str] = []
    skipped: list[Skipped] = []
    for given in paths:
        if str(given) == "-":
            files.append(STDIN)
            continue
        path = Path(given)
        if path.is_file():
            if _excluded(str(given), path.name, excludes):
                skipped.append(Skipped(str(given), "excluded by --exclude"))
            else:
                files.append(str(given))
        elif path.is_dir():
            found = _under(path, excludes, skipped)
            if not found and not any(s.path.startswith(str(path)) for s in skipped):
                raise ManifestError(f"{given}: folder has no *.yaml or *.yml files (hidden folders are skipped)")
            files.extend(found)
        else:
            raise ManifestError(f"{given}: no such file or folder; check the path")
    return files, skipped


def _under(folder: Path, excludes: Sequence[str], skipped: list[Skipped]) -> list[str]:
    found: list[str] = []
    for root, dirs, names in os.walk(folder):
        if HELM_CHART_FILE in names:
            skipped.append(Skipped(root + os.sep, "a Helm chart (templates are not manifests); render it with "
                                   "`helm template` and check the output"))
            dirs[:] = []
            continue
        kept = []
        for d in sorted(dirs):
            if d.startswith("."):
                continue
            full = os.path.join(root, d)
            if _excluded(_relative(full, folder), d, excludes):
                skipped.append(Skipped(full + os.sep, "excluded by --exclude"))
            else:
                kept.append(d)
        dirs[:] = kept
        for name in names:
            if not name.endswith(YAML_SUFFIXES) or name.startswith("."):
                continue
            full = os.path.join(root, name)
            if _excluded(_relative(full, folder), name, excludes):
                skipped.append(Skipped(full, "excluded by --exclude"))
            else:
                found.append(full)
    return sorted(found, key=lambda p: Path(p).parts)


def _relative(full: str, folder: Path) -> str:
    return PurePosixPath(Path(full).relative_to(folder)).as_posix()


def _excluded(relative: str, name: str, excludes: Sequence[str]) -> bool:
    """A glob matches the path below the folder given (`charts/*`, `**/values*.yaml`) or the bare name."""
    for pattern in excludes:
        pattern = pattern.rstrip("/")
        if fnmatch.fnmatchcase(relative, pattern) or fnmatch.fnmatchcase(name, pattern):
            return True
        if pattern.startswith("**/") and fnmatch.fnmatchcase(relative, pattern[3:]):
            return True
    return False
