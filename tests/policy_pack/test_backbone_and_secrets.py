"""Clauses 4 and 6 beyond the basic cases: Redis found by any image spelling and its persistence
resolved like redis-server does, JetStream streams, the migration phase, plaintext secrets, the vault
zone and AI isolation, including stacks that pass object by object but fail together."""

from __future__ import annotations

import pytest

from .fixtures import DIGEST, container, deployment, init_container, pod_spec, workload
from .harness import Node, stack_violations, violations
from .objects import ai_workload, declaration, nodes, obj, redis, stream
from .stack_cases import ai_stack, backbone_stack, vault_role, vault_stack

REDIS = "redis-transport-only"
SINK = "redis-not-an-audit-sink"
PHASE = "event-backbone-migration-phase"
DURABLE = "jetstream-stream-durable"
REPLICAS = "jetstream-stream-replicas"
PLAINTEXT = "no-plaintext-secrets"


@pytest.mark.parametrize("image", ["redis:7", "docker.io/library/redis:7.4.1", f"registry.example:5000/redis@{DIGEST}",
                                   "valkey/valkey:8.0", "ghcr.io/valkey-io/valkey:8", "bitnamilegacy/redis:7.2"])
def test_redis_with_default_settings_snapshots_and_is_rejected_whatever_the_image_spelling(image):
    messages = stack_violations(nodes(redis(args=[], image=image)), REDIS)
    assert any("save is not disabled, so Redis's default RDB snapshots apply" in m for m in messages), messages


def test_redis_exporter_is_not_redis():
    exporter = workload("Deployment", pod_spec(container(image="oliver006/redis_exporter:v1.62.0")))
    assert stack_violations(nodes(exporter), REDIS) == []


@pytest.mark.parametrize(("args", "fragment"), [
    (["--save", "60 1"], 'save is "60 1" (RDB snapshots)'),
    (["--save", "", "--appendonly", "yes"], "appendonly is yes (AOF)"),
    (["--save=3600 1"], 'save is "3600 1"'),
])
def test_persistence_switched_on_by_args_is_rejected(args, fragment):
    assert any(fragment in m for m in stack_violations(nodes(redis(args=args)), REDIS))


def test_shell_command_line_is_read_too():
    token, props = redis(args=[])
    props["spec"]["template"]["spec"]["containers"][0]["command"] = ["sh", "-c", "redis-server --save 900 1"]
    assert any('save is "900 1"' in m for m in stack_violations(nodes((token, props)), REDIS))


def test_redis_config_from_a_config_map_in_the_stack_decides():
    volumes = [{"name": "conf", "configMap": {"name": "redis-conf"}}]
    persisting = obj("ConfigMap", "redis-conf", "bus", data={"redis.conf": "port 6379\nappendonly yes\nsave \"\"\n"})
    transient = obj("ConfigMap", "redis-conf", "bus", data={"redis.conf": "save \"\"\nappendonly no\n"})
    assert any("appendonly is yes" in m for m in
               stack_violations(nodes(redis(args=["/etc/redis/redis.conf"], volumes=volumes), persisting), REDIS))
    assert stack_violations(nodes(redis(args=["/etc/redis/redis.conf"], volumes=volumes), transient), REDIS) == []


def test_redis_config_map_missing_from_the_stack_cannot_be_verified():
    volumes = [{"name": "conf", "configMap": {"name": "elsewhere"}}]
    messages = stack_violations(nodes(redis(args=["/etc/redis/redis.conf"], volumes=volumes)), REDIS)
    assert any("mounted ConfigMap elsewhere is not in the stack" in m for m in messages)


def test_redis_with_a_claim_or_claim_templates_is_rejected():
    claim = redis(volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "redis"}}])
    assert any("persistentVolumeClaim volume" in m for m in stack_violations(nodes(claim), REDIS))
    token, props = redis(kind="StatefulSet")
    props["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": "data"}}]
    assert any("volumeClaimTemplates" in m for m in stack_violations(nodes((token, props)), REDIS))


