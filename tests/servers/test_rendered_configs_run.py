"""The rendered Prometheus configuration passes the real `promtool check config`, and the rendered Redis
command line starts the real redis-server with exactly its transport-only settings. Only addresses and
paths are rewritten, by tests.servers.loopback.to_loopback."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import jsonschema
import pytest
import redis
import yaml

from cdb_ops.events.localservers import free_port
from components.observability import configs
from tests import schemas
from tests.servers.loopback import LoopbackRewriteError, to_loopback
from tests.servers.rendered import container, manifest

pytestmark = pytest.mark.servers


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is missing: install the Debian package prometheus (scripts/ensure-test-servers.sh does)",
                    pytrace=False)
    return found


def prometheus_yml(stack: str, tmp_path: Path) -> Path:
    """The rendered prometheus.yml with the in-cluster ServiceAccount folder moved to a temporary one
    (promtool checks that the token and CA files the kubelet jobs name exist)."""
    text = manifest(stack, "observability", "ConfigMap", "prometheus-config")["data"]["prometheus.yml"]
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("token")
    (account / "ca.crt").write_text("")
    out = tmp_path / "prometheus.yml"
    out.write_text(to_loopback(text, {configs.SA_DIR: str(account)}))
    return out


# Debian builds Prometheus without some service discovery plugins (Kubernetes among them): its promtool
# refuses `kubernetes_sd_configs` as an unknown field, whatever the rest of the file says.
NO_KUBERNETES_SD = "field kubernetes_sd_configs not found in type config.ScrapeConfig"
SCHEMA = Path(__file__).parent / "data" / "prometheus.schema.json"


def promtool_check(path: Path) -> tuple[int, list[str]]:
    done = subprocess.run([promtool(), "check", "config", str(path)], capture_output=True, text=True, timeout=60)
    lines = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return done.returncode, lines


def only_missing_kubernetes_sd(path: Path, code: int, lines: list[str]) -> bool:
    """Whether promtool's whole answer is exactly Debian's missing-plugin refusal: the two header lines,
    then one `line N: field kubernetes_sd_configs not found ...` for each line N of the file that holds a
    `kubernetes_sd_configs` key, in order, and nothing else (any other error, even one more unknown
    field, makes this False)."""
    keys = [n for n, text in enumerate(path.read_text().splitlines(), start=1)
            if text.strip().startswith("kubernetes_sd_configs:")]
    expected = [f"Checking {path}", f"FAILED: parsing YAML file {path}: yaml: unmarshal errors:",
                *(f"line {n}: {NO_KUBERNETES_SD}" for n in keys)]
    return code != 0 and bool(keys) and lines == expected


def promtool_has_kubernetes_sd(tmp_path: Path) -> bool:
    probe = tmp_path / "probe.yml"
    probe.write_text(yaml.safe_dump({"scrape_configs": [{"job_name": "probe", "kubernetes_sd_configs": [{"role": "pod"}]}]}))
    code, lines = promtool_check(probe)
    assert code == 0 or only_missing_kubernetes_sd(probe, code, lines), lines
    return code == 0


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_rendered_prometheus_config_passes_promtool(stack: str, tmp_path: Path) -> None:
    """Clean with a promtool that has Kubernetes discovery; with Debian's build, its only complaint
    must be that missing plugin, once per discovered job (any other error fails the test)."""
    path = prometheus_yml(stack, tmp_path)
    data = yaml.safe_load(path.read_text())
    discovered = [job for job in data["scrape_configs"] if "kubernetes_sd_configs" in job]
    code, lines = promtool_check(path)
    if promtool_has_kubernetes_sd(tmp_path):
        assert code == 0, lines
    else:
        assert discovered and only_missing_kubernetes_sd(path, code, lines), lines
    jobs = {job["job_name"] for job in data["scrape_configs"]}
    assert {"kubelet", "cadvisor", "vault", "flux", "flux-operator", "nats", "minio", "orders-api"} <= jobs


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_rendered_prometheus_config_matches_the_prometheus_config_schema(stack: str, tmp_path: Path) -> None:
    """Every field, Kubernetes discovery included, is one Prometheus knows (unknown keys are refused)."""
    data = yaml.safe_load(prometheus_yml(stack, tmp_path).read_text())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in schemas.validator(SCHEMA, draft=jsonschema.Draft7Validator).iter_errors(data)]
    assert errors == []


def test_the_schema_check_refuses_a_misspelt_discovery_field(tmp_path: Path) -> None:
    data = yaml.safe_load(prometheus_yml("prod", tmp_path).read_text())
    nats = next(job for job in data["scrape_configs"] if job["job_name"] == "nats")
    nats["kubernetes_sd_configs"][0]["namespace"] = nats["kubernetes_sd_configs"][0].pop("namespaces")
    assert list(schemas.validator(SCHEMA, draft=jsonschema.Draft7Validator).iter_errors(data))


def test_the_debian_tolerance_refuses_any_other_promtool_error(tmp_path: Path) -> None:
    """One more unknown field next to the missing plugin is not tolerated, with the real promtool."""
    path = prometheus_yml("prod", tmp_path)
    data = yaml.safe_load(path.read_text())
    data["scrape_configs"][0]["scrape_intervall"] = "30s"
    path.write_text(yaml.safe_dump(data))
    code, lines = promtool_check(path)
    assert code != 0 and not only_missing_kubernetes_sd(path, code, lines), lines


def test_the_debian_tolerance_matches_the_refusal_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yml"
    path.write_text("scrape_configs:\n- job_name: a\n  kubernetes_sd_configs:\n  - role: pod\n")
    head = [f"Checking {path}", f"FAILED: parsing YAML file {path}: yaml: unmarshal errors:"]
    assert only_missing_kubernetes_sd(path, 1, [*head, f"line 3: {NO_KUBERNETES_SD}"])
    assert not only_missing_kubernetes_sd(path, 0, [*head, f"line 3: {NO_KUBERNETES_SD}"])  # a pass is not a refusal
    assert not only_missing_kubernetes_sd(path, 1, [*head, f"line 2: {NO_KUBERNETES_SD}"])  # not where the key is
    assert not only_missing_kubernetes_sd(path, 1, [*head, f"line 3: {NO_KUBERNETES_SD} (and more)"])
    assert not only_missing_kubernetes_sd(path, 1, [*head, f"line 3: {NO_KUBERNETES_SD}", "line 4: unknown role"])
    assert not only_missing_kubernetes_sd(path, 1, [f"Checking {path}", f"FAILED: {path}: unmarshal errors in relabel",
                                                    f"line 3: {NO_KUBERNETES_SD}"])


def test_promtool_refuses_a_config_it_cannot_load(tmp_path: Path) -> None:
    """The promtool check can fail on something other than the missing plugin: a bad relabel action."""
    path = prometheus_yml("prod", tmp_path)
    data = yaml.safe_load(path.read_text())
    data["scrape_configs"][0]["relabel_configs"] = [{"action": "kept", "source_labels": ["job"]}]
    path.write_text(yaml.safe_dump(data))
    code, lines = promtool_check(path)
    assert code != 0 and any("kept" in line for line in lines), lines


def test_the_rendered_redis_command_line_starts_redis_server_with_its_transport_settings(tmp_path: Path) -> None:
    rendered = container(manifest("dev", "event-bus", "Deployment", "redis"), "redis")
    argv = [*rendered["command"], *rendered["args"]]
    port = free_port()
    local = to_loopback(argv, {"0.0.0.0:6379": f"127.0.0.1:{port}"})
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is missing: scripts/ensure-test-servers.sh installs it", pytrace=False)
    proc = subprocess.Popen([binary, *local[1:]], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)
    try:
        deadline = time.monotonic() + 10
        while True:
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server never answered"
                time.sleep(0.05)
        flags = dict(zip(rendered["args"][::2], rendered["args"][1::2]))
        got = {key: client.config_get(key)[key] for key in ("save", "appendonly", "maxmemory", "maxmemory-policy", "protected-mode")}
        assert got == {"save": flags["--save"], "appendonly": flags["--appendonly"], "maxmemory": flags["--maxmemory"],
                       "maxmemory-policy": flags["--maxmemory-policy"], "protected-mode": flags["--protected-mode"]}
        assert client.config_get("bind")["bind"] == "127.0.0.1"
        client.set("orders.v1.created", "{}")
        client.shutdown()  # no RDB on shutdown: save is ''
    except redis.ConnectionError:
        pass  # shutdown closes the connection
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(10)
    assert not (tmp_path / "dump.rdb").exists()


def test_the_loopback_rewrite_refuses_anything_but_addresses_and_paths() -> None:
    with pytest.raises(LoopbackRewriteError, match="neither"):
        to_loopback("replicas: 3", {"replicas: 3": "replicas: 1"})
    with pytest.raises(LoopbackRewriteError, match="does not occur"):
        to_loopback('listen: "0.0.0.0:4222"', {"0.0.0.0:4223": "127.0.0.1:5000"})
    with pytest.raises(LoopbackRewriteError, match="127.0.0.1"):
        to_loopback('listen: "0.0.0.0:4222"', {"0.0.0.0:4222": "10.0.0.1:4222"})
    assert to_loopback('a "/data" b "/data/x" c "/database"', {"/data": "/tmp/d"}) == 'a "/tmp/d" b "/tmp/d/x" c "/database"'
    hcl = 'address = "[::]:8200"\nleader_api_addr = "http://vault-0.vault-internal:8200"\n'
    assert to_loopback(hcl, {"[::]:8200": "127.0.0.1:18200", "vault-0.vault-internal:8200": "127.0.0.1:18200"}) == (
        'address = "127.0.0.1:18200"\nleader_api_addr = "http://127.0.0.1:18200"\n')
