"""Typed intent: validation with one-line, actionable errors, and the camelCase dicts it renders."""

from decimal import Decimal

import pytest

from components import config, network, provenance, service_args, types, zone
from components.config import ConfigMapRef, EnvVar, SecretRef
from components.errors import ComponentArgsError
from components.intent import Intent
from components.network import Destination, Peer
from components.provenance import Provenance
from components.quantity import parse_quantity
from components.types import Image, Probe, Resources


def one_line_error(build) -> str:
    with pytest.raises(ComponentArgsError) as caught:
        build()
    message = str(caught.value)
    assert "\n" not in message and "errors.pydantic.dev" not in message
    return message


@pytest.mark.parametrize(
    ("text", "value"),
    [("250m", "0.25"), ("1", "1"), ("0.5", "0.5"), ("256Mi", str(256 * 2**20)), ("1Gi", str(2**30)), ("2k", "2000"), ("1e3", "1000"), (".5", "0.5")],
)
def test_quantities_parse_to_their_exact_value(text: str, value: str) -> None:
    assert parse_quantity(text) == Decimal(value)


def test_resources_render_requests_and_limits() -> None:
    resources = Resources(cpu_request="250m", memory_request="256Mi", cpu_limit=1, memory_limit="1Gi")
    assert resources.to_k8s() == {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}


def test_a_bad_quantity_is_refused_with_the_field_and_an_example() -> None:
    message = one_line_error(lambda: Resources(cpu_request="lots", memory_request="1Gi", cpu_limit="1", memory_limit="1Gi"))
    assert message.startswith("Resources: cpu_request: 'lots' is not a Kubernetes quantity; write e.g. '250m'")


def test_limits_below_requests_are_refused() -> None:
    message = one_line_error(lambda: Resources(cpu_request="500m", memory_request="1Gi", cpu_limit="250m", memory_limit="2Gi"))
    assert message == "Resources: cpu_limit '250m' is below cpu_request '500m'; raise the limit or lower the request"
    message = one_line_error(lambda: Resources(cpu_request="1", memory_request="1Gi", cpu_limit="1", memory_limit="1000Mi"))
    assert "memory_limit '1000Mi' is below memory_request '1Gi'" in message


def test_memory_written_in_millibytes_is_refused_as_a_typo() -> None:
    message = one_line_error(lambda: Resources(cpu_request="1", memory_request="256m", cpu_limit="1", memory_limit="1Gi"))
    assert "memory_request: memory '256m' is a fraction of a byte; write '256Mi'" in message


@pytest.mark.parametrize("value", ["0", "0m"])
def test_zero_cpu_is_refused(value: str) -> None:
    assert "must be greater than zero" in one_line_error(
        lambda: Resources(cpu_request=value, memory_request="1Gi", cpu_limit="1", memory_limit="1Gi")
    )


@pytest.mark.parametrize(
    ("ref", "problem"),
    [
        ("nats", "has no tag; pin a version"),
        ("nats:latest", "uses the mutable tag 'latest'"),
        ("ghcr.io/org/app:LATEST", "uses the mutable tag 'latest'"),
        ("nats:latest@sha256:" + "a" * 64, "uses the mutable tag 'latest'"),
        ("Nats:1.0", "invalid repository"),
        ("nats:1.0@sha256:abc", "invalid digest"),
    ],
)
def test_unpinned_or_malformed_images_are_refused(ref: str, problem: str) -> None:
    assert problem in one_line_error(lambda: Image.parse(ref))


@pytest.mark.parametrize(
    "ref",
    ["nats:2.14.2-alpine", "localhost:5000/team/app:1", "ghcr.io/cdb/api@sha256:" + "0" * 64, "quay.io/prometheus/prometheus:v3.1.0"],
)
def test_pinned_images_are_accepted_and_render_unchanged(ref: str) -> None:
    assert Image.parse(ref).to_k8s() == ref


def test_probe_constructors_render_kubernetes_probes() -> None:
    timing = {"initialDelaySeconds": 0, "periodSeconds": 10, "timeoutSeconds": 2, "failureThreshold": 3, "successThreshold": 1}
    assert Probe.http_get("/ready", 8080).to_k8s() == {"httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"}, **timing}
    assert Probe.tcp(6379).to_k8s() == {"tcpSocket": {"port": 6379}, **timing}
    assert Probe.grpc(9090, service="health").to_k8s() == {"grpc": {"port": 9090, "service": "health"}, **timing}
    assert Probe.exec_(["redis-cli", "ping"]).to_k8s() == {"exec": {"command": ["redis-cli", "ping"]}, **timing}
    slow = Probe.http_get("/healthz", "http", period_seconds=5, failure_threshold=30).to_k8s()
    assert (slow["periodSeconds"], slow["failureThreshold"], slow["httpGet"]["port"]) == (5, 30, "http")


def test_probe_mistakes_are_refused_with_the_field_path() -> None:
    assert one_line_error(lambda: Probe.http_get("ready", 8080)) == (
        "Probe: action.httpGet: probe path 'ready' must start with '/'; write '/ready'"
    )
    assert "action.tcpSocket.port: port 70000 is out of range" in one_line_error(lambda: Probe.tcp(70000))
    assert "period_seconds: Input should be greater than or equal to 1 (got 0); expected: Seconds between probes" in (
        one_line_error(lambda: Probe.tcp(80, period_seconds=0))
    )
    assert "exec.command" in one_line_error(lambda: Probe.exec_([]))