def test_bitnami_redis_needs_its_own_persistence_switches_off():
    messages = stack_violations(nodes(redis(image="bitnami/redis:7.2")), REDIS)
    assert any('env REDIS_AOF_ENABLED is not "no"' in m for m in messages)
    token, props = redis(image="bitnami/redis:7.2")
    props["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "REDIS_AOF_ENABLED", "value": "no"}, {"name": "REDIS_RDB_POLICY_DISABLED", "value": "yes"}]
    assert stack_violations(nodes((token, props)), REDIS) == []


def test_redis_in_an_init_container_counts():
    spec = pod_spec(initContainers=[init_container(name="cache", image="redis:7", args=["--save", "60 1"])])
    assert stack_violations(nodes(workload("Deployment", spec)), REDIS)


def test_sink_pointing_at_a_service_that_selects_redis_pods_is_rejected():
    service = obj("Service", "events-cache", "bus", spec={"selector": {"app.kubernetes.io/name": "redis"}})
    collector = obj("OpenTelemetryCollector", "otel", "obs", spec={"config": {"exporters": {
        "otlphttp/audit": {"endpoint": "http://events-cache.bus.svc:6379"}}}})
    messages = stack_violations(nodes(redis(), service, collector), SINK)
    assert messages == ['OpenTelemetryCollector obs/otel: spec.config.exporters.otlphttp/audit.endpoint '
                        '"http://events-cache.bus.svc:6379" points at Redis; send events and audit records to the '
                        "JetStream audit stream (nats) or the collector/Loki instead"]
    assert stack_violations(nodes(service, collector), SINK) == []  # the same name without Redis pods behind it


@pytest.mark.parametrize(("spec", "fragment"), [
    ({"storage": None}, "spec.storage is unset (NACK defaults to memory)"),
    ({"retention": "workqueue"}, 'spec.retention is "workqueue"'),
    ({"subjects": ["orders.created", "orders.v2.>"]}, 'spec.subjects[0] "orders.created" has no version token'),
    ({"subjects": []}, "spec.subjects is empty"),
])
def test_streams_that_lose_or_do_not_version_events_are_rejected(spec, fragment):
    messages = violations(*stream(**spec), DURABLE)
    assert any(fragment in m for m in messages), messages


def test_audit_stream_by_label_or_name_must_deny_delete_and_purge():
    assert violations(*stream(name="orders", denyDelete=False, denyPurge=None), DURABLE) == []
    by_name = violations(*stream(name="flux-audit", denyDelete=False), DURABLE)
    assert by_name == ["spec.denyDelete is false on an audit stream; set denyDelete: true"]
    by_label = violations(*stream(labels={"cdb-infra.io/stream-class": "audit"}, denyPurge=None), DURABLE)
    assert by_label == ["spec.denyPurge is unset on an audit stream; set denyPurge: true"]


def test_single_replica_streams_pass_only_in_a_declared_dev_stack():
    assert stack_violations(nodes(stream(replicas=1), declaration(environment="dev")), REPLICAS) == []
    assert stack_violations(nodes(stream(replicas=1), declaration(environment="prod")), REPLICAS)
    assert stack_violations(nodes(stream(replicas=None)), REPLICAS)  # NACK default is 1
    assert stack_violations(nodes(stream(replicas=3.0)), REPLICAS) == []


def test_redis_without_a_declared_phase_is_rejected():
    messages = stack_violations(nodes(redis(), stream()), PHASE)
    assert messages[0].startswith("Deployment bus/redis runs Redis but the stack declares no migration-phase")


@pytest.mark.parametrize(("data", "fragment"), [
    ({"redis-sunset": "2020-01-01", "redis-sunset-docs": "https://d/x"}, '"2020-01-01" has passed'),
    ({"redis-sunset": "soon", "redis-sunset-docs": "https://d/x"}, "is not an ISO 8601 date"),
    ({"redis-sunset": "2999-01-01"}, "data.redis-sunset-docs is unset"),
    ({"redis-sunset-docs": "http://d/x"}, "redis-sunset is missing"),
])
def test_redis_only_operation_must_be_time_limited_and_documented(data, fragment):
    graph = nodes(declaration(**{"migration-phase": "redis-only", **data}), redis())
    assert any(fragment in m for m in stack_violations(graph, PHASE))


def test_dual_write_needs_the_persistent_bus_and_unknown_phases_are_rejected():
    assert any("declares dual-write but the stack has no JetStream Stream" in m
               for m in stack_violations(nodes(declaration(**{"migration-phase": "dual-write"}), redis()), PHASE))
    assert any("is not one of redis-only, dual-write, jetstream" in m
               for m in stack_violations(nodes(declaration(**{"migration-phase": "both"})), PHASE))


def test_two_declarations_that_disagree_are_rejected():
    first = declaration(**{"migration-phase": "jetstream"})
    second = declaration("other", **{"migration-phase": "dual-write"})
    assert any("stack declarations disagree on migration-phase" in m
               for m in stack_violations(nodes(first, second), PHASE))


def test_redis_only_phase_with_future_sunset_passes():
    assert stack_violations(backbone_stack(phase="redis-only"), PHASE) == []


@pytest.mark.parametrize("value", [
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEow==\n-----END RSA PRIVATE KEY-----",
    "AKIAIOSFODNN7EXAMPLE", "ghp_" + "Ab1" * 12, "glpat-" + "x1Y2z3" * 4, "xoxb-1234567890-abcdefghij",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
])
def test_secret_values_in_innocently_named_env_are_rejected(value):
    messages = violations(*deployment(container(env=[{"name": "SETTING", "value": value}])), PLAINTEXT)
    assert len(messages) == 1 and "(SETTING) value looks like" in messages[0]


@pytest.mark.parametrize("value", ["info", "https://api.example/v1", f"ghcr.io/cdb/api@{DIGEST}",
                                   "0123456789abcdef0123456789abcdef01234567", "$(OTHER_TOKEN)"])
def test_ordinary_config_values_are_not_secrets(value):
    assert violations(*deployment(container(env=[{"name": "SETTING", "value": value}])), PLAINTEXT) == []


def test_secret_like_names_with_references_or_reference_suffixes_pass():
    env = [{"name": "DB_PASSWORD_FILE", "value": "/vault/secrets/db"}, {"name": "TOKEN_TTL", "value": "5m"},
           {"name": "API_KEY", "value": ""}]
    assert violations(*deployment(container(env=env)), PLAINTEXT) == []


def test_secret_env_in_a_cronjob_init_container_is_rejected():
    spec = pod_spec(initContainers=[init_container(env=[{"name": "apiKey", "value": "abc123def456"}])])
    messages = violations(*workload("CronJob", spec), PLAINTEXT)
    assert messages[0].startswith('spec.jobTemplate.spec.template.spec.initContainers[0] (name "migrate"): env[0] '
                                  "(apiKey) has a literal value")


def test_config_maps_with_secret_keys_values_or_config_lines_are_rejected():
    config = obj("ConfigMap", "app", data={"db_password": "hunter2", "app.conf": "port 80\nrequirepass s3cret!\n",
                                           "ok": "level=info"})
    assert sorted(violations(*config, PLAINTEXT)) == [
        'data["app.conf"] line 2 sets requirepass to a literal value; keep secrets out of ConfigMaps: put them in '
        "a Secret from the secret manager and reference it",
        'data["db_password"] has a literal value under a secret-like name; keep secrets out of ConfigMaps: put '
        "them in a Secret from the secret manager and reference it"]


def test_secret_produced_by_an_operator_is_accepted_and_a_plain_one_rejected():
    owned = obj("Secret", "db", type="Opaque", data={"password": "aHVudGVyMg=="})
    owned[1]["metadata"]["ownerReferences"] = [{"kind": "VaultStaticSecret", "name": "db", "apiVersion": "v1"}]
    assert violations(*owned, "k8s-no-literal-secret-data") == []
    del owned[1]["metadata"]["ownerReferences"]
    assert violations(*owned, "k8s-no-literal-secret-data")


def test_vault_server_outside_the_vault_zone_is_rejected():
    vault = workload("StatefulSet", pod_spec(container(name="vault", image="openbao/openbao:2.5.3")),
                     metadata={"name": "vault", "namespace": "apps"})
    messages = stack_violations(nodes(vault), "vault-zone-vault-only")
    assert messages[0].startswith("StatefulSet apps/vault: runs a Vault server outside a vault zone")


def test_vault_zone_without_a_default_deny_admits_everything():
    graph = [n for n in vault_stack() if not n.name.startswith("NetworkPolicy-vault-default-deny")]
    messages = stack_violations(graph, "vault-zone-ingress-allow-list")
    assert messages == ["vault zone vault: no NetworkPolicy selects every pod (podSelector {}) for Ingress, so all "
                        "traffic is admitted; add a default-deny ingress policy"]


@pytest.mark.parametrize(("rule", "fragment"), [
    ({"ports": [{"port": 8200}]}, "spec.ingress[0] has no from, which admits every source"),
    ({"from": [{}]}, "spec.ingress[0].from[0]: an empty peer admits everything"),
    ({"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}, 'ipBlock "0.0.0.0/0" admits any address'),
    ({"from": [{"podSelector": {}}]}, "podSelector {} admits every pod of the namespace"),
])
def test_open_ingress_rules_into_the_vault_zone_are_rejected(rule, fragment):
    policy = obj("NetworkPolicy", "open", "vault", spec={"podSelector": {}, "ingress": [rule]})
    assert any(fragment in m for m in stack_violations(vault_stack(extra=(policy,)), "vault-zone-ingress-allow-list"))


@pytest.mark.parametrize(("extra", "fragment"), [
    ({"initContainers": [init_container(envFrom=[{"secretRef": {"name": "k"}}])]}, "envFrom[0] imports a Secret"),
    ({"volumes": [{"name": "p", "projected": {"sources": [{"secret": {"name": "k"}}]}}]},
     "projected.sources[0] projects a secret"),
    ({"volumes": [{"name": "c", "csi": {"driver": "secrets-store.csi.k8s.io"}}]}, "is a CSI volume"),
])
def test_every_secret_door_of_an_ai_pod_is_closed(extra, fragment):
    messages = violations(*ai_workload(**extra), "ai-no-secret-access")
    assert any(fragment in m for m in messages), messages


def test_vault_injector_annotation_on_an_ai_pod_is_rejected():
    token, props = ai_workload()
    props["spec"]["template"]["metadata"]["annotations"] = {"vault.hashicorp.com/agent-inject": "true"}
    assert violations(token, props, "ai-no-secret-access")


def test_non_ai_workload_may_read_secrets():
    env = [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "p"}}}]
    assert violations(*deployment(container(env=env)), "ai-no-secret-access") == []


