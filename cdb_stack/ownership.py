"""Who applies which object: Pulumi or Flux, never both.

Pulumi bootstraps what must exist before Flux can sync, or what only Pulumi can configure: the zones
(namespaces, quotas, default-deny), Vault with its operator and the secret deliveries (their Vault
roles and policies are pulumi-vault resources), and Flux itself (operator, FluxInstance, GitRepository,
Kustomization, audit Provider and Alert). Flux owns everything else: the services, the event bus,
Redis, Kafka, the object store and observability.

Both sides still see every object: the program registers the Flux-owned ones too, so `pulumi preview`
and the policy pack judge them, but through a Kubernetes provider in render mode
(`renderYamlToDirectory`), which writes YAML and never calls the API server. `cdb render` writes every
object to `deploy/<stack>` (so `cdb check deploy/` judges the whole stack), and lists only the
Flux-owned files in `kustomization.yaml`, the one list Flux's kustomize-controller applies. An object is
therefore applied by exactly one field manager: `pulumi-kubernetes-*` or `kustomize-controller`, and
`cdb postcheck` reports any object that carries both.
"""

from __future__ import annotations

from typing import Any

FLUX_PROVIDER = "flux-owned"
# Where the render-mode provider writes what Pulumi hands to Flux during `pulumi up` (scratch, ignored by Git).
FLUX_RENDER_DIR = ".cdb-flux-owned"


def flux_provider(stack: str) -> Any:
    """The render-mode Kubernetes provider of the Flux-owned objects (one per program run)."""
    import pulumi_kubernetes as k8s

    return k8s.Provider(FLUX_PROVIDER, render_yaml_to_directory=f"{FLUX_RENDER_DIR}/{stack}")


def retain_on_handover(args: Any) -> Any:
    """Resource transformation for every object under a Flux-owned component: `retainOnDelete`.

    Pulumi never deletes what Flux owns (Flux prunes it). It also makes the handover of a stack that
    Pulumi applied before this split safe: moving an object to the render-mode provider replaces it in
    Pulumi's state, and the retained delete leaves the live object to Flux instead of removing it.
    """
    import pulumi

    if not isinstance(args.resource, pulumi.CustomResource):
        return None
    return pulumi.ResourceTransformationResult(
        args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(retain_on_delete=True)))


def is_flux_owned(provider_reference: str) -> bool:
    """A registration's provider reference (`<urn>::<id>`) names the render-mode provider."""
    urn = provider_reference.rsplit("::", 1)[0] if provider_reference else ""
    return urn.endswith(f"::pulumi:providers:kubernetes::{FLUX_PROVIDER}")
