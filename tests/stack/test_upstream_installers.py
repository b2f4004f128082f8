"""Nothing the stack installs is invisible offline: the Flux Operator, the NACK CRDs, the Vault Secrets
Operator and Strimzi are typed resources built from vendored upstream manifests, patched where the
policy demands it; VSO's pods pass Pod Security `restricted`; the Flux Operator can start behind the
zone's default deny because its own egress is installed before it."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest

from components import vendored, vso_chart
from components.upstream import resource_name
from tests.stack.platform_stack import DEPLOYMENT, NETPOL, of_type, run_stack

CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
INSTALLERS = ("kubernetes:helm.sh/", "kubernetes:yaml/", "kubernetes:kustomize/")


def _named(resources, type_: str, namespace: str | None, name: str):
    found = [r for r in resources if r.type == type_ and r.properties["metadata"]["name"] == name
             and r.properties["metadata"].get("namespace") == namespace]
    assert len(found) == 1, f"{type_} {namespace}/{name}: {len(found)} found"
    return found[0]


def restricted_problems(pod: dict[str, Any]) -> list[str]:
    """Pod Security Standards `restricted` (Kubernetes 1.33), the checks a Deployment's pod can fail."""
    problems, pod_sc = [], pod.get("securityContext") or {}
    for c in [*pod.get("initContainers", []), *pod["containers"]]:
        sc = c.get("securityContext") or {}
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{c['name']}: allowPrivilegeEscalation != false")
        if sc.get("privileged"):
            problems.append(f"{c['name']}: privileged")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            problems.append(f"{c['name']}: capabilities.drop lacks ALL")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            problems.append(f"{c['name']}: adds capabilities")
        if not sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")):
            problems.append(f"{c['name']}: runAsNonRoot not true")
        if sc.get("runAsUser", pod_sc.get("runAsUser")) == 0:
            problems.append(f"{c['name']}: runs as uid 0")
        seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{c['name']}: seccompProfile {seccomp}")
    for v in pod.get("volumes", []):
        if "hostPath" in v:
            problems.append(f"volume {v['name']}: hostPath")
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key):
            problems.append(key)
    return problems


# --- no remote components, every upstream object typed ----------------------------------------------

@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_stack_registers_no_remote_component_and_no_installer(stack):
    resources = run_stack(stack)
    assert [r.name for r in resources if r.remote] == []
    assert [r.type for r in resources if r.type.startswith(INSTALLERS)] == []


def test_kafka_on_registers_strimzi_as_typed_objects_without_a_helm_release():
    resources = run_stack("dev", kafka={"enabled": True})
    assert [r.type for r in resources if r.type.startswith(INSTALLERS) or r.remote] == []
    operator = _named(resources, DEPLOYMENT, "kafka", "strimzi-cluster-operator")
    spec = operator.properties["spec"]["template"]["spec"]
    assert spec["containers"][0]["image"] == "quay.io/strimzi/operator:1.2.0"
    assert restricted_problems(spec) == []
    crds = {r.properties["metadata"]["name"] for r in of_type(resources, CRD)}
    assert {"kafkas.kafka.strimzi.io", "kafkanodepools.kafka.strimzi.io", "kafkatopics.kafka.strimzi.io"} <= crds
    # Upstream binds its ServiceAccount in namespace `myproject`; the subjects follow the install.
    bindings = [r for r in resources if r.type.endswith(("v1:RoleBinding", "v1:ClusterRoleBinding"))
                and r.properties["metadata"]["name"].startswith("strimzi-")]
    assert len(bindings) == 7
    assert {s["namespace"] for b in bindings for s in b.properties["subjects"]} == {"kafka"}
    kafka = [r for r in resources if r.type == "kubernetes:kafka.strimzi.io/v1:Kafka"][0]
    assert operator.urn in kafka.dependencies


@pytest.mark.parametrize(("project", "namespace"), [("flux-operator", "flux-system"), ("nack", None),
                                                    ("vault-secrets-operator", None)])
