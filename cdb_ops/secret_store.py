"""Apply the stack's OpenBao/Vault configuration over the HTTP API, and report the secrets it still lacks.

Why not pulumi-vault inside `pulumi up`: on an empty cluster the server is not initialised before the key
ceremony, and CI usually cannot resolve in-cluster DNS. `cdb vault configure` runs afterwards from any
place that reaches the API (a port-forward, or `secrets.configure.address`), with the token in BAO_TOKEN or
VAULT_TOKEN. The desired state is `components.vault_config.desired_state` of the same plan the program
builds, so the two cannot drift. Every step is idempotent: enabled engines are left alone, writes are
compared first and only differences are written.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hvac
import requests
import yaml

from cdb_core.errors import CdbError
from components.vault_config import VaultConfigArgs, desired_state

TOKEN_ENV = ("BAO_TOKEN", "VAULT_TOKEN")
ADDRESS_ENV = ("BAO_ADDR", "VAULT_ADDR")
CA_ENV = ("BAO_CACERT", "VAULT_CACERT")
BUILTIN_POLICIES = frozenset(("root", "default"))


@dataclass
class Outcome:
    changes: list[str] = field(default_factory=list)  # what was (or, dry run, would be) written
    unchanged: int = 0
    undeclared: list[str] = field(default_factory=list)  # policies/roles on the server the stack does not declare
    problems: list[str] = field(default_factory=list)  # what configure cannot fix itself


@dataclass(frozen=True)
class Target:
    config: VaultConfigArgs
    clients: tuple[Any, ...]
    address: str | None  # the stack's configure.address


def stack_target(project_dir: str | Path, stack: str) -> Target:
    """The configuration the stack declares (settings -> plan, nothing built, no engine run)."""
    from cdb_core.project import load_project
    from cdb_stack.settings import parse_settings
    from cdb_stack.stack import plan_stack

    project = load_project(project_dir, stack)
    source = f"Pulumi.{stack}.yaml"
    return plan_target(plan_stack(parse_settings(project.config, source=source), project.name, stack, source=source))


def plan_target(plan: Any) -> Target:
    """The configuration a `cdb_stack.stack.StackPlan` declares."""
    from cdb_stack.parts import secrets

    planned = plan.parts[secrets.KEY]
    return Target(planned.config, secrets.vault_clients(plan.parts), planned.configure.address)


def desired_state_of(target: Target) -> dict[str, Any]:
    return desired_state(target.config, target.clients)


def connect(address: str | None, ca_file: str | None = None) -> hvac.Client:
    address = address or next((os.environ[k] for k in ADDRESS_ENV if os.environ.get(k)), None)
    if not address:
        raise CdbError("no API address: pass --address, set secrets.configure.address, or BAO_ADDR")
    token = next((os.environ[k] for k in TOKEN_ENV if os.environ.get(k)), None)
    if not token:
        raise CdbError("no token: set BAO_TOKEN (or VAULT_TOKEN) to a token allowed to configure the server "
                       "(docs/openbao-runbook.md, step 'configure')")
    ca = ca_file or next((os.environ[k] for k in CA_ENV if os.environ.get(k)), None)
    return hvac.Client(url=address, token=token, verify=ca or True, timeout=15)


# A KV v2 mount answers this for a moment after it is enabled (or upgraded); the call succeeds once it is done.
KV_UPGRADING = "Upgrading from non-versioned to versioned data"
UPGRADE_WAIT_SECONDS = 60.0


def _call(what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """One API call; transport and API errors become one-line CdbErrors naming the call."""
    deadline = time.monotonic() + UPGRADE_WAIT_SECONDS
    while True:
        try:
            return _once(what, fn, *args, **kwargs)
        except CdbError as exc:
            if KV_UPGRADING not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _once(what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except hvac.exceptions.Forbidden:
        raise CdbError(f"{what}: permission denied; the token needs the rights listed in docs/openbao-runbook.md") from None
    except hvac.exceptions.VaultError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CdbError(f"{what}: {first}") from None
    except requests.RequestException as exc:
        raise CdbError(f"{what}: cannot reach the API ({type(exc).__name__}); check --address and the network "
                       "path (the vault zone admits only configure.fromCidrs and port-forwards)") from None


def ready(client: hvac.Client) -> None:
    status = _call("sys/seal-status", client.sys.read_seal_status)
    if not status.get("initialized"):
        raise CdbError("the server is not initialised; run the key ceremony first (docs/openbao-runbook.md)")
    if status.get("sealed"):
        raise CdbError("the server is sealed; check the unseal key Secret and the pods' logs (docs/openbao-runbook.md)")


def _same(want: Any, have: Any) -> bool:
    if isinstance(want, dict):
        return isinstance(have, dict) and all(_same(v, have.get(k)) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and sorted(map(str, want)) == sorted(map(str, have))
    return str(want) == str(have)


def _enabled(client: hvac.Client, kind: str) -> dict[str, Any]:
    listing = {"mounts": client.sys.list_mounted_secrets_engines, "audit": client.sys.list_enabled_audit_devices,
               "auth": client.sys.list_auth_methods}[kind]
    answer = _call(f"list {kind}", listing)
    data = answer.get("data", answer) if isinstance(answer, dict) else {}
    return {k.rstrip("/"): v for k, v in data.items() if isinstance(v, dict)}


def _enable(client: hvac.Client, kind: str, path: str, spec: dict[str, Any]) -> None:
    if kind == "mounts":
        _call(f"enable {path}", client.sys.enable_secrets_engine, backend_type=spec["type"], path=path,
              options=spec.get("options"), description=spec.get("description"))
    elif kind == "audit":
        _call(f"enable audit {path}", client.sys.enable_audit_device, device_type=spec["type"], path=path,
              options=spec.get("options"), description=spec.get("description"))
    else:
        _call(f"enable auth {path}", client.sys.enable_auth_method, method_type=spec["type"], path=path,
              description=spec.get("description"))


def configure(client: hvac.Client, target: Target, dry_run: bool = False) -> Outcome:
    """Apply the stack's configuration; a dry pass first, so a conflict stops the run before any write."""
    ready(client)
    planned = _configure(client, target, dry_run=True)
    return planned if dry_run or not planned.changes else _configure(client, target, dry_run=False)


