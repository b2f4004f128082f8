"""The rendered OpenBao StatefulSet, moved onto 127.0.0.1: the one place where a test may change it.

`loopback_member` takes what the stack renders for member `index` (the ConfigMap's config.hcl, the server
container's command, args and env) and rewrites **addresses and paths only**:
- listener and cluster addresses `[::]:8200/8201` and `127.0.0.1:8200` -> 127.0.0.1 on free ports,
- the peers' DNS names `<sts>-<i>.<sts>-internal[.<ns>.svc.cluster.local]:<port>` -> 127.0.0.1 ports,
- the pod fields the kubelet fills (`status.podIP`, `metadata.name`) -> 127.0.0.1 and the pod name,
- the mount points `/vault/...` and `/home/vault` -> folders below the test's directory.
Everything else (seal, retry_join, audit device, telemetry, command) runs as rendered. Anything left that
only resolves inside a cluster fails loudly, so a new in-cluster address must be added here on purpose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

API, CLUSTER = 8200, 8201
MOUNTS = ("/vault/data", "/vault/audit", "/vault/unseal", "/vault/config", "/vault/tls", "/home/vault")
POD_FIELDS = {"status.podIP": "127.0.0.1"}


@dataclass(frozen=True)
class Ports:
    api: tuple[int, ...]
    cluster: tuple[int, ...]


def mount_dir(root: Path, index: int, mount: str) -> Path:
    """Where a member's `mount` lives on loopback; shared mounts (unseal key, config) are per member too."""
    return root / f"member-{index}" / mount.strip("/").replace("/", "-")


def _rewrite(text: str, sts: str, index: int, ports: Ports, root: Path) -> str:
    def peer(match: re.Match[str]) -> str:
        member, port = int(match.group(1)), int(match.group(2))
        return f"127.0.0.1:{(ports.api if port == API else ports.cluster)[member]}"

    text = re.sub(rf"\b{re.escape(sts)}-(\d+)\.{re.escape(sts)}-internal(?:\.[a-z0-9-]+\.svc\.cluster\.local)?:(\d+)",
                  peer, text)
    for host in (r"\[::\]", r"127\.0\.0\.1", r"0\.0\.0\.0"):
        text = re.sub(rf"{host}:{API}\b", f"127.0.0.1:{ports.api[index]}", text)
        text = re.sub(rf"{host}:{CLUSTER}\b", f"127.0.0.1:{ports.cluster[index]}", text)
    for mount in MOUNTS:
        text = re.sub(rf"{re.escape(mount)}(?=/|\"|$|\s)", str(mount_dir(root, index, mount)), text)
    return text


def _env(env: list[dict[str, Any]], pod_name: str) -> dict[str, str]:
    """The container's env as the kubelet resolves it: field refs first, then $(VAR) references in order."""
    out: dict[str, str] = {}
    for item in env:
        if "valueFrom" in item:
            path = item["valueFrom"]["fieldRef"]["fieldPath"]
            out[item["name"]] = pod_name if path == "metadata.name" else POD_FIELDS[path]
        else:
            out[item["name"]] = re.sub(r"\$\((\w+)\)", lambda m: out.get(m.group(1), m.group(0)), item["value"])
    return out


def loopback_member(config_hcl: str, container: dict[str, Any], sts: str, index: int, ports: Ports,
                    root: Path) -> tuple[list[str], dict[str, str], Path]:
    """(argv, env, config file) for member `index`; the rendered values with addresses and paths rewritten."""
    for mount in MOUNTS:
        mount_dir(root, index, mount).mkdir(parents=True, exist_ok=True)
    config = _rewrite(config_hcl, sts, index, ports, root)
    env = {k: _rewrite(v, sts, index, ports, root) for k, v in _env(container.get("env", []), f"{sts}-{index}").items()}
    argv = [_rewrite(word, sts, index, ports, root) for word in container["command"] + container.get("args", [])]
    leftovers = [t for t in (config, *env.values(), *argv) if re.search(r"svc\.cluster\.local|\[::\]|-internal\b", t)]
    assert not leftovers, f"in-cluster addresses left after the loopback rewrite: {leftovers}"
    config_file = mount_dir(root, index, "/vault/config") / "config.hcl"
    config_file.write_text(config)
    return argv, env, config_file
