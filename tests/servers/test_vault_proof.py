"""Proof on a real OpenBao server: the ACL policies `cdb vault configure` applies give each client exactly
the KV paths its VaultStaticSecrets read, and the AI class nothing.

The server is configured by the applier itself (mount, policies, roles, from the stack's plan); the token
of each role carries the policies the server stored for that role; the expected paths come independently
from the VaultStaticSecrets the operator would sync (the program's recorded registrations).
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from cdb_ops import secret_store
from tests.servers.test_openbao_cluster import cluster_ca
from tests.servers.vault_fixtures import ROOT_TOKEN, OpenBao, openbao  # noqa: F401 (fixture)
from tests.stack.platform_stack import ROOT, VAULT_AUTH, VSS, of_type, run_stack

pytestmark = pytest.mark.servers
AI_SERVICE = ("apps", "insight-ai")


@pytest.fixture(autouse=True)
def _configure_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAO_TOKEN", ROOT_TOKEN)  # how an operator hands `cdb vault configure` its token


def load_stack(server: OpenBao, stack: str) -> dict[str, tuple[str, list[str]]]:
    """`cdb vault configure`'s applier on the dev server; returns role -> (token, the KV v2 paths it reads)."""
    resources = run_stack(stack)
    target = secret_store.stack_target(ROOT, stack)
    target = dataclasses.replace(target, config=target.config.model_copy(update={"kubernetes_ca_cert": cluster_ca()}))
    client = secret_store.connect(server.address)
    assert secret_store.configure(client, target).changes
    auths = {(a.properties["metadata"]["namespace"], a.properties["metadata"]["name"]): a.properties["spec"]
             for a in of_type(resources, VAULT_AUTH)}
    paths: dict[str, list[str]] = {}
    for secret in of_type(resources, VSS):
        spec, ns = secret.properties["spec"], secret.properties["metadata"]["namespace"]
        role = auths[(ns, spec["vaultAuthRef"])]["kubernetes"]["role"]
        paths.setdefault(role, []).append(f"{spec['mount']}/data/{spec['path']}")
    listed = server.ok("LIST", f"auth/{target.config.auth_mount}/role")["data"]["keys"]
    roles = {name: server.ok("GET", f"auth/{target.config.auth_mount}/role/{name}")["data"] for name in listed}
    assert set(roles) == set(paths), "every role delivers secrets and every delivery has a role"
    return {name: (server.token_for(role["token_policies"]), paths[name]) for name, role in roles.items()}


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
    namespace, name = AI_SERVICE
    for role in clients:
        bound = openbao.ok("GET", f"auth/kubernetes/role/{role}")["data"]["bound_service_account_names"]
        assert name not in bound
    # Without a role an AI pod holds no policy; an empty list would inherit root's, so name an absent one.
    bare = openbao.token_for(["no-policy-exists-for-ai"])
    for _, paths in clients.values():
        for path in paths:
            assert openbao.capabilities(bare, path) == ["deny"]
    ai_path = f"kv/data/{namespace}/{name}/anything"
    for token, _ in clients.values():
        assert openbao.capabilities(token, ai_path) == ["deny"]


def test_the_runbooks_configuration_policy_is_enough_to_configure_and_check(openbao: OpenBao,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The `cdb-configure` policy in docs/openbao-runbook.md, loaded as written, replaces the root token."""
    runbook = (ROOT / "docs" / "openbao-runbook.md").read_text()
    policy = re.search(r"```hcl\n# policy cdb-configure\n(.*?)```", runbook, re.S).group(1)
    openbao.ok("PUT", "sys/policies/acl/cdb-configure", {"policy": policy})
    monkeypatch.setenv("BAO_TOKEN", openbao.token_for(["cdb-configure"]))
    target = secret_store.stack_target(ROOT, "prod")
    target = dataclasses.replace(target, config=target.config.model_copy(update={"kubernetes_ca_cert": cluster_ca()}))
    client = secret_store.connect(openbao.address)
    outcome = secret_store.configure(client, target)
    assert len(outcome.changes) == 10 and outcome.undeclared == ["policy cdb-configure"]
    assert secret_store.configure(client, target).changes == []
    assert len(secret_store.missing_secrets(client, target)) == 3
