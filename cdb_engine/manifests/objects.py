"""The Kubernetes objects of a recorded program run, as plain manifests fit to commit to Git.

A recorded custom resource of a `kubernetes:` type carries its manifest in wire form. Render refuses
what cannot be written truthfully: a value unknown until deploy (writing a placeholder would deploy
it), a secret (Git must never hold one), an object without a name or without its provenance
annotation. Remote components (Helm charts, YAML groups) and non-Kubernetes resources have no
manifest here: they are listed as not rendered, never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdb_stack.ownership import is_flux_owned
from typing import Any

from components.conventions import ANNOTATION_GIT_REVISION
from cdb_engine.model import Resource
from cdb_core.errors import CdbError

# Wire-form markers (pulumi/runtime/rpc.py): the unknown sentinel and the signature key of
# secrets, assets, archives, resource references and output values.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
# Kubernetes resources that are deploy-time machinery, not objects with a manifest.
_NOT_OBJECTS = ("kubernetes:helm.sh/", "kubernetes:yaml/", "kubernetes:kustomize/")
_INSTALLERS = ("kubernetes:helm.sh/", "kubernetes:yaml", "kubernetes:kustomize")


class RenderError(CdbError):
    """The program's objects cannot be written as manifests."""


@dataclass(frozen=True)
class Manifest:
    api_version: str
    kind: str
    name: str
    namespace: str | None
    body: dict[str, Any]
    flux_owned: bool = False  # applied by Flux (listed in kustomization.yaml); else applied by Pulumi only

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]


@dataclass(frozen=True)
class Skipped:
    type: str
    name: str
    reason: str


@dataclass
class Rendered:
    project: str
    stack: str
    manifests: list[Manifest] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # what the program logged as warnings (pulumi.log.warn)


def _plain(value: Any, where: str, owner: str) -> Any:
    """Wire form to manifest data: unknowns and secrets refused, integral floats back to ints."""
    if isinstance(value, str) and value == UNKNOWN:
        raise RenderError(
            f"{owner}: {where} is unknown until deploy; render writes only values the code knows "
            "(set it explicitly instead of from another resource's output)"
        )
    if isinstance(value, dict):
        if SIG_KEY in value:
            if value[SIG_KEY] == OUTPUT_VALUE_SIG and not value.get("secret"):
                if "value" not in value:
                    return _plain(UNKNOWN, where, owner)
                return _plain(value["value"], where, owner)
            if value[SIG_KEY] in (SECRET_SIG, OUTPUT_VALUE_SIG):
                raise RenderError(
                    f"{owner}: {where} is a secret; rendered manifests are committed to Git, so deliver it "
                    "through the secret manager instead"
                )
            raise RenderError(f"{owner}: {where} is an asset, archive or resource reference; a manifest cannot hold it")
        return {k: _plain(v, f"{where}.{k}" if where else k, owner) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v, f"{where}[{i}]", owner) for i, v in enumerate(value)]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire carries every number as a double
    return value


def _manifest(resource: Resource) -> Manifest:
    owner = f"{resource.type} {resource.name!r}"
    body = _plain(resource.properties, "", owner) if resource.properties else {}
    api_version, kind = body.get("apiVersion"), body.get("kind")
    meta = body.get("metadata")
    if not isinstance(api_version, str) or not isinstance(kind, str) or not isinstance(meta, dict):
        raise RenderError(f"{owner}: no apiVersion, kind and metadata in its inputs; it is not a Kubernetes object")
    if not isinstance(meta.get("name"), str) or not meta["name"]:
        raise RenderError(f"{owner}: metadata.name is not set; name every object explicitly (Pulumi autonames at deploy)")
    if not isinstance((meta.get("annotations") or {}).get(ANNOTATION_GIT_REVISION), str):
        raise RenderError(f"{owner}: no {ANNOTATION_GIT_REVISION} annotation; build its metadata with Provenance")
    if kind == "Secret" and api_version == "v1" and (body.get("data") or body.get("stringData")):
        raise RenderError(f"{owner}: a Secret with data would be committed to Git; deliver it through the secret manager")
    return Manifest(api_version, kind, meta["name"], meta.get("namespace"), body, is_flux_owned(resource.provider))


def skip_reason(resource: Resource) -> str | None:
    """Why a resource has no manifest to render, or None if it is a Kubernetes object."""
    if resource.remote:
        return "remote component: its objects exist only when `pulumi up` expands it; Pulumi applies it, Flux does not"
    if resource.type.startswith(_NOT_OBJECTS):
        return "Helm/YAML release applied by Pulumi; its objects are not known offline"
    # The objects of a YAML/Helm component (expanded offline) are applied by Pulumi with it, not by Flux.
    ancestors = resource.urn.split("::")[2].split("$")[:-1] if resource.urn.count("::") >= 3 else []
    if any(t.startswith(_INSTALLERS) for t in ancestors):
        return "object of a Helm/YAML component applied by Pulumi; Flux does not apply it"
    if not resource.type.startswith("kubernetes:"):
        return "not a Kubernetes object; managed by Pulumi only"
    return None


def collect(resources: list[Resource], project: str, stack: str) -> Rendered:
    """Every Kubernetes object of a run, in a stable order; duplicates are an error."""
    rendered = Rendered(project, stack)
    seen: dict[tuple[str, str, str | None, str], str] = {}
    for resource in resources:
        if not resource.custom and not resource.remote:
            continue  # components and the stack: containers, not objects
        if resource.type.startswith("pulumi:providers:"):
            continue
        reason = skip_reason(resource)
        if reason is not None:
            rendered.skipped.append(Skipped(resource.type, resource.name, reason))
            continue
        manifest = _manifest(resource)
        key = (manifest.group, manifest.kind, manifest.namespace, manifest.name)
        if key in seen:
            raise RenderError(
                f"{resource.type} {resource.name!r}: the same object ({manifest.kind} {manifest.namespace or ''}/"
                f"{manifest.name}) is also declared by {seen[key]!r}; Kubernetes would keep only one"
            )
        seen[key] = resource.name
        rendered.manifests.append(manifest)
    rendered.manifests.sort(key=lambda m: (m.namespace or "", m.group, m.kind, m.name))
    rendered.skipped.sort(key=lambda s: (s.type, s.name))
    return rendered
