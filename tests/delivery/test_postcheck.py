"""`cdb postcheck` against a loopback HTTP server that answers like the Kubernetes API list endpoints."""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cdb_ops.postcheck.kube import resolve_settings
from tests.delivery.conftest import free_port, run_cli

SHA = hashlib.sha1(b"rolled out change").hexdigest()
TOKEN = "postcheck-test-token"
PART_OF = {"app.kubernetes.io/part-of": "cdb"}


def kustomization(name: str, revision: str = f"main@sha1:{SHA}", ready: str = "True", reason="ReconciliationSucceeded"):
    return {"metadata": {"name": name, "namespace": "flux-system", "generation": 2},
            "spec": {"interval": "5m", "prune": True},
            "status": {"observedGeneration": 2, "lastAppliedRevision": revision,
                       "conditions": [{"type": "Ready", "status": ready, "reason": reason, "message": "applied"}]}}


def deployment(name: str, available: int = 2, replicas: int = 2, labels=PART_OF, namespace: str = "apps"):
    return {"metadata": {"name": name, "namespace": namespace, "generation": 1, "labels": labels},
            "spec": {"replicas": replicas},
            "status": {"observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas,
                       "availableReplicas": available,
                       "conditions": [{"type": "Available", "status": "True" if available >= replicas else "False"}]}}


def statefulset(name: str, ready: int = 3):
    return {"metadata": {"name": name, "namespace": "data", "generation": 4, "labels": PART_OF},
            "spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate"}},
            "status": {"observedGeneration": 4, "replicas": 3, "readyReplicas": ready, "availableReplicas": ready,
                       "updatedReplicas": 3, "currentRevision": "nats-7c9", "updateRevision": "nats-7c9"}}


def daemonset(name: str, available: int = 2):
    return {"metadata": {"name": name, "namespace": "observability", "generation": 1, "labels": PART_OF},
            "spec": {}, "status": {"observedGeneration": 1, "desiredNumberScheduled": 2, "numberAvailable": available,
                                   "updatedNumberScheduled": 2, "numberUnavailable": 2 - available}}


class FakeCluster:
    """Objects by (group/version, plural); answers list calls the way the API server does, including
    namespaced paths, label selectors, `limit`/`continue` paging and bearer-token checks."""

    def __init__(self):
        self.objects: dict[tuple[str, str], list[dict]] = {}
        self.requests: list[str] = []
        self.page_size = 2

    def set(self, group_version: str, plural: str, items: list[dict]) -> None:
        self.objects[(group_version, plural)] = items

    def answer(self, path: str, query: dict[str, str], auth: str | None) -> tuple[int, dict]:
        self.requests.append(path + "?" + urllib.parse.urlencode(query))
        if auth != f"Bearer {TOKEN}":
            return 401, {"kind": "Status", "code": 401, "reason": "Unauthorized"}
        parts = path.strip("/").split("/")
        group_version = "v1" if parts[0] == "api" else "/".join(parts[1:3])
        rest = parts[2:] if parts[0] == "api" else parts[3:]
        namespace = rest[1] if rest[0] == "namespaces" else None
        plural = rest[-1]
        if (group_version, plural) not in self.objects:
            return 404, {"kind": "Status", "code": 404, "reason": "NotFound"}
        items = [o for o in self.objects[(group_version, plural)]
                 if namespace in (None, o["metadata"].get("namespace"))]
        if query.get("labelSelector"):
            key, value = query["labelSelector"].split("=", 1)
            items = [o for o in items if (o["metadata"].get("labels") or {}).get(key) == value]
        start = int(query.get("continue", "0"))
        page = items[start:start + self.page_size]
        more = start + self.page_size < len(items)
        # Like the real API: list items carry no kind/apiVersion of their own.
        return 200, {"kind": "List", "apiVersion": group_version, "items": page,
                     "metadata": {"continue": str(start + self.page_size) if more else ""}}


