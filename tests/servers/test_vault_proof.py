"""Proof on a real OpenBao server: the ACL policies the stack hands to pulumi-vault give each client exactly
the KV paths its VaultStaticSecrets read, and the AI class nothing.

Everything loaded into the server is taken from the stack's recorded registrations (the same inputs
pulumi-vault would receive): the KV mount, every Policy's text, every role's token policies; the
expected paths come independently from the VaultStaticSecrets the operator would sync.
"""

from __future__ import annotations

import pytest

from tests.servers.vault_fixtures import OpenBao, openbao  # noqa: F401 (fixture)
from tests.stack.platform_stack import POLICY, ROLE, VAULT_AUTH, VSS, of_type, one, run_stack

AI_SERVICE = ("apps", "insight-ai")


def load_stack(server: OpenBao, stack: str) -> dict[str, tuple[str, list[str]]]:
    """Mount and policies from the recording; returns role -> (token, the KV v2 paths its secrets live at)."""
    resources = run_stack(stack)
    mount = one(resources, "vault:index/mount:Mount", "vault-config-kv")
    server.ok("POST", f"sys/mounts/{mount['path']}", {"type": mount["type"], "options": mount["options"]})
    for policy in of_type(resources, POLICY):
        server.ok("PUT", f"sys/policies/acl/{policy.properties['name']}", {"policy": policy.properties["policy"]})
    auths = {(a.properties["metadata"]["namespace"], a.properties["metadata"]["name"]): a.properties["spec"]
             for a in of_type(resources, VAULT_AUTH)}
    paths: dict[str, list[str]] = {}
    for secret in of_type(resources, VSS):
        spec, ns = secret.properties["spec"], secret.properties["metadata"]["namespace"]
        role = auths[(ns, spec["vaultAuthRef"])]["kubernetes"]["role"]
        paths.setdefault(role, []).append(f"{spec['mount']}/data/{spec['path']}")
    roles = {r.properties["roleName"]: r.properties for r in of_type(resources, ROLE)}
    assert set(roles) == set(paths), "every role delivers secrets and every delivery has a role"
    return {name: (server.token_for(role["tokenPolicies"]), paths[name]) for name, role in roles.items()}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_client_token_reads_exactly_its_own_paths(openbao: OpenBao, stack: str) -> None:
    clients = load_stack(openbao, stack)
    assert {"apps-orders-api", "storage-minio", "observability-grafana"} <= set(clients)
    every_path = [p for _, paths in clients.values() for p in paths]
    for role, (token, own) in clients.items():
        for path in every_path:
            expected = ["read"] if path in own else ["deny"]
            assert openbao.capabilities(token, path) == expected, f"{role} on {path}"
        for path in own:
            assert openbao.capabilities(token, path.replace("/data/", "/metadata/", 1)) == ["deny"]
            assert openbao.capabilities(token, path.rsplit("/", 1)[0] + "/other") == ["deny"]


def test_a_client_reads_its_secret_and_is_refused_anothers(openbao: OpenBao) -> None:
    clients = load_stack(openbao, "dev")
    for _, paths in clients.values():
        for path in paths:
            openbao.ok("POST", path, {"data": {"value": f"for {path}"}})
    orders_token, orders_paths = clients["apps-orders-api"]
    status, answer = openbao.request("GET", orders_paths[0], token=orders_token)
    assert status == 200 and answer["data"]["data"]["value"] == f"for {orders_paths[0]}"
    status, _ = openbao.request("GET", clients["storage-minio"][1][0], token=orders_token)
    assert status == 403
    status, _ = openbao.request("POST", orders_paths[0], {"data": {"value": "overwrite"}}, token=orders_token)
    assert status == 403  # read only: a client cannot change its own secret


def test_the_ai_class_gets_nothing(openbao: OpenBao) -> None:
    clients = load_stack(openbao, "dev")
    resources = run_stack("dev")
    namespace, name = AI_SERVICE
    for role in of_type(resources, ROLE):
        assert name not in role.properties["boundServiceAccountNames"]
    # Without a role an AI pod holds no policy; an empty list would inherit root's, so name an absent one.
    bare = openbao.token_for(["no-policy-exists-for-ai"])
    for _, paths in clients.values():
        for path in paths:
            assert openbao.capabilities(bare, path) == ["deny"]
    ai_path = f"kv/data/{namespace}/{name}/anything"
    for token, _ in clients.values():
        assert openbao.capabilities(token, ai_path) == ["deny"]
