"""The Vault Secrets Operator chart's Helm hooks are replaced, not rendered (components/vso_chart.py says
why): the pre-delete `--uninstall` cleanup by the deletion order of the operator's custom resources, the
pre-upgrade CRD Job by typed CRDs that `pulumi up` updates before the operator."""

from __future__ import annotations

import pytest

from components import vso_chart
from tests.stack.platform_stack import run_stack

VSO_KINDS = ("VaultConnection", "VaultAuth", "VaultStaticSecret")
CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"


def waits_for(resources, start) -> set[str]:
    """Every URN `start` waits for through dependencies alone (no parent edges): what Pulumi deletes after it."""
    by_urn = {r.urn: r for r in resources}
    seen: set[str] = set()
    todo = [start]
    while todo:
        current = todo.pop()
        for urn in [*current.dependencies, *(u for deps in current.property_dependencies.values() for u in deps)]:
            if urn in by_urn and urn not in seen:
                seen.add(urn)
                todo.append(by_urn[urn])
    return seen


def operator_deployment(resources):
    [found] = [r for r in resources if r.type == "kubernetes:apps/v1:Deployment"
               and r.properties["metadata"]["name"] == "vault-secrets-operator-controller-manager"]
    return found


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_vso_custom_resource_waits_for_the_operator_so_destroy_removes_it_while_the_operator_runs(stack):
    resources = run_stack(stack)
    deployment = operator_deployment(resources)
    custom = [r for r in resources if r.type.split(":")[-1] in VSO_KINDS and "secrets.hashicorp.com" in r.type]
    assert {r.type.split(":")[-1] for r in custom} == set(VSO_KINDS)
    late = [r.name for r in custom if deployment.urn not in waits_for(resources, r)]
    assert late == [], f"deleted after the operator, their finalizers would stay: {late}"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_helm_hook_is_applied_and_the_chart_crds_are_typed_resources_the_operator_waits_for(stack):
    resources = run_stack(stack)
    hooks = [r.name for r in resources if "helm.sh/hook" in ((r.properties.get("metadata") or {}).get("annotations") or {})]
    assert hooks == []
    in_zone = [r for r in resources if (r.properties.get("metadata") or {}).get("namespace") == "vault-secrets-operator"]
    assert not [r.name for r in in_zone if r.type == "kubernetes:batch/v1:Job"]
    # No cluster-wide CRD writer (the upgrade hook's ClusterRole) is installed.
    roles = [r for r in resources if r.type == "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
             and r.properties["metadata"]["name"].startswith("vault-secrets-operator")]
    assert roles and not any("customresourcedefinitions" in rule.get("resources", [])
                             for r in roles for rule in r.properties.get("rules") or [])
    chart_crds = {doc["metadata"]["name"] for doc in vso_chart.crd_documents()}
    typed = {r.urn: r.properties["metadata"]["name"] for r in resources if r.type == CRD}
    assert chart_crds <= set(typed.values())
    before = {typed[u] for u in waits_for(resources, operator_deployment(resources)) if u in typed}
    assert chart_crds <= before