@pytest.fixture
def cluster():
    state = FakeCluster()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            code, body = state.answer(url.path, query, self.headers.get("Authorization"))
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    state.set("kustomize.toolkit.fluxcd.io/v1", "kustomizations", [kustomization("flux-system"), kustomization("apps")])
    state.set("apps/v1", "deployments", [deployment("web"), deployment("api"), deployment("other", labels={})])
    state.set("apps/v1", "statefulsets", [statefulset("nats")])
    state.set("apps/v1", "daemonsets", [daemonset("promtail")])
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    return path


def postcheck(capsys, cluster, token_file, *extra: str):
    return run_cli(capsys, "postcheck", "--api-server", cluster.url, "--token-file", str(token_file), *extra)


def test_a_healthy_rollout_at_the_expected_revision_passes(capsys, cluster, token_file):
    cluster.page_size = 1  # every list takes several pages, followed by `continue`
    code, out, _ = postcheck(capsys, cluster, token_file, "--revision", SHA)
    assert code == 0, out
    assert "post-check passed: 6 object(s) healthy" in out  # 2 Kustomizations, 2 labelled Deployments, 1 + 1
    assert any(r.startswith("/apis/apps/v1/deployments?") and "continue=1" in r for r in cluster.requests)


def test_failing_objects_are_listed_and_exit_1(capsys, cluster, token_file):
    cluster.set("kustomize.toolkit.fluxcd.io/v1", "kustomizations", [
        kustomization("flux-system"),
        kustomization("apps", revision="main@sha1:0000000000000000000000000000000000000000"),
        kustomization("infra", ready="False", reason="HealthCheckFailed")])
    cluster.set("apps/v1", "deployments", [deployment("web", available=1)])
    cluster.set("apps/v1", "statefulsets", [statefulset("nats", ready=2)])
    cluster.set("apps/v1", "daemonsets", [daemonset("promtail", available=1)])
    code, out, _ = postcheck(capsys, cluster, token_file, "--revision", SHA[:12])
    assert code == 1
    assert "Kustomization flux-system/apps: Ready at revision 'main@sha1:0000000000000000000000000000000000000000', " \
           f"expected {SHA[:12]}" in out
    assert "Kustomization flux-system/infra: not Ready (HealthCheckFailed: applied)" in out
    assert "Deployment apps/web: 1/2 available" in out
    assert "StatefulSet data/nats: 2/3 ready" in out
    assert "DaemonSet observability/promtail: 1/2 available" in out
    assert "flux-system/flux-system" not in out
    assert "post-check FAILED: 5 problem(s)" in out


def test_stale_status_and_suspended_kustomization_are_not_healthy(capsys, cluster, token_file):
    stale = kustomization("apps")
    stale["metadata"]["generation"] = 3
    suspended = kustomization("paused")
    suspended["spec"]["suspend"] = True
    cluster.set("kustomize.toolkit.fluxcd.io/v1", "kustomizations", [stale, suspended])
    code, out, _ = postcheck(capsys, cluster, token_file)
    assert code == 1
    assert "Kustomization flux-system/apps: status not yet observed for generation 3" in out
    assert "Kustomization flux-system/paused: suspended" in out


def test_workloads_can_be_selected_by_namespace(capsys, cluster, token_file):
    cluster.set("apps/v1", "deployments", [deployment("web"), deployment("broken", available=0, namespace="other")])
    code, out, _ = postcheck(capsys, cluster, token_file, "--namespace", "apps", "--part-of", "cdb")
    assert code == 0, out
    assert any(r.startswith("/apis/apps/v1/namespaces/apps/deployments?") for r in cluster.requests)


def test_an_empty_selection_fails_closed(capsys, cluster, token_file):
    code, out, _ = postcheck(capsys, cluster, token_file, "--part-of", "nothing-here")
    assert code == 1 and "nothing to check" in out


