"""Plain Kubernetes YAML as engine resources, so `cdb check` hands the pack what a preview would.

Each document becomes a flat custom resource under the stack root with its manifest as the wire-form
properties. Reading is strict where Kubernetes is strict (duplicate keys, non-mapping documents,
missing apiVersion/kind) and every problem is one `file:line: what is wrong` error, because a document
that is silently skipped would be a silent pass.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from cdb_engine.manifests.files import Skipped, not_kubernetes, yaml_files
from cdb_engine.manifests.yaml_docs import read_documents
from cdb_engine.model import Resource, SourceLocation
from cdb_core.errors import ManifestError


def load_manifests(
    paths: Sequence[str | Path], stack: str = "check", project: str = "manifests",
    excludes: Sequence[str] = (), skipped: list[Skipped] | None = None,
) -> list[Resource]:
    """Every Kubernetes object in `paths` (files, or folders searched recursively for *.yaml/*.yml), read
    in order, so the first problem is the one reported.

    Files and folders that hold no objects (Helm charts and values, kustomize files, `excludes` globs)
    are appended to `skipped`.
    """
    if not paths:
        raise ManifestError("no manifest path given: name at least one YAML file or folder")
    gc_was_enabled = gc.isenabled()
    gc.disable()  # parsing allocates ~10^5 acyclic objects; collector passes over them cost 2x the parse
    try:
        return _load(paths, stack, project, excludes, [] if skipped is None else skipped)
    finally:
        if gc_was_enabled:
            gc.enable()


def _load(paths: Sequence[str | Path], stack: str, project: str, excludes: Sequence[str],
          skipped: list[Skipped]) -> list[Resource]:
    files, left_out = yaml_files(paths, excludes)
    skipped.extend(left_out)
    parsed = ((file, file_objects(file)) for file in files)
    resources: list[Resource] = []
    urns: set[str] = set()
    for file, objects in parsed:
        for obj, obj_line in objects:
            if isinstance(obj, Skipped):
                skipped.append(obj)
                continue
            if _is_build_config(obj):
                skipped.append(Skipped(f"{file}:{obj_line}", "kustomize build configuration, not applied to a cluster"))
                continue
            resource = _to_resource(obj, file, obj_line, stack, project, urns)
            urns.add(resource.urn)
            resources.append(resource)
    return resources


def file_objects(file: str) -> Iterator[tuple[dict[str, Any] | Skipped, int]]:
    """Every object of one file with its line, in order; a file that holds no Kubernetes object at all
    (Helm values, kustomize files) yields one Skipped instead."""
    documents = list(read_documents(file))
    reason = not_kubernetes([doc for doc, _ in documents])
    if reason is not None:
        yield Skipped(file, reason), 0
        return
    for doc, node in documents:
        yield from _objects(doc, node, file)


# Build configuration read by kustomize (and Flux), never applied to a cluster: not an object to judge.
BUILD_CONFIG_GROUPS = ("kustomize.config.k8s.io/",)


def _is_build_config(obj: Any) -> bool:
    api_version = obj.get("apiVersion") if isinstance(obj, dict) else None
    return isinstance(api_version, str) and api_version.startswith(BUILD_CONFIG_GROUPS)


def _objects(doc: Any, node: yaml.Node, file: str) -> Iterator[tuple[dict[str, Any], int]]:
    """The Kubernetes objects of one document with their lines; `kind: List` (and typed *List) flattened."""
    line = node.start_mark.line + 1
    if not isinstance(doc, dict):
        raise ManifestError(
            f"{file}:{line}: document is a {_json_type(doc)}, not a Kubernetes object "
            "(a mapping with apiVersion, kind and metadata)"
        )
    kind = doc.get("kind")
    if not (isinstance(kind, str) and kind.endswith("List") and "items" in doc):
        yield doc, line
        return
    items = doc["items"] or []
    if not isinstance(items, list):
        raise ManifestError(
            f"{file}:{line}: {kind}.items is a {_json_type(items)}; it must be a list of objects"
        )
    item_nodes = _items_node_children(node)
    for index, item in enumerate(items):
        item_node = item_nodes[index] if len(item_nodes) == len(items) else node
        item_line = item_node.start_mark.line + 1
        if not isinstance(item, dict):
            raise ManifestError(
                f"{file}:{item_line}: {kind}.items[{index}] is a {_json_type(item)}, not an object"
            )
        yield from _objects(_with_list_type(item, doc), item_node, file)


def _items_node_children(node: yaml.Node) -> list[yaml.Node]:
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == "items":
            return list(value_node.value) if isinstance(value_node, yaml.SequenceNode) else []
    return []


def _with_list_type(item: dict[str, Any], parent: dict[str, Any]) -> dict[str, Any]:
    """Items of a typed list (DeploymentList) may omit apiVersion/kind; the list names them."""
    kind = parent["kind"]
    if kind == "List" or ("apiVersion" in item and "kind" in item):
        return item
    return {"apiVersion": parent.get("apiVersion"), "kind": kind[: -len("List")], **item}


def _to_resource(
    obj: dict[str, Any], file: str, line: int, stack: str, project: str, taken: set[str]
) -> Resource:
    type_token = _type_token(obj, file, line)
    name = _display_name(obj, file, line)
    prefix = f"urn:pulumi:{stack}::{project}::{type_token}::"
    if prefix + name in taken:  # the same object in a base and an overlay: judge both, tell them apart
        name = _unique_name(name, f"{file}:{line}", prefix, taken)
    urn = prefix + name
    return Resource(
        urn=urn, type=type_token, name=name, custom=True, properties=obj,
        source=SourceLocation(path=file, line=line),
    )


def _unique_name(name: str, where: str, urn_prefix: str, taken: set[str]) -> str:
    candidate, counter = f"{name}@{where}", 1
    while urn_prefix + candidate in taken:  # several objects on one line (flow-style lists)
        counter += 1
        candidate = f"{name}@{where}#{counter}"
    return candidate


def _type_token(obj: dict[str, Any], file: str, line: int) -> str:
    """`v1` -> kubernetes:core/v1:Kind; `group/version` -> kubernetes:group/version:Kind."""
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if api_version is None or api_version == "":
        raise ManifestError(f"{file}:{line}: missing apiVersion (e.g. `apiVersion: apps/v1`)")
    if not isinstance(api_version, str):
        raise ManifestError(
            f"{file}:{line}: apiVersion is a {_json_type(api_version)}; write it as text like apps/v1"
        )
    if kind is None or kind == "":
        raise ManifestError(f"{file}:{line}: missing kind (e.g. `kind: Deployment`)")
    if not isinstance(kind, str):
        raise ManifestError(f"{file}:{line}: kind is a {_json_type(kind)}; write it as text like Deployment")
    if not kind.isalnum() or not kind[0].isalpha():
        raise ManifestError(
            f"{file}:{line}: kind {kind!r} is not a Kubernetes kind (letters and digits, e.g. Deployment)"
        )
    parts = api_version.split("/")
    if len(parts) > 2 or not all(parts) or any(c.isspace() or c == ":" for c in api_version):
        raise ManifestError(
            f"{file}:{line}: apiVersion {api_version!r} is not `version` or `group/version` (e.g. apps/v1)"
        )
    group_version = f"core/{api_version}" if len(parts) == 1 else api_version
    return f"kubernetes:{group_version}:{kind}"


def _display_name(obj: dict[str, Any], file: str, line: int) -> str:
    """`<namespace>/<name>` like the Kubernetes provider names objects; never fails on a missing name."""
    metadata = obj.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise ManifestError(f"{file}:{line}: metadata is a {_json_type(metadata)}; it must be a mapping")
    name = _metadata_text(metadata, "name", file, line)
    if not name:
        generated = _metadata_text(metadata, "generateName", file, line)
        name = f"{generated}<generated>" if generated else f"<unnamed {obj['kind']}>"
    namespace = _metadata_text(metadata, "namespace", file, line)
    return f"{namespace}/{name}" if namespace else name


def _metadata_text(metadata: dict[str, Any], key: str, file: str, line: int) -> str:
    value = metadata.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ManifestError(f"{file}:{line}: metadata.{key} is a {_json_type(value)}; Kubernetes needs text")
    return value


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "null" if value is None else "string"