def test_ai_token_via_pod_true_or_a_long_lived_token_secret_is_rejected():
    graph = nodes(ai_workload(automount=True), obj("ServiceAccount", "assistant", "ai",
                                                    automountServiceAccountToken=False))
    assert stack_violations(graph, "ai-no-service-account-token")[0].endswith(
        "automountServiceAccountToken is true; set it to false")
    token_secret = obj("Secret", "assistant-token", "ai", type="kubernetes.io/service-account-token",
                       annotations={"kubernetes.io/service-account.name": "assistant"})
    messages = stack_violations(ai_stack(extra=(token_secret,)), "ai-no-service-account-token")
    assert messages and messages[0].startswith("Secret ai/assistant-token: long-lived token")


def test_ai_pod_leaving_automount_unset_passes_when_its_service_account_disables_it():
    assert stack_violations(nodes(ai_workload(automount=None), obj(
        "ServiceAccount", "assistant", "ai", automountServiceAccountToken=False)), "ai-no-service-account-token") == []


def test_vault_role_with_wildcard_names_or_namespaces_binds_the_ai_account():
    for names, namespaces in ((["*"], ["ai"]), (["assistant"], ["*"])):
        assert stack_violations(ai_stack(extra=(vault_role(names, namespaces),)), "ai-no-vault-role")
    assert stack_violations(ai_stack(extra=(vault_role(["assistant"], ["apps"]),)), "ai-no-vault-role") == []