def test_a_required_kustomization_that_does_not_exist_fails(capsys, cluster, token_file):
    code, out, _ = postcheck(capsys, cluster, token_file, "--flux-namespace", "flux-system",
                             "--kustomization", "apps", "--kustomization", "tenants")
    assert code == 1 and "Kustomization flux-system/tenants: not found" in out


def test_waiting_ends_when_flux_reaches_the_revision(capsys, cluster, token_file):
    old = kustomization("apps", revision="main@sha1:1111111111111111111111111111111111111111")
    cluster.set("kustomize.toolkit.fluxcd.io/v1", "kustomizations", [old])
    original = cluster.answer

    def advance(path, query, auth):
        if sum("/kustomizations?" in r for r in cluster.requests) >= 2:
            cluster.set("kustomize.toolkit.fluxcd.io/v1", "kustomizations", [kustomization("apps")])
        return original(path, query, auth)

    cluster.answer = advance
    code, out, _ = postcheck(capsys, cluster, token_file, "--revision", SHA, "--wait", "20", "--poll-interval", "0.1")
    assert code == 0, out


def test_a_refused_token_is_a_connection_error(capsys, cluster, tmp_path):
    wrong = tmp_path / "wrong"
    wrong.write_text("nope")
    code, _, err = postcheck(capsys, cluster, wrong)
    assert code == 2 and "HTTP 401: the token was refused" in err


def test_an_unreachable_api_server_exits_2_with_one_line(capsys, token_file):
    code, out, err = run_cli(capsys, "postcheck", "--api-server", f"http://127.0.0.1:{free_port()}",
                             "--token-file", str(token_file))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "cannot reach the API server" in err


def test_a_missing_flux_api_is_reported_not_passed(capsys, cluster, token_file):
    del cluster.objects[("kustomize.toolkit.fluxcd.io/v1", "kustomizations")]
    code, _, err = postcheck(capsys, cluster, token_file)
    assert code == 2 and "is the CRD installed?" in err


def test_in_cluster_defaults_come_from_the_service_account_environment():
    settings = resolve_settings(None, None, None, env={"KUBERNETES_SERVICE_HOST": "10.96.0.1",
                                                       "KUBERNETES_SERVICE_PORT": "443", "CDB_KUBE_TOKEN": "t"})
    assert settings.server == "https://10.96.0.1:443" and settings.token == "t"


def test_no_api_server_at_all_is_a_usage_error(capsys, monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("CDB_KUBE_API_SERVER", raising=False)
    code, _, err = run_cli(capsys, "postcheck")
    assert code == 2 and "--api-server" in err


def managed(*managers: tuple[str, str | None]) -> list[dict]:
    return [{"manager": m, "operation": "Apply" if sub is None else "Update", "apiVersion": "apps/v1",
             **({"subresource": sub} if sub else {})} for m, sub in managers]


def test_an_object_applied_by_both_pulumi_and_flux_is_a_problem(capsys, cluster, token_file):
    both = deployment("web")
    both["metadata"]["managedFields"] = managed(("pulumi-kubernetes-5f2c1a", None), ("kustomize-controller", None),
                                                ("kube-controller-manager", "status"))
    flux_only = deployment("api")
    flux_only["metadata"]["managedFields"] = managed(("kustomize-controller", None), ("kube-controller-manager", "status"))
    pulumi_only = statefulset("nats")
    # Flux writes the status of its own objects; that is no apply.
    pulumi_only["metadata"]["managedFields"] = managed(("pulumi-kubernetes-5f2c1a", None), ("kustomize-controller", "status"))
    cluster.set("apps/v1", "deployments", [both, flux_only])
    cluster.set("apps/v1", "statefulsets", [pulumi_only])
    code, out, _ = postcheck(capsys, cluster, token_file, "--revision", SHA)
    assert code == 1
    assert ("Deployment apps/web: applied by both Pulumi (pulumi-kubernetes-5f2c1a) and Flux (kustomize-controller)"
            in out)
    assert "apps/api" not in out and "data/nats" not in out
    assert "post-check FAILED: 1 problem(s)" in out
