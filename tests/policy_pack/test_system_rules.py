"""The whole-system rules beyond their passing and failing cases: flow declarations, the Pod Security
Standards per level, quota arithmetic (surge, init containers, sidecars, LimitRange defaults, scopes),
Flux size profiles, references and cycles of waits."""

from __future__ import annotations

import json

import pytest

from policy_pack.rules.helpers.operators import flux_controller_props
from policy_pack.rules.helpers.objects import KubeObject
from policy_pack.rules.helpers.podspec import find_pod_template
from policy_pack.rules.helpers.pss import failures
from policy_pack.rules.references import Graph

from .fixtures import container, init_container, pod_spec, sidecar, workload
from .harness import analyze_stack, stack_violations
from .objects import nodes, obj
from .system_cases import flux_instance, flux_system, namespace, quota, system, web

FLOWS, QUOTA, ADMISSION, REFERENCES = ("system-flows-admitted", "system-quota-fits", "system-pod-security-admission",
                                       "system-references-resolve")


# --- flow declarations -------------------------------------------------------------------------------
MALFORMED = [
    ({"port": 80}, "names 0 targets; set exactly one of service, pods, apiServer, cidr"),
    ({"service": "bus/nats", "cidr": "10.0.0.0/8", "port": 80}, "names 2 targets"),
    ({"service": "bus/nats"}, "port None is not a port number 1-65535 or a port name"),
    ({"service": "bus/nats", "port": 70000}, "port 70000 is not a port number"),
    ({"service": "bus/nats", "port": 4222, "protocol": "HTTP"}, "protocol 'HTTP' is not one of TCP, UDP, SCTP"),
    ({"pods": {"namespace": "bus"}, "port": 4222}, "pods.matchLabels must name the destination pods' labels"),
    ({"cidr": "10.0.0.300/8", "port": 443}, "cidr '10.0.0.300/8' is not a network"),
    ({"cidr": "10.0.0.0/8", "port": "https"}, "a cidr flow needs a port number, not a name"),
    ({"apiServer": "yes"}, "apiServer must be true"),
    ("bus/nats", "is not an object"),
]


@pytest.mark.parametrize(("flow", "expect"), MALFORMED, ids=[m[1][:40] for m in MALFORMED])
def test_a_malformed_flow_is_a_violation_naming_the_element_and_the_fix(flow, expect):
    messages = stack_violations(system(web_=web(flows=[flow])), FLOWS)
    assert any(f"Deployment apps/web: cdb-infra.io/flows[0]" in m and expect in m for m in messages), messages


def test_a_flow_annotation_that_is_not_a_list_is_refused():
    messages = stack_violations(system(web_=web(flows={"service": "bus/nats", "port": 4222})), FLOWS)
    assert messages == ["Deployment apps/web: cdb-infra.io/flows must be a JSON list of flows"]


def test_a_pods_flow_resolves_a_named_port_on_the_destination_container():
    ok = [{"pods": {"namespace": "bus", "matchLabels": {"app.kubernetes.io/name": "nats"}}, "port": "client"}]
    assert stack_violations(system(web_=web(flows=ok)), FLOWS) == []
    unnamed = [{"pods": {"namespace": "bus", "matchLabels": {"app.kubernetes.io/name": "nats"}}, "port": "monitor"}]
    assert stack_violations(system(web_=web(flows=unnamed)), FLOWS) == [
        'Deployment apps/web: flow[0] to pods app.kubernetes.io/name=nats in bus port monitor/TCP: Deployment bus/nats '
        "has no container port named 'monitor'; name the port on the destination container"]


def not_checked(nodes_, policy: str) -> list[tuple[str, str]]:
    """(urn, reason) of what a stack policy lists as not checked (advisory "can't run" diagnostics)."""
    return [(f.urn, f.message) for f in analyze_stack(nodes_).findings
            if f.policy == policy and f.enforcement == "advisory" and "can't run policy" in f.message]


def test_a_flow_to_pods_nobody_runs_is_not_checked_with_the_reason_never_a_violation():
    flows = [{"pods": {"namespace": "bus", "matchLabels": {"app.kubernetes.io/name": "nobody"}}, "port": 4222}]
    stack = system(web_=web(flows=flows))
    assert stack_violations(stack, FLOWS) == []
    [(urn, reason)] = not_checked(stack, FLOWS)
    assert urn.endswith("::Deployment-apps-web") and "Deployment apps/web: flow[0] to pods app.kubernetes.io/name=nobody" in reason
    assert "is not in the program" in reason and "add the workload or fix the flow" in reason


