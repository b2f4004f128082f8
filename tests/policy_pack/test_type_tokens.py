"""The pack judges objects only: a provider component's type token is not a Kubernetes object."""

from __future__ import annotations

import pytest

from policy_pack.rules.helpers.objects import kind_of
from policy_pack.rules.helpers.podspec import parse_kubernetes_type

COMPONENTS = ("kubernetes:yaml:ConfigFile", "kubernetes:yaml:ConfigGroup", "kubernetes:yaml/v2:ConfigFile",
              "kubernetes:yaml/v2:ConfigGroup", "kubernetes:helm.sh/v2:Chart", "kubernetes:helm.sh/v3:Chart",
              "kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart", "kubernetes:kustomize:Directory",
              "kubernetes:kustomize/v2:Directory")


@pytest.mark.parametrize("token", COMPONENTS)
def test_a_provider_component_is_not_an_object_of_the_core_group(token):
    assert parse_kubernetes_type(token) is None
    assert kind_of(token) is None


@pytest.mark.parametrize(("token", "parsed"), [
    ("kubernetes:core/v1:ConfigMap", ("core", "ConfigMap")),
    ("kubernetes:apps/v1:Deployment", ("apps", "Deployment")),
    ("kubernetes:batch/v1beta1:CronJob", ("batch", "CronJob")),
    ("kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization", ("kustomize.toolkit.fluxcd.io", "Kustomization")),
])
def test_objects_keep_their_group_and_kind(token, parsed):
    assert kind_of(token) == parsed


def test_the_provenance_rule_does_not_judge_a_config_file_component():
    from policy_pack.rules.provenance import PROVENANCE

    assert not PROVENANCE.applies_to("kubernetes:yaml:ConfigFile")
    assert PROVENANCE.applies_to("kubernetes:core/v1:ConfigMap")
