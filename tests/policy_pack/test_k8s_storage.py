"""Clause 5 stateless workloads, volume kinds and node pinning, through the engine's Analyze path."""

from __future__ import annotations

import copy

import pytest

from .fixtures import (
    PLATFORM_STATE_METADATA, POD_SPEC_PATHS, TYPES, UNKNOWN_STRING, deployment, pod_spec, volume_claim_template,
    workload,
)
from .harness import analyze, violations

STATELESS = "k8s-stateless-workloads"
VOLUMES = "k8s-allowed-volume-kinds"
PINNING = "k8s-no-node-pinning"
PVC = {"name": "data", "persistentVolumeClaim": {"claimName": "web-data"}}
HOWTO = ('declare the workload as platform state: metadata.labels["cdb-infra.io/workload-class"]="platform-state" '
         'and metadata.annotations["cdb-infra.io/platform-state"]=one of object-store, event-bus, secret-store, '
         "metrics-store, log-store, trace-store")


def with_volumes(kind: str, *volumes, metadata=None, **owner_spec):
    return workload(kind, pod_spec(volumes=list(volumes)), metadata, **owner_spec)


@pytest.mark.parametrize("kind", list(TYPES))
def test_pvc_volume_in_an_undeclared_workload_is_rejected_with_how_to_declare(kind):
    messages = violations(*with_volumes(kind, PVC), STATELESS)
    assert messages == [
        f'{POD_SPEC_PATHS[kind]}.volumes[0] (name "data"): mounts PersistentVolumeClaim "web-data" but the workload '
        'is not declared platform state (label "cdb-infra.io/workload-class" is absent, not "platform-state"; '
        'annotation "cdb-infra.io/platform-state" is absent, not one of object-store, event-bus, secret-store, '
        "metrics-store, log-store, trace-store); keep state in the platform's stores (emptyDir for scratch), "
        f"or {HOWTO}"]


@pytest.mark.parametrize("kind", list(TYPES))
def test_pvc_volume_in_declared_platform_state_is_accepted(kind):
    assert violations(*with_volumes(kind, PVC, metadata=PLATFORM_STATE_METADATA), STATELESS) == []


def test_statefulset_claim_templates_without_declaration_are_rejected():
    resource = workload("StatefulSet", volumeClaimTemplates=[volume_claim_template("data"),
                                                             volume_claim_template("wal")])
    messages = violations(*resource, STATELESS)
    assert [m.split(":")[0] for m in messages] == ['spec.volumeClaimTemplates[0] (name "data")',
                                                   'spec.volumeClaimTemplates[1] (name "wal")']
    assert HOWTO in messages[0]


def test_statefulset_claim_templates_of_declared_platform_state_are_accepted():
    resource = workload("StatefulSet", metadata=PLATFORM_STATE_METADATA,
                        volumeClaimTemplates=[volume_claim_template()])
    assert violations(*resource, STATELESS) == []


@pytest.mark.parametrize(("labels", "annotations", "gap"), [
    ({"cdb-infra.io/workload-class": "platform-state"}, {}, 'annotation "cdb-infra.io/platform-state" is absent'),
    ({"cdb-infra.io/workload-class": "service"}, {"cdb-infra.io/platform-state": "object-store"},
     'label "cdb-infra.io/workload-class" is "service", not "platform-state"'),
    ({"cdb-infra.io/workload-class": "platform-state"}, {"cdb-infra.io/platform-state": "database"},
     'annotation "cdb-infra.io/platform-state" is "database", not one of'),
])
def test_half_declared_platform_state_is_rejected_naming_the_gap(labels, annotations, gap):
    metadata = {"name": "store", "labels": labels, "annotations": annotations}
    resource = workload("StatefulSet", metadata=metadata, volumeClaimTemplates=[volume_claim_template()])
    messages = violations(*resource, STATELESS)
    assert len(messages) == 1 and gap in messages[0]


def test_declaration_on_the_pod_template_instead_of_the_workload_does_not_count():
    kind, props = with_volumes("Deployment", PVC)
    props["spec"]["template"]["metadata"] = copy.deepcopy(PLATFORM_STATE_METADATA)
    assert len(violations(kind, props, STATELESS)) == 1


def test_unknown_workload_class_label_only_matters_when_storage_is_claimed():
    metadata = {"name": "web", "labels": {"cdb-infra.io/workload-class": UNKNOWN_STRING}}
    stateless = analyze(*with_volumes("Deployment", {"name": "tmp", "emptyDir": {}}, metadata=metadata))
    assert [f for f in stateless.findings if f.policy == STATELESS] == []
    claiming = analyze(*with_volumes("Deployment", PVC, metadata=metadata))
    assert [f.enforcement for f in claiming.findings if f.policy == STATELESS] == ["advisory"]


