"""Policy configuration as the Pulumi CLI reconciles it before `Configure` (the SDK does none of it):
schema defaults < the pack's initial config < the config file (`all` first, then per policy), then
every policy's properties validated against its schema. Errors read like the CLI's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from cdb_core.errors import CdbError

LEVELS = {"advisory": 0, "mandatory": 1, "disabled": 2, "remediate": 3}


def load_policy_config(path: str | Path) -> dict:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CdbError(f"{path}: policy config file not found") from None
    except json.JSONDecodeError as exc:
        raise CdbError(f"{path}:{exc.lineno}: malformed JSON: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise CdbError(f"{path}:1: not UTF-8 text ({exc.reason}); save the policy config as UTF-8") from None
    except RecursionError:
        raise CdbError(f"{path}:1: JSON nested too deeply to be a policy config; flatten it") from None
    except OSError as exc:
        raise CdbError(f"{path}: cannot read the policy config ({exc.strerror})") from None
    if not isinstance(data, dict):
        raise CdbError(f"{path}: expected a JSON object of policy names to levels or settings")
    return data


def _level(value: Any, where: str) -> int:
    if value not in LEVELS:
        raise CdbError(f"validating policy config: {where}: enforcement level must be one of {', '.join(LEVELS)}")
    return LEVELS[value]


def reconcile(info, file_config: dict | None, pack_label: str) -> dict[str, tuple[int, dict]]:
    """Return `{policy: (enforcement level, properties)}` for every policy of the pack."""
    policies = {p.name: p for p in info.policies}
    result: dict[str, tuple[int, dict]] = {}
    for name, p in policies.items():
        schema = json_format.MessageToDict(p.configSchema.properties) if p.HasField("configSchema") else {}
        props = {k: v["default"] for k, v in schema.items() if isinstance(v, dict) and "default" in v}
        result[name] = (p.enforcementLevel, props)
    for name, cfg in info.initialConfig.items():
        if name in result:
            result[name] = (cfg.enforcementLevel, {**result[name][1], **json_format.MessageToDict(cfg.properties)})

    config = dict(file_config or {})
    if "all" in config:
        level = _level(config.pop("all"), f"{pack_label}  all")
        result = {name: (level, props) for name, (_, props) in result.items()}
    for name, value in config.items():
        if name not in result:
            raise CdbError(f"validating policy config: {pack_label}  {name}: no such policy in the pack")
        level, props = result[name]
        if isinstance(value, str):
            level = _level(value, f"{pack_label}  {name}")
        elif isinstance(value, dict):
            value = dict(value)
            if "enforcementLevel" in value:
                level = _level(value.pop("enforcementLevel"), f"{pack_label}  {name}")
            props = {**props, **value}
        else:
            raise CdbError(f"validating policy config: {pack_label}  {name}: expected a level or an object")
        result[name] = (level, props)

    for name, (_, props) in result.items():
        p = policies[name]
        if not p.HasField("configSchema"):
            continue
        import jsonschema  # here: a tenth of a second that packs without config schemas need not pay

        schema = {
            "type": "object",
            "properties": json_format.MessageToDict(p.configSchema.properties),
            "required": list(p.configSchema.required),
        }
        error = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(schema).iter_errors(props))
        if error is not None:
            where = ".".join(str(x) for x in error.absolute_path) or "(root)"
            raise CdbError(f"validating policy config: {pack_label}  {name}: {where}: {error.message}")
    return result