@pytest.mark.parametrize("name", ["DB_PASSWORD", "api_token", "CLIENT_SECRET", "OPENAI_API_KEY", "TLS_PRIVATE_KEY", "AWS_ACCESS_KEY_ID"])
def test_a_secret_like_env_name_with_a_literal_value_is_refused(name: str) -> None:
    message = one_line_error(lambda: EnvVar.literal(name, "hunter2"))
    assert message == (
        f"EnvVar: env {name!r} looks like a secret but has a literal value; use "
        f"EnvVar.from_secret({name!r}, secret=..., key=...) so the value comes from a Secret"
    )


def test_env_sources_render_value_config_map_and_secret_references() -> None:
    assert EnvVar.literal("LOG_LEVEL", "info").to_k8s() == {"name": "LOG_LEVEL", "value": "info"}
    assert EnvVar.from_config_map("MODE", "api-config", "mode").to_k8s() == {
        "name": "MODE",
        "valueFrom": {"configMapKeyRef": {"name": "api-config", "key": "mode"}},
    }
    assert EnvVar.from_secret("DB_PASSWORD", "db", "password").to_k8s() == {
        "name": "DB_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}},
    }
    assert ConfigMapRef(config_map="api-config", prefix="APP_").to_k8s() == {"configMapRef": {"name": "api-config"}, "prefix": "APP_"}
    assert SecretRef(secret="db").to_k8s() == {"secretRef": {"name": "db"}}


def test_an_env_var_needs_exactly_one_source() -> None:
    assert "needs exactly one of value, config_map_key_ref or secret_key_ref (got 0)" in one_line_error(lambda: EnvVar(name="X"))
    two = lambda: EnvVar(name="X", value="1", config_map_key_ref={"config_map": "c", "key": "k"})  # noqa: E731
    assert "(got 2)" in one_line_error(two)


def test_unknown_arguments_are_refused_by_name() -> None:
    assert one_line_error(lambda: Resources.parse({"cpu_request": "1", "memory_request": "1Gi", "cpu_limit": "1", "memory_limit": "1Gi", "gpu": 1})) == (
        "Resources: gpu: is not a known argument; remove it or fix its spelling"
    )


def test_network_peers_must_name_something_and_never_the_whole_internet() -> None:
    assert "names nothing" in one_line_error(lambda: Peer())
    assert "allows every address" in one_line_error(lambda: Destination(cidr="0.0.0.0/0", ports=(443,)))
    assert "either pods" in one_line_error(lambda: Destination(cidr="10.0.0.0/8", namespace="x", ports=(443,)))
    assert Destination(cidr="10.20.0.0/16", ports=(5432,)).to_k8s() == {
        "to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}],
        "ports": [{"protocol": "TCP", "port": 5432}],
    }


def test_provenance_gives_the_convention_labels_and_annotations() -> None:
    origin = Provenance("cdb", "abc1234", "cdb-infra/dev")
    assert origin.labels("api", "api", "service", "ai") == {
        "app.kubernetes.io/name": "api",
        "app.kubernetes.io/instance": "api",
        "app.kubernetes.io/component": "service",
        "app.kubernetes.io/part-of": "cdb",
        "app.kubernetes.io/managed-by": "pulumi",
        "cdb-infra.io/workload-class": "ai",
    }
    assert origin.annotations() == {"cdb-infra.io/git-revision": "abc1234", "cdb-infra.io/source": "cdb-infra/dev"}
    assert Provenance("cdb", "unknown", "p/s").git_revision == "unknown"
    assert "git revision 'main' is not a lower-case hex commit sha" in one_line_error(lambda: Provenance("cdb", "main", "p/s"))
    assert "is not '<project>/<stack>'" in one_line_error(lambda: Provenance("cdb", "unknown", "dev"))
    assert "workload class 'batch' is unknown" in one_line_error(lambda: origin.labels("a", "a", "service", "batch"))


def test_intents_are_frozen() -> None:
    resources = Resources(cpu_request="1", memory_request="1Gi", cpu_limit="1", memory_limit="1Gi")
    with pytest.raises(Exception, match="frozen"):
        resources.cpu_limit = "2"  # type: ignore[misc]


def test_every_field_of_every_intent_is_described() -> None:
    modules = (types, config, network, provenance, zone, service_args)
    intents = {obj for module in modules for obj in vars(module).values() if isinstance(obj, type) and issubclass(obj, Intent) and obj is not Intent}
    assert len(intents) >= 15
    undescribed = [f"{cls.__name__}.{name}" for cls in intents for name, field in cls.model_fields.items() if not field.description]
    assert undescribed == []


@pytest.mark.parametrize("name", ["MAX_TOKENS", "MAX_NEW_TOKENS", "TOKENS_PER_MINUTE", "TOKEN_TTL", "PASSWORD_MIN_LENGTH"])
def test_limits_counts_and_ttls_named_after_tokens_or_passwords_take_literal_values(name: str) -> None:
    assert EnvVar.literal(name, "2048").value == "2048"


def test_an_audit_kafka_topic_with_one_copy_is_refused_outside_dev() -> None:
    from components.kafka import KafkaTopicSpec

    message = one_line_error(lambda: KafkaTopicSpec(name="audit-events", replicas=1, min_insync_replicas=1))
    assert "audit topic 'audit-events'" in message and "replicas >= 3" in message
    assert KafkaTopicSpec(name="audit-events", replicas=1, min_insync_replicas=1, dev_single_copy=True).replicas == 1
    assert KafkaTopicSpec(name="orders-v1", replicas=1, min_insync_replicas=1).replicas == 1