def test_generic_ephemeral_scratch_volume_is_not_persistent_state():
    scratch = {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"],
               "resources": {"requests": {"storage": "1Gi"}}}}}}
    resource = with_volumes("Deployment", scratch)
    assert violations(*resource, STATELESS) == []
    assert violations(*resource, VOLUMES) == []


def test_config_secret_projected_downward_and_scratch_volumes_are_accepted():
    volumes = [
        {"name": "a", "configMap": {"name": "a"}}, {"name": "b", "secret": {"secretName": "b"}},
        {"name": "c", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
        {"name": "d", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
        {"name": "e", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
        {"name": "f", "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": True}},
        {"name": "g"},  # no source: the API server defaults it to emptyDir
    ]
    assert violations(*with_volumes("Deployment", *volumes), VOLUMES) == []


@pytest.mark.parametrize(("volume", "kind"), [
    ({"name": "h", "hostPath": {"path": "/var/lib/data"}}, "hostPath"),
    ({"name": "h", "local": {"path": "/mnt/disk"}}, "local"),
    ({"name": "h", "nfs": {"server": "nfs", "path": "/"}}, "nfs"),
    ({"name": "h", "gitRepo": {"repository": "https://example.org/r.git"}}, "gitRepo"),
    ({"name": "h", "image": {"reference": "reg/data:1"}}, "image"),
])
def test_other_volume_kinds_are_rejected_naming_the_volume(volume, kind):
    messages = violations(*with_volumes("CronJob", volume), VOLUMES)
    assert messages == [f'spec.jobTemplate.spec.template.spec.volumes[0] (name "h"): volume kind {kind} is not '
                        "allowed; mount config through configMap/secret/projected/downwardAPI and scratch space "
                        "through emptyDir or ephemeral"]


@pytest.mark.parametrize(("csi", "found"), [({"driver": "ebs.csi.aws.com"}, '"ebs.csi.aws.com"'), ({}, "no driver")])
def test_csi_volume_with_another_driver_is_rejected(csi, found):
    messages = violations(*with_volumes("Deployment", {"name": "x", "csi": csi}), VOLUMES)
    assert messages == [f'spec.template.spec.volumes[0] (name "x"): csi volume uses {found}; only the '
                        "secrets-store.csi.k8s.io driver (secrets from the secret manager) is allowed"]


def test_null_volume_list_and_null_volume_entries_do_not_crash():
    kind, props = deployment(volumes=None)
    assert analyze(kind, props).findings == []
    kind, props = deployment(volumes=[None, {"name": "c", "configMap": {"name": "c"}}])
    assert analyze(kind, props).findings == []


def test_node_name_is_rejected():
    messages = violations(*deployment(nodeName="worker-3"), PINNING)
    assert messages == ['spec.template.spec.nodeName pins the pod to node "worker-3"; remove it and schedule by '
                        "labels that many nodes share, keeping state off the node's disk"]


def test_hostname_node_selector_on_a_bare_pod_is_rejected():
    messages = violations(*workload("Pod", pod_spec(nodeSelector={"kubernetes.io/hostname": "worker-3"})), PINNING)
    assert messages[0].startswith('spec.nodeSelector["kubernetes.io/hostname"] pins the pod to one node')


def test_required_hostname_affinity_is_rejected_and_preferred_is_accepted():
    term = {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["worker-3"]}]}
    required = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}
    messages = violations(*deployment(affinity=required), PINNING)
    assert messages == ["spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
                        "nodeSelectorTerms[0].matchExpressions[0]: required node affinity on kubernetes.io/hostname "
                        "pins the pod to named nodes; remove it and schedule by labels that many nodes share, "
                        "keeping state off the node's disk"]
    preferred = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 10, "preference": term}]}}
    assert violations(*deployment(affinity=preferred), PINNING) == []


def test_required_affinity_on_node_name_field_is_rejected():
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["worker-3"]}]}
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}
    messages = violations(*workload("DaemonSet", pod_spec(affinity=affinity)), PINNING)
    assert "matchFields[0]: required node affinity on metadata.name" in messages[0]


def test_zone_affinity_and_zone_selector_are_accepted():
    term = {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["a", "b"]}]}
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}
    assert violations(*deployment(affinity=affinity, nodeSelector={"kubernetes.io/os": "linux"}), PINNING) == []


def test_unknown_node_name_during_preview_is_advisory():
    outcome = analyze(*deployment(nodeName=UNKNOWN_STRING))
    findings = [f for f in outcome.findings if f.policy == PINNING]
    assert [f.enforcement for f in findings] == ["advisory"]
