"""StatelessService under the mock engine: the wire-form inputs of every object it registers."""

from typing import Any

import pytest

from components.config import ConfigMapRef, ConfigMapVolume, EnvVar, SecretRef, SecretVolume
from components.errors import ComponentArgsError
from components.service import StatelessService, StatelessServiceArgs
from components.types import Probe
from tests.components.conftest import REVISION
from tests.components.harness import Recording, run_program

COMPONENT = "cdb:index:StatelessService"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
ACCOUNT = "kubernetes:core/v1:ServiceAccount"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def build(args: dict[str, Any], **overrides: Any) -> Recording:
    return run_program(lambda: StatelessService("api", StatelessServiceArgs.parse({**args, **overrides}, owner="StatelessService 'api'")))


def pod(recording: Recording) -> dict[str, Any]:
    return recording.one(DEPLOYMENT).inputs["spec"]["template"]["spec"]


def refusal(args: dict[str, Any], **overrides: Any) -> str:
    with pytest.raises(ComponentArgsError) as caught:
        build(args, **overrides)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_service_registers_five_children_under_the_component(service_args: dict[str, Any]) -> None:
    recording = build(service_args)
    component = recording.one(COMPONENT, "api")
    assert component.parent.endswith("pulumi:pulumi:Stack::cdb-infra-test")
    children = sorted((r.type, r.name) for r in recording.registrations if r.parent == component.urn)
    assert children == sorted(
        [(ACCOUNT, "api-sa"), (DEPLOYMENT, "api"), (SERVICE, "api-svc"), (PDB, "api-pdb"), (NETPOL, "api-netpol")]
    )
    assert len(recording.registrations) == 2 + len(children)
    assert recording.one(ACCOUNT).urn in recording.one(DEPLOYMENT).dependencies


def test_every_object_has_an_explicit_name_namespace_labels_and_provenance(service_args: dict[str, Any]) -> None:
    recording = build(service_args)
    expected = {
        "app.kubernetes.io/name": "api",
        "app.kubernetes.io/instance": "api",
        "app.kubernetes.io/component": "service",
        "app.kubernetes.io/part-of": "cdb",
        "app.kubernetes.io/managed-by": "pulumi",
        "cdb-infra.io/workload-class": "service",
    }
    objects = recording.kubernetes_objects()
    assert len(objects) == 5
    for obj in objects:
        meta = obj.inputs["metadata"]
        assert (meta["name"], meta["namespace"]) == ("api", "apps"), obj.name
        assert meta["labels"] == expected, obj.name
        assert meta["annotations"] == {"cdb-infra.io/git-revision": REVISION, "cdb-infra.io/source": "cdb-infra/test"}
    template = recording.one(DEPLOYMENT).inputs["spec"]["template"]["metadata"]
    assert template["labels"] == expected
    # A revision annotation here would restart pods on every commit; only the declared flows may be here.
    assert set(template.get("annotations", {})) <= {"cdb-infra.io/flows"}


def test_pod_and_container_security_context_are_restricted(service_args: dict[str, Any]) -> None:
    spec = pod(build(service_args))
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "fsGroup": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    (container,) = spec["containers"]
    assert container["securityContext"] == {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
    }
    assert spec["automountServiceAccountToken"] is False and spec["enableServiceLinks"] is False
    assert spec["serviceAccountName"] == "api"
    assert container["image"] == "ghcr.io/cdb/api:1.4.2" and container["imagePullPolicy"] == "IfNotPresent"
    assert "hostNetwork" not in spec and "hostPID" not in spec and "nodeSelector" not in spec


def test_the_service_account_mounts_no_token(service_args: dict[str, Any]) -> None:
    assert build(service_args).one(ACCOUNT).inputs["automountServiceAccountToken"] is False


