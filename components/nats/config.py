"""The nats-server configuration file of a JetStream cluster, rendered from typed arguments.

Pure functions, so tests can hand the very same text to a real `nats-server -t` and prove it parses.
The server name comes from the pod name at start (`$SERVER_NAME`, an environment reference that
nats-server resolves), so one ConfigMap serves every pod of the StatefulSet.
"""

from __future__ import annotations

import hashlib

CLIENT_PORT = 4222
CLUSTER_PORT = 6222
MONITOR_PORT = 8222
# The Prometheus exporter runs beside every server (as the upstream chart's promExporter does), reads
# that server's monitor port on localhost and serves Prometheus metrics here: one target per server.
EXPORTER_PORT = 7777
CONFIG_DIR = "/etc/nats-config"
CONFIG_FILE = "nats.conf"
DATA_DIR = "/data"
PID_DIR = "/var/run/nats"
PID_FILE = f"{PID_DIR}/nats.pid"
SERVER_NAME_ENV = "SERVER_NAME"
# Lame-duck mode drains clients before a pod stops; the grace period must cover both durations.
LAME_DUCK_DURATION_SECONDS = 30
LAME_DUCK_GRACE_SECONDS = 10


def headless_service(name: str) -> str:
    return f"{name}-headless"


def route_urls(name: str, namespace: str, replicas: int, cluster_domain: str = "cluster.local") -> list[str]:
    """One route per StatefulSet pod, by its stable DNS name (a server skips the route to itself)."""
    host = f"{headless_service(name)}.{namespace}.svc.{cluster_domain}"
    return [f"nats://{name}-{index}.{host}:{CLUSTER_PORT}" for index in range(replicas)]


def render(
    name: str,
    namespace: str,
    replicas: int,
    max_file_store_bytes: int,
    *,
    store_dir: str = DATA_DIR,
    pid_file: str = PID_FILE,
    cluster_domain: str = "cluster.local",
) -> str:
    """nats.conf: client, monitor and (with more than one replica) cluster listeners, JetStream on file.

    `max_memory_store: 0` leaves no memory for memory-backed streams, so even a stream created
    past the operator (by a client) cannot keep events only in RAM.
    """
    lines = [
        "# Rendered by cdb-infra (components/nats); an edit here is drift, change the stack settings.",
        f"server_name: ${SERVER_NAME_ENV}",
        f'listen: "0.0.0.0:{CLIENT_PORT}"',
        f'http: "0.0.0.0:{MONITOR_PORT}"',
        f'pid_file: "{pid_file}"',
        f'lame_duck_duration: "{LAME_DUCK_DURATION_SECONDS}s"',
        f'lame_duck_grace_period: "{LAME_DUCK_GRACE_SECONDS}s"',
        "jetstream {",
        f'  store_dir: "{store_dir}"',
        f"  max_file_store: {max_file_store_bytes}",
        "  max_memory_store: 0",
        "}",
    ]
    if replicas > 1:
        lines += [
            "cluster {",
            f'  name: "{name}"',
            f'  listen: "0.0.0.0:{CLUSTER_PORT}"',
            "  routes: [",
            *[f'    "{url}"' for url in route_urls(name, namespace, replicas, cluster_domain)],
            "  ]",
            "}",
        ]
    return "\n".join(lines) + "\n"


def digest(text: str) -> str:
    """Short content hash, put on the pod template so a changed config rolls the pods."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]
