"""Pod templates are found by shape in every kind (Argo Rollouts, Knative, OpenKruise, KEDA, ...), and every
pod rule judges them as it judges a Deployment."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from policy_pack.rules import RULES
from policy_pack.rules.helpers.podspec import find_pod_template

from .fixtures import PROVENANCE_LABELS, container, pod_spec, with_provenance
from .harness import analyze

TEMPLATE_LABELS = {"app.kubernetes.io/name": "web", **PROVENANCE_LABELS}


def _template(spec: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"labels": dict(TEMPLATE_LABELS)}, "spec": copy.deepcopy(spec)}


def rollout(spec: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "kubernetes:argoproj.io/v1alpha1:Rollout", {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": with_provenance({"name": "web"}),
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
                 "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}}, "template": _template(spec)}}


def knative_service(spec: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "kubernetes:serving.knative.dev/v1:Service", {
        "apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": with_provenance({"name": "web"}),
        "spec": {"template": _template(spec)}}


def clone_set(spec: dict[str, Any], **extra: Any) -> tuple[str, dict[str, Any]]:
    return "kubernetes:apps.kruise.io/v1alpha1:CloneSet", {
        "apiVersion": "apps.kruise.io/v1alpha1", "kind": "CloneSet", "metadata": with_provenance({"name": "web"}),
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
                 "template": _template(spec), **extra}}


def advanced_stateful_set(spec: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "kubernetes:apps.kruise.io/v1beta1:StatefulSet", {
        "apiVersion": "apps.kruise.io/v1beta1", "kind": "StatefulSet", "metadata": with_provenance({"name": "web"}),
        "spec": {"serviceName": "web", "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
                 "template": _template(spec)}}


def scaled_job(spec: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    spec = {**copy.deepcopy(spec), "restartPolicy": "Never"}
    return "kubernetes:keda.sh/v1alpha1:ScaledJob", {
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledJob", "metadata": with_provenance({"name": "web"}),
        "spec": {"jobTemplate": {"spec": {"template": _template(spec)}},
                 "triggers": [{"type": "nats-jetstream", "metadata": {"stream": "orders"}}]}}


def knative_revision(spec: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "kubernetes:serving.knative.dev/v1:Revision", {
        "apiVersion": "serving.knative.dev/v1", "kind": "Revision",
        "metadata": with_provenance({"name": "web-00001", "labels": dict(TEMPLATE_LABELS)}),
        "spec": copy.deepcopy(spec)}


SHAPES = {"Rollout": rollout, "Knative Service": knative_service, "CloneSet": clone_set,
          "Advanced StatefulSet": advanced_stateful_set, "ScaledJob": scaled_job, "Knative Revision": knative_revision}
PATHS = {"Rollout": "spec.template.spec", "Knative Service": "spec.template.spec", "CloneSet": "spec.template.spec",
         "Advanced StatefulSet": "spec.template.spec", "ScaledJob": "spec.jobTemplate.spec.template.spec",
         "Knative Revision": "spec"}
POD_RULES = {rule.name for rule in RULES if rule.kind == "resource"
             and rule.not_applicable_reason == "not a workload with a pod template"}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_compliant_workload_of_another_kind_passes_the_whole_pack(shape):
    outcome = analyze(*SHAPES[shape](pod_spec()))
    assert outcome.findings == []
    assert not POD_RULES & set(outcome.not_applicable), "pod rules must run on this kind"


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_pod_rule_judges_a_bad_pod_template_found_by_shape(shape):
    bad = container(image="nginx", securityContext={"privileged": True, "runAsUser": 0}, resources={},
                    env=[{"name": "DB_PASSWORD", "value": "hunter2hunter2"}])
    outcome = analyze(*SHAPES[shape](pod_spec(bad, hostNetwork=True,
                                              volumes=[{"name": "h", "hostPath": {"path": "/var/run"}}])))
    policies = outcome.policies()
    for expected in ("k8s-image-pinned", "k8s-resources-required", "k8s-pss-no-privilege", "k8s-pss-run-as-non-root",
                     "k8s-pss-host-isolation", "k8s-allowed-volume-kinds", "no-plaintext-secrets",
                     "k8s-read-only-root-filesystem"):
        assert expected in policies, (expected, sorted(policies))
    path = PATHS[shape]
    assert any(m.startswith(f'{path}.containers[0] (name "web")') for m in outcome.messages("k8s-pss-no-privilege"))


def test_a_job_shaped_template_runs_to_completion_and_needs_no_probes():
    outcome = analyze(*scaled_job(pod_spec(container(probes=False))))
    assert outcome.messages("k8s-probes-required") == []
    assert analyze(*rollout(pod_spec(container(probes=False)))).messages("k8s-probes-required")


def test_a_clone_set_with_claim_templates_keeps_state_like_a_stateful_set():
    claim = {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
                                                    "resources": {"requests": {"storage": "1Gi"}}}}
    messages = analyze(*clone_set(pod_spec(), volumeClaimTemplates=[claim])).messages("k8s-stateless-workloads")
    assert messages and "CloneSet claims persistent storage" in messages[0]


@pytest.mark.parametrize(("resource_type", "props"), [
    ("kubernetes:cert-manager.io/v1:Certificate", {"spec": {"secretName": "tls", "dnsNames": ["a.example"]}}),
    ("kubernetes:argoproj.io/v1alpha1:Rollout", {"spec": {"workloadRef": {"kind": "Deployment", "name": "web"}}}),
    ("kubernetes:example.com/v1:Widget", {"spec": {"template": {"spec": {"containers": ["not-a-container"]}}}}),
    ("kubernetes:example.com/v1:Widget", {"spec": {"template": {"spec": {"containers": [{"name": "no-image"}]}}}}),
])
def test_objects_without_a_pod_shaped_template_are_not_applicable_to_pod_rules(resource_type, props):
    assert find_pod_template(resource_type, props) is None
    outcome = analyze(resource_type, props)
    assert POD_RULES <= set(outcome.not_applicable)
    assert not POD_RULES & outcome.policies()