def test_a_flow_to_a_service_of_another_stack_is_not_checked_naming_its_namespace():
    flows = [{"service": "payments/ledger", "port": 8080, "purpose": "post entries"}]
    stack = system(web_=web(flows=flows))
    assert stack_violations(stack, FLOWS) == []
    [(_, reason)] = not_checked(stack, FLOWS)
    assert 'flow[0] "post entries" to Service payments/ledger port 8080/TCP is not checked' in reason
    assert "namespace payments, which this stack does not contain" in reason


def test_a_flow_to_a_service_missing_from_a_namespace_of_the_stack_is_not_checked():
    flows = [{"service": "bus/redis", "port": 6379}]
    stack = system(web_=web(flows=flows))
    assert stack_violations(stack, FLOWS) == []
    assert "Service bus/redis is not in the program" in not_checked(stack, FLOWS)[0][1]


def test_a_service_of_the_stack_that_lacks_the_port_is_a_violation():
    flows = [{"service": "bus/nats", "port": 6222}]
    assert "exposes no port 6222/TCP" in stack_violations(system(web_=web(flows=flows)), FLOWS)[0]


def test_a_flow_outside_the_stack_next_to_a_denied_one_leaves_the_denied_one_a_violation():
    flows = [{"service": "payments/ledger", "port": 8080}, {"cidr": "203.0.113.0/24", "port": 443}]
    stack = system(web_=web(flows=flows))
    assert len(not_checked(stack, FLOWS)) == 1
    assert [m for m in stack_violations(stack, FLOWS) if "flow[1]" in m and "denied at the source" in m]


def test_an_external_cidr_flow_needs_only_the_egress_side():
    flows = [{"cidr": "203.0.113.0/24", "port": 443, "purpose": "payment provider"}]
    denied = stack_violations(system(web_=web(flows=flows)), FLOWS)
    assert denied == [
        'Deployment apps/web: flow[0] "payment provider" to 203.0.113.0/24 port 443/TCP is denied at the source '
        "(203.0.113.0/24 port 443/TCP): egress denied: selected by NetworkPolicy apps/default-deny, NetworkPolicy "
        "apps/web-egress, none of which admits it; add to a NetworkPolicy selecting Deployment apps/web an egress "
        "rule to ipBlock 203.0.113.0/24 (one peer per endpoint) on port 443/TCP"]
    allow = obj("NetworkPolicy", "payments", "apps", spec={"podSelector": {}, "policyTypes": ["Egress"], "egress": [
        {"to": [{"ipBlock": {"cidr": "203.0.0.0/8", "except": ["203.0.114.0/24"]}}], "ports": [{"port": 443}]}]})
    assert stack_violations(system(web_=web(flows=flows), extra=(allow,)), FLOWS) == []


def test_flux_controllers_carry_the_instance_flows_and_component_flows_reach_only_their_component():
    flows = json.dumps([{"apiServer": True},
                        {"service": "bus/nats", "port": 4222, "component": "notification-controller"}])
    instance = flux_instance()
    instance[1]["metadata"]["annotations"]["cdb-infra.io/flows"] = flows
    graph = system(extra=(instance, namespace("flux-system", None),
                          obj("NetworkPolicy", "default-deny", "flux-system", spec={"podSelector": {},
                                                                                    "policyTypes": ["Egress"]})))
    messages = stack_violations(graph, FLOWS)
    api = [m for m in messages if "flow[0]" in m]
    nats = [m for m in messages if "flow[1]" in m]
    assert len(api) == 4  # every controller needs the API server
    assert len(nats) == 2  # denied at both ends: flux-system's egress and the server's ingress
    assert all(m.startswith("Deployment flux-system/notification-controller (created by FluxInstance flux-system/flux)")
               for m in nats)
    assert {"at the source" in m for m in nats} == {True, False}


# --- Pod Security Standards, level by level ----------------------------------------------------------
def template(**spec_extra):
    token, props = workload("Deployment", pod_spec(**spec_extra))
    return find_pod_template(token, props)


def with_container(**security):
    return template(containers=[container(securityContext=security)])


