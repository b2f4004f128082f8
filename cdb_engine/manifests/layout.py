"""Rendered objects as files: deterministic names, stable key order, and the kustomization.yaml.

Same code, same bytes: files are named `<namespace>/<kind>-<name>.yaml` (`_cluster/` for
cluster-scoped objects; `_` cannot start a namespace name), mappings are written in a fixed key order
and nothing about the machine or the time is written.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import yaml

from cdb_engine.manifests.objects import Manifest, Rendered

KUSTOMIZATION = "kustomization.yaml"
CLUSTER_DIR = "_cluster"
# The first line of every file render writes; `cdb render` only replaces a folder that carries it.
MARKER = "# Rendered by cdb render"
_TOP_ORDER = ("apiVersion", "kind", "metadata")
_META_ORDER = ("name", "namespace", "labels", "annotations")


def _header(rendered: Rendered) -> str:
    return (
        f"{MARKER} --stack {rendered.stack} from the {rendered.project} code. Do not edit: change the code\n"
        f"# and render again; `cdb render --stack {rendered.stack} --check` fails on any difference.\n"
    )


def _ordered(value: Any, first: tuple[str, ...] = ()) -> Any:
    if isinstance(value, dict):
        keys = [k for k in first if k in value] + sorted(k for k in value if k not in first)
        return {k: _ordered(value[k], _META_ORDER if (first is _TOP_ORDER and k == "metadata") else ()) for k in keys}
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


class _Dumper(yaml.SafeDumper):
    """Block style, no anchors, multi-line strings as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value and not any(line != line.rstrip() for line in value.splitlines()) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=4096)


def _base(m: Manifest) -> str:
    return f"{m.namespace or CLUSTER_DIR}/{m.kind.lower()}-{m.name}"


def file_names(manifests: list[Manifest]) -> list[str]:
    """One relative path per manifest; kinds that share a name across API groups carry the group."""
    counts = Counter(_base(m) for m in manifests)
    names = []
    for m in manifests:
        base = _base(m)
        if counts[base] > 1:
            base = f"{m.namespace or CLUSTER_DIR}/{m.kind.lower()}.{m.group or 'core'}-{m.name}"
        names.append(f"{base}.yaml")
    return names


DIGEST_PREFIX = "# Content digest: "


def content_digest(files: dict[str, str]) -> str:
    """sha256 over every rendered file but kustomization.yaml, revision values masked (see output.py).

    kustomization.yaml records it, so `--check` can tell a folder edited by hand (its files no longer
    match the digest it carries) from one that is as render left it while the code moved on."""
    from cdb_engine.manifests.output import mask_revision

    digest = hashlib.sha256()
    for path in sorted(files):
        if path != KUSTOMIZATION:
            digest.update(path.encode() + b"\0" + mask_revision(files[path]).encode() + b"\0")
    return "sha256:" + digest.hexdigest()


def recorded_digest(kustomization: str | None) -> str | None:
    for line in (kustomization or "").splitlines():
        if line.startswith(DIGEST_PREFIX):
            return line[len(DIGEST_PREFIX):].strip()
    return None


def _kustomization(rendered: Rendered, paths: list[str], digest: str) -> str:
    """Flux applies exactly `resources`: the Flux-owned files. The others are here to be checked
    (`cdb check deploy/`) and are applied by Pulumi only (cdb_stack.ownership)."""
    notes = f"{DIGEST_PREFIX}{digest}\n"
    if rendered.skipped:
        lines = [f"#   {s.type} {s.name}: {s.reason}" for s in rendered.skipped]
        notes += "# Not rendered here (no manifest offline):\n" + "\n".join(lines) + "\n"
    flux = [p for p, m in zip(paths, rendered.manifests) if m.flux_owned]
    pulumi_only = sorted(p for p, m in zip(paths, rendered.manifests) if not m.flux_owned)
    if pulumi_only:
        notes += ("# Applied by Pulumi, never by Flux (bootstrap: zones, Vault and its operator, Flux itself);\n"
                  "# rendered for checks only:\n" + "".join(f"#   {p}\n" for p in pulumi_only))
    body = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": sorted(flux)}
    return _header(rendered) + notes + to_yaml(body)


def render_files(rendered: Rendered) -> dict[str, str]:
    """Relative path -> file text for the whole output folder, kustomization.yaml included."""
    files: dict[str, str] = {}
    paths = file_names(rendered.manifests)
    for path, manifest in zip(paths, rendered.manifests):
        files[path] = _header(rendered) + to_yaml(_ordered(manifest.body, _TOP_ORDER))
    files[KUSTOMIZATION] = _kustomization(rendered, paths, content_digest(files))
    return dict(sorted(files.items()))
