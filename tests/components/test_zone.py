"""Zone under the mock engine: the wire-form inputs of every object it registers."""

import pytest

from components.errors import ComponentArgsError
from components.provenance import Provenance
from components.types import Resources
from components.zone import Zone, ZoneArgs
from tests.components.conftest import REVISION
from tests.components.harness import Recording, run_program

NS = "kubernetes:core/v1:Namespace"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMITS = "kubernetes:core/v1:LimitRange"


def build(provenance: Provenance, **overrides) -> Recording:
    return run_program(lambda: Zone("apps", ZoneArgs(provenance=provenance, **overrides)))


def test_zone_registers_its_children_under_the_component_with_role_names(provenance: Provenance) -> None:
    recording = build(provenance)
    component = recording.one("cdb:index:Zone", "apps")
    assert component.parent.endswith("pulumi:pulumi:Stack::cdb-infra-test")
    children = [r for r in recording.registrations if r.parent == component.urn]
    assert sorted((r.type, r.name) for r in children) == sorted(
        [(NS, "apps"), (NETPOL, "apps-default-deny"), (NETPOL, "apps-allow-dns"), (QUOTA, "apps-quota"), (LIMITS, "apps-limits")]
    )
    assert len(recording.registrations) == 1 + 1 + len(children)  # stack, component, children
    namespace_urn = recording.one(NS).urn
    assert all(namespace_urn in r.dependencies for r in children if r.type != NS)


def test_the_namespace_enforces_restricted_pod_security(provenance: Provenance) -> None:
    labels = build(provenance).one(NS).inputs["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "latest"


def test_every_zone_object_carries_provenance_labels_annotations_and_an_explicit_name(provenance: Provenance) -> None:
    recording = build(provenance)
    for obj in recording.kubernetes_objects():
        meta = obj.inputs["metadata"]
        expected = {
            "app.kubernetes.io/name": "apps",
            "app.kubernetes.io/instance": "apps",
            "app.kubernetes.io/component": "zone",
            "app.kubernetes.io/part-of": "cdb",
            "app.kubernetes.io/managed-by": "pulumi",
        }
        assert expected.items() <= meta["labels"].items(), obj.name
        assert meta["annotations"] == {"cdb-infra.io/git-revision": REVISION, "cdb-infra.io/source": "cdb-infra/test"}
        assert meta["name"]
        assert obj.type == NS or meta["namespace"] == "apps"
    assert recording.one(NS).inputs["metadata"]["name"] == "apps"
    assert "namespace" not in recording.one(NS).inputs["metadata"]


def test_traffic_is_denied_both_ways_except_dns_to_kube_system(provenance: Provenance) -> None:
    recording = build(provenance)
    deny = recording.one(NETPOL, "apps-default-deny").inputs
    assert deny["metadata"]["name"] == "default-deny"
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [], "egress": []}
    dns = recording.one(NETPOL, "apps-allow-dns").inputs["spec"]
    assert dns["podSelector"] == {} and dns["policyTypes"] == ["Egress"] and "ingress" not in dns
    assert dns["egress"] == [
        {
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        }
    ]


def test_quota_and_limit_range_use_the_defaults(provenance: Provenance) -> None:
    recording = build(provenance)
    hard = recording.one(QUOTA).inputs["spec"]["hard"]
    assert hard["persistentvolumeclaims"] == "0" and hard["services.loadbalancers"] == "0" and hard["limits.memory"] == "32Gi"
    assert recording.one(LIMITS).inputs["spec"] == {
        "limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "512Mi"}, "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}]
    }


def test_quota_limits_dns_and_namespace_can_be_overridden(provenance: Provenance) -> None:
    recording = build(
        provenance,
        namespace="platform-state",
        labels={"team": "platform"},
        quota={"persistentvolumeclaims": 6, "requests.storage": "500Gi"},
        default_resources=Resources(cpu_request="50m", memory_request="64Mi", cpu_limit="200m", memory_limit="256Mi"),
        dns_namespace="dns",
        dns_pod_labels={"app": "coredns"},
    )
    namespace = recording.one(NS).inputs["metadata"]
    assert namespace["name"] == "platform-state" and namespace["labels"]["team"] == "platform"
    hard = recording.one(QUOTA).inputs["spec"]["hard"]
    assert (hard["persistentvolumeclaims"], hard["requests.storage"], hard["pods"]) == ("6", "500Gi", "50")
    limits = recording.one(LIMITS).inputs["spec"]["limits"][0]
    assert limits["default"] == {"cpu": "200m", "memory": "256Mi"}
    peer = recording.one(NETPOL, "apps-allow-dns").inputs["spec"]["egress"][0]["to"][0]
    assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "dns"}
    assert peer["podSelector"]["matchLabels"] == {"app": "coredns"}
    assert all(r.inputs["metadata"].get("namespace", "platform-state") == "platform-state" for r in recording.kubernetes_objects())


def test_zone_inputs_are_visible_on_the_component_for_policies(provenance: Provenance) -> None:
    props = build(provenance, quota={"pods": 10}).one("cdb:index:Zone").inputs
    assert props["namespace"] == "apps"
    assert props["quota"] == {"pods": "10"}
    assert props["provenance"] == {"part_of": "cdb", "git_revision": REVISION, "source": "cdb-infra/test", "managed_by": "pulumi"}


def test_a_zone_cannot_relax_pod_security_through_extra_labels(provenance: Provenance) -> None:
    with pytest.raises(ComponentArgsError) as caught:
        ZoneArgs(provenance=provenance, labels={"pod-security.kubernetes.io/enforce": "privileged"})
    assert str(caught.value) == (
        "ZoneArgs: labels: label 'pod-security.kubernetes.io/enforce' is set by the zone itself; remove it from labels"
    )


def test_an_invalid_zone_name_is_refused_before_anything_is_registered(provenance: Provenance) -> None:
    recorded = []

    def program() -> None:
        try:
            Zone("Apps_Zone", ZoneArgs(provenance=provenance))
        except ComponentArgsError as exc:
            recorded.append(str(exc))

    recording = run_program(program)
    assert recorded == [
        "Zone 'Apps_Zone': namespace: 'Apps_Zone' is not a valid Kubernetes name; use at most 63 lower-case letters, "
        "digits and '-', starting and ending with a letter or digit"
    ]
    assert recording.of_type("cdb:index:Zone") == [] and recording.kubernetes_objects() == []


def test_zone_args_parsed_from_a_dict_are_validated_with_the_component_name(provenance: Provenance) -> None:
    with pytest.raises(ComponentArgsError) as caught:
        ZoneArgs.parse({"provenance": provenance, "quota": {"pods": "many"}}, owner="Zone 'apps'")
    assert str(caught.value) == (
        "Zone 'apps': quota.pods: 'many' is not a Kubernetes quantity; write e.g. '250m', '0.5', '1' or '256Mi'"
    )


def test_a_vault_zone_is_marked_on_its_namespace_and_an_ordinary_zone_is_not(provenance: Provenance) -> None:
    assert build(provenance, zone_class="vault").one(NS).inputs["metadata"]["labels"]["cdb-infra.io/zone-class"] == "vault"
    assert "cdb-infra.io/zone-class" not in build(provenance).one(NS).inputs["metadata"]["labels"]
    with pytest.raises(ComponentArgsError, match="zone_class"):
        ZoneArgs(provenance=provenance, zone_class="bank")