def test_every_vendored_crd_is_a_typed_resource_with_our_provenance(project, namespace):
    resources = run_stack("prod")
    files = vendored.files(project)
    names = {d["metadata"]["name"] for f in files for d in f.data() if d.get("kind") == "CustomResourceDefinition"}
    assert names
    for name in names:
        crd = _named(resources, CRD, None, name)
        meta = crd.properties["metadata"]
        assert meta["labels"]["app.kubernetes.io/managed-by"] == "pulumi"
        assert meta["annotations"]["cdb-infra.io/git-revision"]
        assert crd.parent and crd.name.endswith(f"-customresourcedefinition-{name}")


def test_the_flux_operator_is_upstreams_install_yaml_in_our_zone_with_the_pod_hardened():
    resources = run_stack("prod")
    operator = _named(resources, DEPLOYMENT, "flux-system", "flux-operator")
    pod = operator.properties["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "ghcr.io/controlplaneio-fluxcd/flux-operator:v0.58.1"
    assert restricted_problems(pod) == []
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert all(v["emptyDir"]["sizeLimit"] for v in pod["volumes"] if "emptyDir" in v)
    # The zone is ours (quota, default deny); upstream's Namespace object is not applied.
    assert [r for r in resources if r.type == "kubernetes:core/v1:Namespace"
            and r.properties["metadata"]["name"] == "flux-system" and "operator" in r.name] == []
    instance = [r for r in resources if r.type == "kubernetes:fluxcd.controlplane.io/v1:FluxInstance"][0]
    assert operator.urn in instance.dependencies


# --- finding 1: VSO admitted by Pod Security restricted -----------------------------------------------

def test_the_unpatched_vso_chart_pods_would_be_refused_by_pod_security_restricted():
    chart = vso_chart.documents("vault-secrets-operator", "vault-secrets-operator", 2, {})
    pod = next(d for d in chart if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    assert "manager: capabilities.drop lacks ALL" in restricted_problems(pod)
    assert "manager: seccompProfile None" in restricted_problems(pod)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_vso_pods_pass_pod_security_restricted_in_their_restricted_namespace(stack):
    resources = run_stack(stack)
    operator = _named(resources, DEPLOYMENT, "vault-secrets-operator", "vault-secrets-operator-controller-manager")
    pod = operator.properties["spec"]["template"]
    assert restricted_problems(pod["spec"]) == []
    ns = _named(resources, "kubernetes:core/v1:Namespace", None, "vault-secrets-operator")
    assert ns.properties["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    images = {c["name"]: c["image"] for c in pod["spec"]["containers"]}
    assert images == {"kube-rbac-proxy": "quay.io/brancz/kube-rbac-proxy:v0.18.1",
                      "manager": "hashicorp/vault-secrets-operator:1.4.1"}
    # The vault zone and the operator's own egress policy select the pods by the chart's labels.
    labels = pod["metadata"]["labels"]
    netpol = _named(resources, NETPOL, "vault-secrets-operator", "vault-secrets-operator")
    assert netpol.properties["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    assert netpol.urn in operator.dependencies


# --- finding 3: the Flux bootstrap needs nothing the operator installs ---------------------------------

def _selects(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    selector = policy["spec"]["podSelector"]
    return (selector.get("matchLabels") or {}).items() <= labels.items() and not selector.get("matchExpressions")


def _egress_admits(policy: dict[str, Any], address: str, port: int, protocol: str = "TCP") -> bool:
    for rule in policy["spec"].get("egress") or []:
        ports = rule.get("ports")
        if ports and not any(p.get("port") == port and p.get("protocol", "TCP") == protocol for p in ports):
            continue
        for peer in rule.get("to") or [{}]:
            block = peer.get("ipBlock")
            if not peer or (block and ipaddress.ip_address(address) in ipaddress.ip_network(block["cidr"])
                            and not any(ipaddress.ip_address(address) in ipaddress.ip_network(e)
                                        for e in block.get("except", []))):
                return True
    return False


def _egress_to_dns(policy: dict[str, Any]) -> bool:
    return any(any(p.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") == "kube-system"
                   for p in rule.get("to", [])) and {"port": 53, "protocol": "UDP"} in rule.get("ports", [])
               for rule in policy["spec"].get("egress") or [])


def _ancestors(resources, urn: str) -> set[str]:
    by_urn = {r.urn: r for r in resources}
    seen, todo = set(), [urn]
    while todo:
        for dep in by_urn[todo.pop()].dependencies:
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_flux_operator_reaches_the_api_server_registry_and_dns_through_policies_installed_before_it(stack):
    resources = run_stack(stack, apiServer={"endpoints": ["172.18.0.2"], "port": 6443})
    operator = _named(resources, DEPLOYMENT, "flux-system", "flux-operator")
    pod_labels = operator.properties["spec"]["template"]["metadata"]["labels"]
    before = _ancestors(resources, operator.urn)
    zone_policies = [r for r in of_type(resources, NETPOL) if r.properties["metadata"]["namespace"] == "flux-system"]
    deny = [r for r in zone_policies if r.properties["metadata"]["name"] == "default-deny"]
    assert deny and _selects(deny[0].properties, pod_labels)  # the deadlock's premise holds
    egress = [r for r in zone_policies if _selects(r.properties, pod_labels) and "Egress" in r.properties["spec"]["policyTypes"]]
    usable = [r.properties for r in egress if r.urn in before]
    assert any(_egress_admits(p, "172.18.0.2", 6443) for p in usable), "no egress to the API server endpoint"
    assert not any(_egress_admits(p, "10.96.0.1", 443) for p in usable), "the Service ClusterIP is not the endpoint"
    assert any(_egress_admits(p, "140.82.121.34", 443) for p in usable), "no egress to the OCI registry on 443"
    assert not any(_egress_admits(p, "10.0.0.7", 443) for p in usable), "private ranges are not the public registry"
    assert any(_egress_to_dns(p) for p in usable), "no DNS"


def test_a_registry_mirror_inside_the_network_is_reachable_when_settings_name_it():
    resources = run_stack("prod", gitops={"registryNetworks": ["10.40.0.0/16"]})
    policy = _named(resources, NETPOL, "flux-system", "flux-operator-bootstrap").properties
    assert _egress_admits(policy, "10.40.3.3", 443) and not _egress_admits(policy, "140.82.121.34", 443)


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"secrets": {"operator": {"chartVersion": "1.5.0"}}},
     "chart_version '1.5.0' is not vendored (components/vendor/vault-secrets-operator holds 1.4.1); run scripts/vendor-upstream.py "
     "refresh vault-secrets-operator --ref v1.5.0 --version 1.5.0"),
    ({"kafka": {"enabled": True, "operatorVersion": "1.3.0"}},
     "operator_version '1.3.0' is not vendored (components/vendor/strimzi holds 1.2.0); run scripts/vendor-upstream.py refresh strimzi"),
])
def test_a_version_that_is_not_vendored_stops_the_program_naming_the_refresh(overrides, expected):
    from cdb_core.errors import CdbError

    with pytest.raises(CdbError, match=re.escape(expected)) as caught:
        run_stack("dev", **overrides)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("stack", "project", "prefix", "dropped"), [
    ("prod", "flux-operator", "flux-operator", {"flux-operator-namespace-flux-system"}),  # the zone is ours
    ("prod", "nack", "nats-nack-crds", set()),
    ("dev", "strimzi", "events-strimzi", set()),
])
def test_every_upstream_object_is_registered_except_the_ones_the_stack_owns(stack, project, prefix, dropped):
    resources = run_stack(stack, kafka={"enabled": project == "strimzi"})
    names = {r.name for r in resources if r.custom}
    expected = {resource_name(prefix, d) for f in vendored.files(project) for d in f.documents()}
    assert expected - names == dropped
