"""The Kubernetes provider's YAML components, expanded offline as the provider expands them.

- `kubernetes.yaml.ConfigFile` / `ConfigGroup` (v1) run in the program: they read the file themselves
  and ask the provider to decode it with the `kubernetes:yaml:decode` invoke, then register one child
  per object. `decode` answers that invoke: every document with an apiVersion and a kind, in order.
- `kubernetes.yaml.v2.ConfigFile` / `ConfigGroup` are remote components: the provider reads the files
  (globs sorted, for a group), the `yaml` text and the `objs`, expands `List`s and registers each object
  as a child named `<prefix>:<namespace>/<name>` (or `<prefix>:<name>`), the prefix defaulting to the
  component's name (provider/pkg/provider/yaml/v2 in pulumi-kubernetes). `expand_v2` does the same
  without the network: a URL cannot be read offline, so such a component stays unexpanded.
"""

from __future__ import annotations

import glob
from typing import Any
from urllib.parse import urlparse

from cdb_engine.manifests.yaml_docs import read_documents, read_text
from cdb_core.errors import ManifestError

V2_TYPES = ("kubernetes:yaml/v2:ConfigFile", "kubernetes:yaml/v2:ConfigGroup")


class NotOffline(Exception):
    """The component's contents cannot be known offline (a URL, an unknown input); it stays unexpanded."""


def decode(text: str, where: str = "<yaml>") -> list[dict[str, Any]]:
    """The answer of the provider's `kubernetes:yaml:decode` invoke: objects with apiVersion and kind."""
    return [doc for doc, _ in read_documents(where, text)
            if isinstance(doc, dict) and doc.get("apiVersion") and doc.get("kind")]


def _documents(text: str, where: str) -> list[dict[str, Any]]:
    out = []
    for doc, _ in read_documents(where, text):
        if not isinstance(doc, dict):
            raise ManifestError(f"{where}: a document is a {type(doc).__name__}, not a Kubernetes object")
        if doc:
            out.append(doc)
    return out


def _is_url(file: str) -> bool:
    parsed = urlparse(file)
    return bool(parsed.scheme) and len(parsed.scheme) > 1  # `C:\...` is a path, not a URL


def _read(files: list[Any], globbing: bool, owner: str) -> list[dict[str, Any]]:
    objs: list[dict[str, Any]] = []
    for file in files:
        if not isinstance(file, str):
            raise NotOffline(f"{owner}: a file name is not known offline")
        if _is_url(file):
            raise NotOffline(f"{owner}: {file} is fetched over the network at deploy")
        names = sorted(glob.glob(file)) if globbing and glob.has_magic(file) else [file]
        for name in names:
            try:
                text = read_text(name)
            except ManifestError as exc:
                raise ManifestError(f"{owner}: reading YAML file from disk: {exc}") from None
            objs += _documents(text, name)
    return objs


def _expand_lists(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    pending = list(objs)
    while pending:
        obj = pending.pop(0)
        if isinstance(obj.get("items"), list) and str(obj.get("kind", "")).endswith("List"):
            pending[:0] = [i for i in obj["items"] if isinstance(i, dict)]
            continue
        out.append(obj)
    return out


def _type_token(obj: dict[str, Any], owner: str) -> str:
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not api_version or not isinstance(kind, str) or not kind:
        raise ManifestError(f"{owner}: Kubernetes resources require a kind and apiVersion: {obj!r:.120}")
    group, slash, version = api_version.partition("/")
    if not slash:
        group, version = "core", api_version
    if group == "core":
        obj["apiVersion"] = version
    return f"kubernetes:{group}/{version}:{kind}"


def expand_v2(resource_type: str, name: str, inputs: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(type token, child name, object) per object of a yaml/v2 component, in the provider's naming.

    Raises NotOffline when the contents need the network or an input is unknown, ManifestError when the
    provider would refuse them (unreadable file, malformed YAML, an object without a name).
    """
    owner = f"{resource_type} {name!r}"
    if resource_type.endswith(":ConfigFile"):
        objs = _read([inputs.get("file")], globbing=False, owner=owner)
    else:
        objs = _read(list(inputs.get("files") or []), globbing=True, owner=owner)
        if isinstance(inputs.get("yaml"), str):
            objs += _documents(inputs["yaml"], f"{owner} yaml")
        elif inputs.get("yaml") is not None:
            raise NotOffline(f"{owner}: its yaml is not known offline")
        for obj in inputs.get("objs") or []:
            if not isinstance(obj, dict):
                raise NotOffline(f"{owner}: an object is not known offline")
            objs.append(obj)
    prefix = inputs.get("resourcePrefix")
    if prefix is None:
        prefix = name  # the provider's default keeps children of two components apart
    elif not isinstance(prefix, str):
        raise NotOffline(f"{owner}: its resourcePrefix is not known offline")
    children = []
    for obj in _expand_lists(objs):
        token = _type_token(obj, owner)
        metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        obj_name = metadata.get("name")
        if not isinstance(obj_name, str) or not obj_name:
            raise ManifestError(f"{owner}: Kubernetes resources require a .metadata.name: {token}")
        namespace = metadata.get("namespace")
        child = f"{namespace}/{obj_name}" if isinstance(namespace, str) and namespace else obj_name
        if prefix:
            child = f"{prefix}:{child}"
        if inputs.get("skipAwait") is True:
            obj.setdefault("metadata", {}).setdefault("annotations", {})["pulumi.com/skipAwait"] = "true"
        children.append((token, child, obj))
    return children
