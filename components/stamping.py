"""Provenance for objects the components do not write themselves: the children of pinned upstream
charts and YAML files (the Flux Operator chart, the NACK CRDs).

The Pulumi engine runs resource transforms on the children of remote components, so under the real CLI
every object such an installer creates carries the same ownership labels and revision annotations as our
own, and the policy pack judges it like any other object. (The mock runtime runs no transforms and does
not expand remote components; the offline preview lists them as not expanded instead.)
"""

from __future__ import annotations

from typing import Any

import pulumi

from components.provenance import Provenance

# Installers themselves are Pulumi-side objects, not cluster objects: only their children are stamped.
_INSTALLERS = ("kubernetes:helm.sh/", "kubernetes:yaml/", "kubernetes:kustomize/")


def stamp(props: dict[str, Any], labels: dict[str, str], annotations: dict[str, str]) -> dict[str, Any]:
    """A copy of an object's inputs with our labels and annotations added; the upstream ones are kept,
    ours win on a clash (they are the provenance the policy demands)."""
    metadata = dict(props.get("metadata") or {})
    metadata["labels"] = {**(metadata.get("labels") or {}), **labels}
    metadata["annotations"] = {**(metadata.get("annotations") or {}), **annotations}
    return {**props, "metadata": metadata}


def provenance_transform(provenance: Provenance, name: str, component: str) -> pulumi.ResourceTransform:
    """A resource transform that stamps every Kubernetes child of an installer with provenance."""
    labels = provenance.labels(name=name, instance=name, component=component)
    annotations = provenance.annotations()

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if not args.custom or not args.type_.startswith("kubernetes:") or args.type_.startswith(_INSTALLERS):
            return None
        if not isinstance(args.props, dict):
            return None
        return pulumi.ResourceTransformResult(stamp(args.props, labels, annotations), args.opts)

    return transform