def _configure(client: hvac.Client, target: Target, dry_run: bool) -> Outcome:
    want, out = desired_state_of(target), Outcome()
    for kind in ("mounts", "audit", "auth"):
        have = _enabled(client, kind)
        for path, spec in want[kind].items():
            if path not in have:
                out.changes.append(f"enable {kind} {path} ({spec['type']})")
                if not dry_run:
                    _enable(client, kind, path, spec)
            elif have[path].get("type") != spec["type"]:
                raise CdbError(f"{kind} {path}: is a {have[path].get('type')!r}, the stack wants {spec['type']!r}; "
                               "move one of them (a different path in the stack settings)")
            else:
                out.unchanged += 1
    audits = _enabled(client, "audit")
    for path, spec in want["audit_declared"].items():
        have = audits.get(path)
        if not have or have.get("type") != spec["type"]:  # its file path is the server's own (config file)
            out.problems.append(f"audit device {path!r} ({spec['type']}) is declared in the server config but the "
                                "server does not run it; roll the pods to load the rendered config")
    for path, body in want["writes"].items():
        current = _call(f"read {path}", client.read, path)  # None when absent (also under a mount not yet enabled)
        if current is not None and _same(body, current.get("data", {})):
            out.unchanged += 1
            continue
        out.changes.append(f"{'create' if current is None else 'update'} {path}")
        if not dry_run:
            _call(f"write {path}", client.write_data, path, data=body)
    out.undeclared = _undeclared(client, target, want)
    return out


def _undeclared(client: hvac.Client, target: Target, want: dict[str, Any]) -> list[str]:
    """Policies and roles on the server that the stack does not declare (reported, never deleted)."""
    declared = set(want["writes"])
    found = []
    policies = _call("list policies", client.sys.list_acl_policies)
    for name in (policies.get("data", policies).get("keys") or []):
        if name not in BUILTIN_POLICIES and f"sys/policies/acl/{name}" not in declared:
            found.append(f"policy {name}")
    roles_path = f"auth/{target.config.auth_mount}/role"
    roles = _call(f"list {roles_path}", client.list, roles_path) or {}
    for name in (roles.get("data") or {}).get("keys") or []:
        if f"{roles_path}/{name}" not in declared:
            found.append(f"role {name}")
    return found


def missing_secrets(client: hvac.Client, target: Target) -> list[str]:
    """KV v2 paths the stack's clients read that hold no current value (never read: only metadata)."""
    ready(client)
    missing = []
    for data_path, role in desired_state_of(target)["secrets"].items():
        meta = data_path.replace("/data/", "/metadata/", 1)
        answer = _call(f"read {meta}", client.read, meta)
        versions = ((answer or {}).get("data") or {}).get("versions") or {}
        current = versions.get(str(((answer or {}).get("data") or {}).get("current_version")))
        if not current or current.get("deletion_time") or current.get("destroyed"):
            missing.append(f"{data_path} (read by {role})")
    return missing


def render_document(target: Target) -> str:
    """The desired state as YAML (`cdb vault configure --print`), for review without a server."""
    return yaml.safe_dump(desired_state(target.config, target.clients), sort_keys=True, width=120)
