"""What only the API server fills in is unknown offline, derived from the Kubernetes API's own schema."""

from __future__ import annotations

from cdb_engine.preview.server_fields import json_paths, parse_type, server_filled

SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "apps"},
           "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}, {"port": 443, "nodePort": 30443}]}}


def test_a_service_gets_its_cluster_ip_node_ports_metadata_and_status_from_the_server():
    paths = set(json_paths(server_filled("kubernetes:core/v1:Service", SERVICE)))
    assert {"spec.clusterIP", "spec.clusterIPs", "spec.ports[0].nodePort", "metadata.uid", "metadata.resourceVersion",
            "metadata.creationTimestamp", "metadata.generation", "metadata.managedFields", "status"} <= paths
    # What the program set is its own: the second port's nodePort, the name, the selector.
    assert not {"spec.ports[1].nodePort", "metadata.name", "metadata.namespace", "spec.selector"} & paths


def test_a_cluster_ip_the_program_sets_stays_as_written():
    headless = {**SERVICE, "spec": {**SERVICE["spec"], "clusterIP": "None"}}
    assert "spec.clusterIP" not in json_paths(server_filled("kubernetes:core/v1:Service", headless))


def test_an_object_without_a_name_is_autonamed_at_deploy():
    paths = json_paths(server_filled("kubernetes:core/v1:ConfigMap", {"metadata": {"namespace": "apps"}, "data": {}}))
    assert "metadata.name" in paths


def test_kinds_without_status_get_none_and_custom_resources_get_metadata_and_status():
    config_map = json_paths(server_filled("kubernetes:core/v1:ConfigMap", {"metadata": {"name": "x"}, "data": {"k": "v"}}))
    assert "status" not in config_map and "data" not in config_map and "immutable" not in config_map
    custom = json_paths(server_filled("kubernetes:source.toolkit.fluxcd.io/v1:GitRepository",
                                      {"metadata": {"name": "x"}, "spec": {"url": "https://example"}}))
    assert "status" in custom and "metadata.uid" in custom and not any(p.startswith("spec") for p in custom)


def test_components_and_other_providers_are_not_objects():
    for token in ("kubernetes:yaml:ConfigFile", "kubernetes:yaml:ConfigGroup", "kubernetes:yaml/v2:ConfigGroup",
                  "kubernetes:helm.sh/v3:Chart", "kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart",
                  "kubernetes:kustomize:Directory", "kubernetes:kustomize/v2:Directory", "github:index/team:Team",
                  "pulumi:providers:kubernetes"):
        assert parse_type(token) is None, token
        assert server_filled(token, {"metadata": {}}) == []
    assert parse_type("kubernetes:core/v1:Pod") == ("core", "v1", "Pod")
    assert parse_type("kubernetes:rbac.authorization.k8s.io/v1:Role") == ("rbac.authorization.k8s.io", "v1", "Role")


def test_the_committed_table_is_what_the_api_schema_says():
    import json

    from cdb_engine.preview.server_fields import TABLE, derive_table

    assert json.loads(TABLE.read_text()) == derive_table(), (
        "the Kubernetes schema changed: run `python -m cdb_engine.preview.server_fields` and commit the table")