RESTRICTED_OK = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
PSS = [
    ("compliant restricted pod", template(), [], []),
    ("hostNetwork", template(hostNetwork=True), ["Host Namespaces"], ["Host Namespaces"]),
    ("hostPath volume", template(volumes=[{"name": "h", "hostPath": {"path": "/"}}]),
     ["HostPath Volumes"], ["HostPath Volumes", "Volume Types"]),
    ("privileged", with_container(**RESTRICTED_OK, privileged=True), ["Privileged Containers"],
     ["Privileged Containers"]),
    ("KILL is in the baseline list, not in restricted", with_container(
        allowPrivilegeEscalation=False, capabilities={"drop": ["ALL"], "add": ["KILL"]}),
     [], ["Capabilities"]),
    ("NET_RAW is not in the baseline list", with_container(
        allowPrivilegeEscalation=False, capabilities={"drop": ["ALL"], "add": ["NET_RAW"]}),
     ["Capabilities"], ["Capabilities", "Capabilities"]),
    ("SYS_ADMIN", with_container(allowPrivilegeEscalation=False, capabilities={"drop": ["ALL"], "add": ["SYS_ADMIN"]}),
     ["Capabilities"], ["Capabilities", "Capabilities"]),
    ("capabilities not dropped", with_container(allowPrivilegeEscalation=False), [], ["Capabilities"]),
    ("privilege escalation allowed", with_container(capabilities={"drop": ["ALL"]}), [], ["Privilege Escalation"]),
    ("unconfined seccomp on the pod", template(securityContext={"runAsNonRoot": True,
                                                               "seccompProfile": {"type": "Unconfined"}}),
     ["Seccomp"], ["Seccomp", "Seccomp"]),
    ("no seccomp", template(securityContext={"runAsNonRoot": True}), [], ["Seccomp"]),
    ("root user", template(securityContext={"runAsNonRoot": True, "runAsUser": 0,
                                            "seccompProfile": {"type": "RuntimeDefault"}}),
     [], ["Running as Non-root user"]),
    ("runAsNonRoot missing", template(securityContext={"seccompProfile": {"type": "RuntimeDefault"}}),
     [], ["Running as Non-root"]),
    ("unsafe sysctl", template(securityContext={"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"},
                                                "sysctls": [{"name": "kernel.msgmax", "value": "1"}]}),
     ["Sysctls"], ["Sysctls"]),
    ("safe sysctl", template(securityContext={"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"},
                                              "sysctls": [{"name": "net.ipv4.tcp_syncookies", "value": "1"}]}), [], []),
    ("hostPort", template(containers=[container(ports=[{"containerPort": 80, "hostPort": 80}],
                                                securityContext=RESTRICTED_OK)]), ["Host Ports"], ["Host Ports"]),
    ("SELinux user", with_container(**RESTRICTED_OK, seLinuxOptions={"user": "system_u"}), ["SELinux"], ["SELinux"]),
    ("procMount Unmasked", with_container(**RESTRICTED_OK, procMount="Unmasked"), ["/proc Mount Type"],
     ["/proc Mount Type"]),
]


@pytest.mark.parametrize(("label", "tmpl", "baseline", "restricted"), PSS, ids=[p[0] for p in PSS])
def test_pod_security_standards_per_level(label, tmpl, baseline, restricted):
    assert [control for control, _ in failures(tmpl, "baseline")] == baseline
    assert sorted(control for control, _ in failures(tmpl, "restricted")) == sorted(restricted)
    assert failures(tmpl, "privileged") == []


def test_a_namespace_without_an_enforce_label_is_not_judged_and_a_bad_label_is_reported():
    assert stack_violations(system(apps_level=None, web_=web(hostNetwork=True)), ADMISSION) == []
    messages = stack_violations(system(apps_level="strict"), ADMISSION)
    assert messages == ['Namespace apps: label pod-security.kubernetes.io/enforce="strict" is not one of privileged, '
                        "baseline, restricted; the API server refuses it"]


def test_pods_an_operator_creates_are_judged_against_their_namespace():
    graph = system(extra=(flux_instance(), namespace("flux-system", "restricted")))
    assert stack_violations(graph, ADMISSION) == []  # upstream controllers meet restricted


# --- quota arithmetic --------------------------------------------------------------------------------
def test_surge_follows_the_deployment_strategy():
    default_surge = system(web_=web(replicas=2), quota_=quota(pods="2"))  # 25% of 2, rounded up: 1
    assert "pods 2 is below the 3 pods" in stack_violations(default_surge, QUOTA)[0]
    graph = system(web_=web(replicas=2), quota_=quota(pods="2"))
    graph[[n.name for n in graph].index("Deployment-apps-web")].props["spec"]["strategy"] = {"type": "Recreate"}
    assert stack_violations(graph, QUOTA) == []
    graph[[n.name for n in graph].index("Deployment-apps-web")].props["spec"]["strategy"] = {
        "rollingUpdate": {"maxSurge": 2}}
    assert "pods 2 is below the 4 pods" in stack_violations(graph, QUOTA)[0]