def test_probes_resources_and_env_reach_the_container(service_args: dict[str, Any]) -> None:
    recording = build(
        service_args,
        startup=Probe.http_get("/healthz", "http", failure_threshold=30),
        env=(EnvVar.literal("LOG_LEVEL", "info"), EnvVar.from_secret("DB_PASSWORD", "db", "password")),
        env_from_config_maps=(ConfigMapRef(config_map="api-config"),),
        env_from_secrets=(SecretRef(secret="api-keys"),),
    )
    (container,) = pod(recording)["containers"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": 8080, "scheme": "HTTP"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http", "scheme": "HTTP"}
    assert container["readinessProbe"]["periodSeconds"] == 10 and container["livenessProbe"]["successThreshold"] == 1
    assert container["startupProbe"]["failureThreshold"] == 30
    assert container["resources"] == {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["env"] == [
        {"name": "LOG_LEVEL", "value": "info"},
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
    ]
    assert container["envFrom"] == [{"configMapRef": {"name": "api-config"}}, {"secretRef": {"name": "api-keys"}}]


def test_without_a_startup_probe_none_is_rendered(service_args: dict[str, Any]) -> None:
    assert "startupProbe" not in pod(build(service_args))["containers"][0]


def test_volumes_are_config_secret_and_size_limited_scratch_only(service_args: dict[str, Any]) -> None:
    spec = pod(
        build(
            service_args,
            config_volumes=(ConfigMapVolume(config_map="api-config", mount_path="/etc/api"),),
            secret_volumes=(SecretVolume(secret="api-tls", mount_path="/var/run/tls"),),
        )
    )
    assert spec["volumes"] == [
        {"name": "config-0", "configMap": {"name": "api-config", "defaultMode": 0o444}},
        {"name": "secret-0", "secret": {"secretName": "api-tls", "defaultMode": 0o440}},
        {"name": "writable-0", "emptyDir": {"sizeLimit": "64Mi"}},
    ]
    assert spec["containers"][0]["volumeMounts"] == [
        {"name": "config-0", "mountPath": "/etc/api", "readOnly": True},
        {"name": "secret-0", "mountPath": "/var/run/tls", "readOnly": True},
        {"name": "writable-0", "mountPath": "/tmp"},
    ]


def test_deployment_rolls_without_losing_capacity_and_keeps_bounded_history(service_args: dict[str, Any]) -> None:
    spec = build(service_args).one(DEPLOYMENT).inputs["spec"]
    assert spec["replicas"] == 2 and spec["revisionHistoryLimit"] == 5
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}
    assert spec["selector"] == {"matchLabels": {"app.kubernetes.io/name": "api", "app.kubernetes.io/instance": "api"}}
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()


def test_the_service_is_cluster_internal_and_targets_the_named_port(service_args: dict[str, Any]) -> None:
    spec = build(service_args, service_port=80).one(SERVICE).inputs["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    assert spec["selector"] == {"app.kubernetes.io/name": "api", "app.kubernetes.io/instance": "api"}


@pytest.mark.parametrize(("replicas", "budget"), [(1, {"maxUnavailable": 1}), (2, {"minAvailable": 1}), (5, {"minAvailable": 1})])
def test_the_disruption_budget_depends_on_replicas(service_args: dict[str, Any], replicas: int, budget: dict[str, int]) -> None:
    spec = build(service_args, replicas=replicas).one(PDB).inputs["spec"]
    assert {k: spec[k] for k in ("minAvailable", "maxUnavailable") if k in spec} == budget
    assert spec["selector"] == {"matchLabels": {"app.kubernetes.io/name": "api", "app.kubernetes.io/instance": "api"}}


def test_network_policy_allows_only_named_sources_destinations_and_dns(service_args: dict[str, Any]) -> None:
    spec = build(service_args).one(NETPOL).inputs["spec"]
    assert spec["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "api", "app.kubernetes.io/instance": "api"}}
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"] == [
        {
            "from": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway"}},
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}},
                }
            ],
            "ports": [{"protocol": "TCP", "port": 8080}],
        }
    ]
    nats, dns = spec["egress"]
    assert nats == {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "bus"}},
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "nats"}},
            }
        ],
        "ports": [{"protocol": "TCP", "port": 4222}],
    }
    assert dns["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    assert dns["to"][0]["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}


def test_without_sources_or_destinations_only_dns_is_open(service_args: dict[str, Any]) -> None:
    spec = build(service_args, ingress_from=(), egress_to=()).one(NETPOL).inputs["spec"]
    assert spec["ingress"] == [] and len(spec["egress"]) == 1 and spec["egress"][0]["ports"][0]["port"] == 53


def test_an_ai_service_without_secrets_is_built_and_labelled_ai(service_args: dict[str, Any]) -> None:
    recording = build(service_args, workload_class="ai")
    for obj in recording.kubernetes_objects():
        assert obj.inputs["metadata"]["labels"]["cdb-infra.io/workload-class"] == "ai"
    assert recording.one(DEPLOYMENT).inputs["spec"]["template"]["metadata"]["labels"]["cdb-infra.io/workload-class"] == "ai"
    assert pod(recording)["automountServiceAccountToken"] is False


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"env": (EnvVar.from_secret("DB_PASSWORD", "db", "password"),)}, "env 'DB_PASSWORD' reads a Secret; remove it"),
        ({"env_from_secrets": (SecretRef(secret="keys"),)}, "env_from_secrets names Secret 'keys'; remove it"),
        ({"secret_volumes": (SecretVolume(secret="tls", mount_path="/tls"),)}, "secret_volumes mounts Secret 'tls'; remove it"),
        ({"automount_service_account_token": True}, "automount_service_account_token is true; remove it"),
        ({"pod_annotations": {"vault.hashicorp.com/agent-inject": "true"}}, "pod annotation 'vault.hashicorp.com/agent-inject' asks the Vault injector"),
    ],
)
def test_an_ai_service_with_any_secret_access_is_refused(service_args: dict[str, Any], overrides: dict[str, Any], problem: str) -> None:
    message = refusal(service_args, workload_class="ai", **overrides)
    assert message.startswith("StatelessService 'api': workload_class 'ai' may not access secrets (CDB_INFRA_POLICY 6): ")
    assert problem in message