@pytest.mark.parametrize(("egress", "fragment"), [
    ([{"ports": [{"port": 443}]}], "spec.egress[0] has no to, which allows every destination"),
    ([{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}], "to[0].ipBlock 0.0.0.0/0 reaches every address"),
    ([{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "vault"}}}]}],
     "to[0].namespaceSelector matches vault zone vault"),
    ([{"to": [{"namespaceSelector": {"matchExpressions": [
        {"key": "cdb-infra.io/zone-class", "operator": "Exists"}]}}]}], "matches vault zone vault"),
])
def test_ai_egress_paths_into_the_vault_zone_are_rejected(egress, fragment):
    messages = stack_violations(ai_stack(egress=egress), "ai-no-vault-network-path")
    assert any(fragment in m for m in messages), messages


def test_ai_pod_that_no_egress_policy_selects_has_a_path_to_the_vault():
    graph = [n for n in ai_stack() if not n.name.startswith("NetworkPolicy-ai")]
    messages = stack_violations(graph, "ai-no-vault-network-path")
    assert messages[0].startswith("Deployment ai/assistant: no NetworkPolicy restricts its egress")


def test_unknown_labels_of_an_unrelated_resource_do_not_block_graph_rules():
    unrelated = Node("kubernetes:core/v1:Service", {"metadata": {"name": "x", "labels": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}},
                     "unrelated")
    assert stack_violations(ai_stack() + [unrelated], "ai-no-vault-network-path") == []