def test_init_containers_and_sidecars_count_as_the_scheduler_counts_them():
    # requests.cpu: sidecar 250m + app 250m = 500m per pod; a 2-core init container dominates instead.
    big_init = init_container(resources={"requests": {"cpu": "2", "memory": "64Mi"},
                                         "limits": {"cpu": "2", "memory": "64Mi"}})
    graph = system(web_=web(replicas=1, initContainers=[sidecar(), big_init]),
                   quota_=quota(**{"requests.cpu": "2", "limits.cpu": "3"}))
    messages = stack_violations(graph, QUOTA)
    # per pod: max(250m app + 250m sidecar, 2 init + 250m sidecar started before it) = 2250m, 2 pods with surge
    # limits.cpu: max(500m + 500m, 2 + 500m) = 2500m per pod; memory fits exactly (2 x (256Mi + 256Mi) = 1Gi).
    assert {m.split(" the pods")[0] for m in messages} == {
        "ResourceQuota apps/zone-quota: requests.cpu 2 is below the 4500m",
        "ResourceQuota apps/zone-quota: limits.cpu 3 is below the 5"}, messages


def test_limit_range_defaults_fill_missing_values_and_a_pod_without_them_is_refused():
    bare = container(resources={})
    refused = stack_violations(system(web_=web(replicas=1, containers=[bare])), QUOTA)
    assert refused and all("sets no" in m and "refuses the pod; set it" in m for m in refused)
    limits = obj("LimitRange", "zone-limits", "apps", spec={"limits": [{"type": "Container",
                                                                        "default": {"cpu": "100m", "memory": "128Mi"},
                                                                        "defaultRequest": {"cpu": "50m", "memory": "64Mi"}}]})
    assert stack_violations(system(web_=web(replicas=1, containers=[bare]), extra=(limits,)), QUOTA) == []


def test_a_quota_scope_the_pod_is_outside_of_does_not_count_it():
    graph = system(quota_=quota(pods="1"))
    assert stack_violations(graph, QUOTA)
    graph = system(quota_=quota(pods="1"))
    quota_node = graph[[n.name for n in graph].index("ResourceQuota-apps-zone-quota")]
    quota_node.props["spec"]["scopes"] = ["Terminating"]  # web has no activeDeadlineSeconds
    assert stack_violations(graph, QUOTA) == []


@pytest.mark.parametrize(("size", "cpu_limit", "memory_request"), [
    ("small", "1000m", "64Mi"), ("medium", "2000m", "128Mi"), ("large", "3000m", "256Mi"), (None, "1000m", "64Mi")])