def test_a_normal_service_may_read_secrets_and_request_a_token(service_args: dict[str, Any]) -> None:
    recording = build(service_args, automount_service_account_token=True, secret_volumes=(SecretVolume(secret="tls", mount_path="/tls"),))
    assert recording.one(ACCOUNT).inputs["automountServiceAccountToken"] is True
    assert pod(recording)["automountServiceAccountToken"] is True


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"resources": {"cpu_request": "fast", "memory_request": "1Gi", "cpu_limit": "1", "memory_limit": "1Gi"}},
            "StatelessService 'api': resources.cpu_request: 'fast' is not a Kubernetes quantity; write e.g. '250m', '0.5', '1' or '256Mi'",
        ),
        (
            {"resources": {"cpu_request": "2", "memory_request": "1Gi", "cpu_limit": "1", "memory_limit": "1Gi"}},
            "StatelessService 'api': resources: cpu_limit '1' is below cpu_request '2'; raise the limit or lower the request",
        ),
        (
            {"image": "ghcr.io/cdb/api:latest"},
            "StatelessService 'api': image: image 'ghcr.io/cdb/api:latest' uses the mutable tag 'latest'; pin a version tag or a sha256 digest",
        ),
        (
            {"env": ({"name": "API_TOKEN", "value": "abc"},)},
            "StatelessService 'api': env[0]: env 'API_TOKEN' looks like a secret but has a literal value; use "
            "EnvVar.from_secret('API_TOKEN', secret=..., key=...) so the value comes from a Secret",
        ),
        (
            {"liveness": None},
            "StatelessService 'api': liveness: Input should be a valid dictionary or instance of Probe (got None); "
            "expected: Liveness probe: restarts the container when it fails",
        ),
        (
            {"readiness": Probe.http_get("/ready", "metrics")},
            "StatelessService 'api': readiness probe port 'metrics' is not a port of this container; use 8080 or 'http'",
        ),
        (
            {"liveness": Probe.http_get("/healthz", success_threshold=2)},
            "StatelessService 'api': liveness probe success_threshold must be 1 (Kubernetes rule); remove it or set 1",
        ),
        ({"replicas": 0}, "StatelessService 'api': replicas: Input should be greater than or equal to 1 (got 0); expected: Number of pods"),
        ({"sidecars": ()}, "StatelessService 'api': sidecars: is not a known argument; remove it or fix its spelling"),
    ],
)
def test_bad_arguments_are_refused_in_one_actionable_line(service_args: dict[str, Any], overrides: dict[str, Any], expected: str) -> None:
    assert refusal(service_args, **overrides) == expected


def test_missing_probes_and_resources_are_named(service_args: dict[str, Any]) -> None:
    args = {k: v for k, v in service_args.items() if k not in ("liveness", "readiness", "resources")}
    message = refusal(args)
    for field in ("resources: is required", "liveness: is required", "readiness: is required"):
        assert field in message


def test_invalid_arguments_register_nothing(service_args: dict[str, Any]) -> None:
    refused = []

    def program() -> None:
        try:
            StatelessService("api", StatelessServiceArgs.parse({**service_args, "image": "ghcr.io/cdb/api"}))
        except ComponentArgsError as exc:
            refused.append(str(exc))

    recording = run_program(program)
    assert len(refused) == 1 and "has no tag" in refused[0]
    assert [r.type for r in recording.registrations] == ["pulumi:pulumi:Stack"]


def test_a_name_that_is_not_a_valid_service_name_is_refused(service_args: dict[str, Any]) -> None:
    with pytest.raises(ComponentArgsError, match=r"^StatelessService '9api': name: '9api' is not a valid Service name"):
        run_program(lambda: StatelessService("9api", StatelessServiceArgs(**service_args)))


def test_component_inputs_are_visible_to_policies(service_args: dict[str, Any]) -> None:
    props = build(service_args, workload_class="ai").one(COMPONENT).inputs
    assert props["workload_class"] == "ai" and props["namespace"] == "apps" and props["replicas"] == 2
    assert props["image"] == {"repository": "ghcr.io/cdb/api", "tag": "1.4.2"}
    assert props["resources"]["cpu_limit"] == "1"
    assert props["provenance"]["git_revision"] == REVISION
