"""Reads a Pulumi project the way the CLI does: `Pulumi.yaml` for the project and `Pulumi.<stack>.yaml`
for the stack's config, flattened to the `namespace:key -> string` form the language host passes on."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cdb_core import yaml_limits
from cdb_core.errors import CdbError

# The project's config namespace (`name` in Pulumi.yaml): stack settings are `cdb-infra:<key>`.
NAMESPACE = "cdb-infra"

# Offline there is no passphrase or service to decrypt `secure:` values: the program sees this text
# (marked secret) instead. Components never need a decrypted secret at preview time.
SECURE_PLACEHOLDER = "[secure value: not decrypted offline]"


@dataclass(frozen=True)
class Project:
    directory: Path
    name: str
    main: Path
    stack: str
    config: dict[str, str] = field(default_factory=dict)
    secret_keys: tuple[str, ...] = ()
    stack_file: Path | None = None


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CdbError(f"{path}: file not found") from None
    except OSError as exc:
        raise CdbError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return yaml_limits.load(text, str(path))
    except yaml_limits.YamlLimitError as exc:
        raise CdbError(str(exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CdbError(f"{where}: malformed YAML: {problem}") from None


def _config_value(value: Any) -> str:
    # The language host hands every value over as a string; objects and lists as JSON.
    if isinstance(value, str):
        return value
    return json.dumps(value)


def load_project(directory: str | Path, stack: str) -> Project:
    directory = Path(directory).resolve()
    project_file = directory / "Pulumi.yaml"
    if not project_file.is_file():
        raise CdbError(f"{project_file}: no Pulumi project here; run from the project root or pass --cwd DIR")
    meta = _read_yaml(project_file)
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        raise CdbError(f"{project_file}: needs a top-level `name:`")
    name = meta["name"]
    main = directory / str(meta.get("main", "")).strip() if meta.get("main") else directory
    if main.is_dir():
        main = main / "__main__.py"
    if not main.is_file():
        raise CdbError(f"{main}: the program's entry point is missing")

    config: dict[str, str] = {}
    secret_keys: list[str] = []
    # Project-level defaults first, then the stack file, as the CLI layers them.
    for key, spec in (meta.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        if isinstance(spec, dict) and "default" in spec:
            config[full] = _config_value(spec["default"])
        elif not isinstance(spec, dict):
            config[full] = _config_value(spec)

    stack_file = directory / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        known = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in directory.glob("Pulumi.*.yaml"))
        hint = f"known stacks: {', '.join(known)}" if known else "create it with a `config:` section"
        raise CdbError(f"{stack_file}: no such stack file; {hint}")
    data = _read_yaml(stack_file) or {}
    if not isinstance(data, dict):
        raise CdbError(f"{stack_file}: expected a mapping with a `config:` section")
    raw = data.get("config") or {}
    if not isinstance(raw, dict):
        raise CdbError(f"{stack_file}: `config:` must be a mapping of `namespace:key: value`")
    for key, value in raw.items():
        full = str(key) if ":" in str(key) else f"{name}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full] = SECURE_PLACEHOLDER
            secret_keys.append(full)
        else:
            config[full] = _config_value(value)
    return Project(directory, name, main, stack, config, tuple(secret_keys), stack_file)