def test_flux_controllers_follow_the_size_profile_of_the_pinned_operator(size, cpu_limit, memory_request):
    instance = flux_instance(size or "medium")
    if size is None:
        del instance[1]["spec"]["cluster"]["size"]
    props = flux_controller_props(KubeObject("fluxcd.controlplane.io", "FluxInstance", instance[1]), "helm-controller")
    resources = props["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert (resources["limits"]["cpu"], resources["requests"]["memory"]) == (cpu_limit, memory_request)
    notification = flux_controller_props(KubeObject("fluxcd.controlplane.io", "FluxInstance", instance[1]),
                                         "notification-controller")
    assert notification["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] == "1000m"


def test_a_small_profile_fits_where_medium_does_not():
    assert stack_violations(flux_system("8", size="medium"), QUOTA)
    assert stack_violations(flux_system("8", size="small"), QUOTA) == []


# --- references and order ----------------------------------------------------------------------------
def test_optional_references_need_nothing():
    optional = container(env=[{"name": "FEATURE", "valueFrom": {"configMapKeyRef": {"name": "flags", "key": "x",
                                                                                   "optional": True}}}])
    assert stack_violations(system(web_=web(containers=[optional])), REFERENCES) == []


def test_a_secret_declared_as_produced_by_another_object_counts():
    reader = container(envFrom=[{"secretRef": {"name": "tls-bundle"}}])
    missing = stack_violations(system(web_=web(containers=[reader])), REFERENCES)
    assert missing == ["Deployment apps/web: spec.template.spec.containers[0].envFrom[0].secretRef refers to Secret "
                       "apps/tls-bundle, which is not in the stack and has no producer; add it, create it through a "
                       "VaultStaticSecret with destination.name tls-bundle, or annotate its producer with "
                       "cdb-infra.io/provides-secrets"]
    issuer = obj("ConfigMap", "issuer", "apps", annotations={"cdb-infra.io/provides-secrets": "apps/tls-bundle"})
    assert stack_violations(system(web_=web(containers=[reader]), extra=(issuer,)), REFERENCES) == []


def test_a_named_target_port_must_name_a_container_port():
    service = obj("Service", "web", "apps", spec={"selector": {"app.kubernetes.io/name": "web"},
                                                  "ports": [{"port": 80, "targetPort": "https"}]})
    assert stack_violations(system(extra=(service,)), REFERENCES) == [
        'Service apps/web: spec.ports[0].targetPort "https" is no container port name of the pods it selects; name '
        "the container port or fix targetPort"]


def test_an_operator_annotation_declares_the_kinds_it_serves():
    from .objects import stream
    operator = workload("Deployment", pod_spec(), metadata={"name": "nack", "namespace": "bus", "annotations": {
        "cdb-infra.io/provides-kinds": "jetstream.nats.io/Stream"}})
    graph = [n for n in system(extra=(stream(), operator)) if "streams.jetstream" not in n.name]
    assert stack_violations(graph, REFERENCES) == []


def test_cycles_are_found_and_shown_as_one_path():
    graph = Graph()
    graph.wait("A", "B", "ab")
    graph.wait("B", "C", "bc")
    graph.wait("C", "A", "ca")
    graph.wait("C", "D", "cd")
    graph.wait("E", "E", "self")
    assert sorted(graph.cycles()) == [["A", "B", "C", "A"], ["E", "E"]]
    acyclic = Graph()
    acyclic.wait("A", "B", "ab")
    acyclic.wait("A", "C", "ac")
    acyclic.wait("B", "C", "bc")
    assert acyclic.cycles() == []


def test_pulumi_dependencies_join_the_waits():
    from .harness import Node
    graph = system()
    web_node = next(n for n in graph if n.name == "Deployment-apps-web")
    config = next(n for n in graph if n.name == "ConfigMap-apps-web-config")
    config.dependencies.append(web_node.name)  # the ConfigMap waits for the Deployment that mounts it
    messages = stack_violations(graph, REFERENCES)
    assert len(messages) == 1 and "ConfigMap apps/web-config waits on Deployment apps/web (Pulumi waits for it" in \
        messages[0], messages
    assert isinstance(web_node, Node)


def test_malformed_api_server_endpoints_are_reported_with_the_place_and_the_fix():
    messages = stack_violations(system(api="192.0.2.10, api.example"), FLOWS)
    assert messages == ['Deployment apps/web: flow[1] "leader election" to the API server cannot be checked: ConfigMap '
                        "cdb-system/cdb-stack data.api-server-endpoints: 'api.example' does not appear to be an IPv4 "
                        "or IPv6 network; write endpoint addresses such as 192.0.2.10"]


def test_the_api_server_port_comes_from_the_declaration():
    graph = system()
    declaration = next(n for n in graph if n.name == "ConfigMap-cdb-system-cdb-stack")
    declaration.props["data"]["api-server-port"] = "443"
    messages = stack_violations(graph, FLOWS)
    assert len(messages) == 1 and "(the API server port 443/TCP)" in messages[0]


def test_the_ai_isolation_rule_finds_concrete_paths_with_the_same_model():
    from .objects import ai_workload, default_deny, vault_namespace
    vault = workload("StatefulSet", pod_spec(container(name="vault", image="openbao/openbao:2.4.1")),
                     metadata={"name": "vault", "namespace": "vault"})
    admit_ai = obj("NetworkPolicy", "allow-ai", "vault", spec={"podSelector": {}, "policyTypes": ["Ingress"],
                                                              "ingress": [{"from": [{"namespaceSelector": {
                                                                  "matchLabels": {"kubernetes.io/metadata.name": "ai"}}}]}]})
    graph = nodes(vault_namespace(), default_deny("vault", ("Ingress",)), vault, admit_ai, ai_workload())
    messages = stack_violations(graph, "ai-no-vault-network-path")
    assert ("AI Deployment ai/assistant can reach StatefulSet vault/vault port 8080/TCP of the vault zone (egress is "
            "not isolated (no NetworkPolicy selects the pod for Egress); ingress admitted by NetworkPolicy "
            "vault/allow-ai); close one end") in messages, messages
    closed = nodes(vault_namespace(), default_deny("vault", ("Ingress",)), vault, ai_workload())
    assert not any("can reach StatefulSet" in m for m in stack_violations(closed, "ai-no-vault-network-path"))


@pytest.mark.parametrize(("pod_extra", "expect"), [
    ({"serviceAccountName": "web-sa"}, "spec.template.spec.serviceAccountName refers to ServiceAccount apps/web-sa"),
    ({"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "web-data"}}]},
     "spec.template.spec.volumes[0] refers to PersistentVolumeClaim apps/web-data"),
    ({"imagePullSecrets": [{"name": "registry"}]}, "spec.template.spec.imagePullSecrets[0] refers to Secret apps/registry"),
    ({"volumes": [{"name": "p", "projected": {"sources": [{"configMap": {"name": "ca"}}]}}]},
     "spec.template.spec.volumes[0].projected.sources[0] refers to ConfigMap apps/ca"),
])
def test_every_kind_of_pod_reference_must_resolve(pod_extra, expect):
    messages = stack_violations(system(web_=web(**pod_extra)), REFERENCES)
    assert any(expect in m and "which is not in the stack and has no producer" in m for m in messages), messages


# --- pods Strimzi creates --------------------------------------------------------------------------------
def strimzi(replicas: int = 3, cpu_limit: str = "2", pod_security: bool = True) -> list:
    """A Kafka with one KRaft node pool and an entity operator, in a restricted zone with a quota."""
    restricted = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True,
                  "readOnlyRootFilesystem": True, "seccompProfile": {"type": "RuntimeDefault"}}
    pod = {"securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}}
    small = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}}
    entity: dict = {"topicOperator": {"resources": small}, "userOperator": {"resources": small}}
    if pod_security:
        entity["template"] = {"pod": pod, "topicOperatorContainer": {"securityContext": restricted},
                              "userOperatorContainer": {"securityContext": restricted}}
    kafka = ("kubernetes:kafka.strimzi.io/v1:Kafka", {"apiVersion": "kafka.strimzi.io/v1", "kind": "Kafka",
             "metadata": {"name": "events", "namespace": "kafka"},
             "spec": {"kafka": {"listeners": [{"name": "plain", "port": 9092, "type": "internal", "tls": False}]},
                      "entityOperator": entity}})
    pool = ("kubernetes:kafka.strimzi.io/v1:KafkaNodePool", {"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaNodePool",
            "metadata": {"name": "pool", "namespace": "kafka", "labels": {"strimzi.io/cluster": "events"}},
            "spec": {"replicas": replicas, "roles": ["controller", "broker"],
                     "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": cpu_limit, "memory": "1Gi"}},
                     "template": {"pod": pod, "kafkaContainer": {"securityContext": restricted}}}})
    return nodes(namespace("kafka"), quota("kafka", **{"limits.cpu": "8", "requests.cpu": "4", "limits.memory": "8Gi",
                                                     "requests.memory": "8Gi", "pods": "10"}), kafka, pool)


def test_kafka_nodes_and_the_entity_operator_count_against_the_zone_quota():
    assert stack_violations(strimzi(), QUOTA) == []
    over = stack_violations(strimzi(cpu_limit="3"), QUOTA)  # 3 nodes x 3 CPU + the entity operator > 8
    assert over and "limits.cpu" in over[0], over


def test_strimzi_pods_without_security_contexts_are_refused_by_pod_security_admission():
    assert stack_violations(strimzi(), ADMISSION) == []
    refused = stack_violations(strimzi(pod_security=False), ADMISSION)
    assert refused and all("events-entity-operator" in m for m in refused), refused


def test_a_service_of_the_stack_whose_selector_matches_no_pod_is_not_checked():
    flows = [{"service": "bus/events", "port": 4222}]
    events = obj("Service", "events", "bus", spec={"selector": {"app.kubernetes.io/name": "events"},
                                                    "ports": [{"name": "client", "port": 4222}]})
    stack = system(web_=web(flows=flows), extra=(events,))
    assert stack_violations(stack, FLOWS) == []
    [(_, reason)] = not_checked(stack, FLOWS)
    assert "the pods behind Service bus/events" in reason and "is not in the program" in reason
