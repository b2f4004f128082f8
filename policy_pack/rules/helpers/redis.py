"""Clause 4.1: Redis is only a temporary transport, never persistence and never an audit sink.

Redis (and its fork Valkey) is found by image, with any registry, tag or digest. Its persistence is
resolved the way redis-server resolves it: command-line flags override the config file, which
overrides the built-in defaults, and the built-in default snapshots to disk (``save 3600 1 300 100
60 10000``). So a transport-only Redis says ``--save ""`` (or ``save ""`` in a mounted redis.conf) and
never ``appendonly yes``; Bitnami images, which enable AOF themselves, also need their switches off.
Config from a ConfigMap is read when that ConfigMap is in the stack; otherwise it cannot be verified.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .access import get, indexed, items, mapping, text
from .conventions import platform_state_gaps
from .images import image_name
from .objects import KubeObject, memo, objects, workloads
from .podspec import Container, PodTemplate, containers

REDIS_IMAGES = frozenset(("redis", "valkey", "redis-stack", "redis-stack-server", "redis-cluster",
                          "valkey-cluster"))
BITNAMI_SWITCHES = {  # env var -> value that turns the Bitnami default persistence off
    "redis": (("REDIS_AOF_ENABLED", "no"), ("REDIS_RDB_POLICY_DISABLED", "yes")),
    "valkey": (("VALKEY_AOF_ENABLED", "no"), ("VALKEY_RDB_POLICY_DISABLED", "yes")),
}
DISABLED_SAVE = ("", '""', "''")


def redis_flavour(container: Container) -> str | None:
    """ "redis", "valkey", "bitnami-redis" or "bitnami-valkey" for a Redis container, else None."""
    parsed = image_name(get(container.spec, "image"))
    if parsed is None or parsed[1] not in REDIS_IMAGES:
        return None
    base = "valkey" if parsed[1].startswith("valkey") else "redis"
    return f"bitnami-{base}" if parsed[0] in ("bitnami", "bitnamilegacy") else base


def redis_containers(template: PodTemplate) -> list[tuple[Container, str]]:
    return [(c, flavour) for c in containers(template, ("container", "initContainer"))
            if (flavour := redis_flavour(c)) is not None]


def redis_pods(resources: Sequence[Any]) -> Iterator[tuple[KubeObject, PodTemplate, list[tuple[Container, str]]]]:
    """Workloads running Redis, with their Redis containers (parsed once per request)."""
    for resource in resources:
        found = memo(resource, "redis", lambda: _redis_pod(resource))
        if found is not None:
            yield found


def _redis_pod(resource: Any) -> tuple[KubeObject, PodTemplate, list[tuple[Container, str]]] | None:
    for workload, template in workloads((resource,)):
        found = redis_containers(template)
        if found:
            return workload, template, found
    return None


def _tokens(container: Container) -> list[str]:
    tokens: list[str] = []
    for part in items(container.spec, "command") + items(container.spec, "args"):
        if not isinstance(part, str):
            continue
        try:
            split = shlex.split(part, posix=False) if " " in part else [part]
        except ValueError:
            split = part.split()
        tokens.extend(split)
    return tokens


def flag_settings(container: Container) -> dict[str, str]:
    """`save` and `appendonly` as given on the command line (last one wins, as in redis-server)."""
    tokens = _tokens(container)
    found: dict[str, str] = {}
    for index, token in enumerate(tokens):
        key = token.split("=", 1)[0]
        if key not in ("--save", "--appendonly"):
            continue
        following = [token.split("=", 1)[1]] if "=" in token else []
        for nxt in tokens[index + 1:]:
            if nxt.startswith("--"):
                break
            following.append(nxt)
        found[key[2:]] = " ".join(following).strip()
    return found


def config_settings(text_value: str) -> dict[str, str]:
    """`save` and `appendonly` lines of a redis.conf (the last occurrence wins)."""
    found: dict[str, str] = {}
    for line in text_value.splitlines():
        words = line.strip().split(None, 1)
        if words and words[0].lower() in ("save", "appendonly"):
            found[words[0].lower()] = words[1].strip() if len(words) > 1 else ""
    return found


@dataclass(frozen=True)
class RedisFinding:
    workload: KubeObject
    message: str


def _mounted_config_maps(template: PodTemplate) -> list[str]:
    names = []
    for _, volume in indexed(template.spec, "volumes", ""):
        name = text(mapping(volume, "configMap"), "name")
        if name:
            names.append(name)
        for _, source in indexed(mapping(volume, "projected"), "sources", ""):
            name = text(mapping(source, "configMap"), "name")
            if name:
                names.append(name)
    return names


def _config(template: PodTemplate, workload: KubeObject,
            config_maps: Mapping[tuple[str | None, str | None], KubeObject]) -> tuple[dict[str, str], list[str]]:
    """Settings from mounted redis.conf files in the stack, and the mounted ConfigMaps that are not."""
    settings: dict[str, str] = {}
    unseen = []
    for name in _mounted_config_maps(template):
        config_map = config_maps.get((workload.namespace, name))
        if config_map is None:
            unseen.append(name)
            continue
        for key, value in mapping(config_map.props, "data").items():
            if isinstance(value, str) and key.endswith(".conf"):
                settings.update(config_settings(value))
    return settings, unseen


def _persistence(container: Container, flavour: str, config: dict[str, str], unseen: list[str]) -> list[str]:
    flags = flag_settings(container)
    save = flags.get("save", config.get("save"))
    appendonly = flags.get("appendonly", config.get("appendonly"))
    problems = []
    if appendonly is not None and appendonly.lower() == "yes":
        problems.append("appendonly is yes (AOF)")
    if save is None:
        seen = f" (mounted ConfigMap {', '.join(unseen)} is not in the stack)" if unseen else ""
        problems.append(f"save is not disabled, so Redis's default RDB snapshots apply{seen}")
    elif save not in DISABLED_SAVE:
        problems.append(f'save is "{save}" (RDB snapshots)')
    if flavour.startswith("bitnami-"):
        env = {text(e, "name"): get(e, "value") for _, e in indexed(container.spec, "env", "")}
        for name, off in BITNAMI_SWITCHES[flavour.removeprefix("bitnami-")]:
            if env.get(name) != off:
                problems.append(f"env {name} is not \"{off}\" (the Bitnami image persists by default)")
    return problems


def _storage(template: PodTemplate) -> Iterator[str]:
    for path, volume in indexed(template.spec, "volumes", template.path):
        for kind in ("persistentVolumeClaim", "hostPath", "local", "nfs"):
            if get(volume, kind) is not None:
                yield f"{path} is a {kind} volume"
    if template.path.startswith("spec.template") and items(template.owner_spec, "volumeClaimTemplates"):
        yield "spec.volumeClaimTemplates claims persistent storage"


def redis_persistence(resources: Sequence[Any]) -> Iterator[RedisFinding]:
    config_maps = {(cm.namespace, cm.name): cm for cm in objects(resources, (("core", "ConfigMap"),))}
    for workload, template, found in redis_pods(resources):
        for problem in _storage(template):
            yield RedisFinding(workload, f"{problem}; Redis keeps no data, remove the volume")
        if not platform_state_gaps(template.owner_metadata):
            yield RedisFinding(workload, "declares itself platform state; Redis may not hold platform state, "
                                         "remove the declaration and keep state in JetStream or the object store")
        config, unseen = _config(template, workload, config_maps)
        for container, flavour in found:
            problems = _persistence(container, flavour, config, unseen)
            if problems:
                yield RedisFinding(workload, f"{container.where}: " + "; ".join(problems)
                                   + '; run redis-server with --save "" --appendonly no')


def redis_workloads(resources: Sequence[Any]) -> list[KubeObject]:
    return [workload for workload, _, _ in redis_pods(resources)]
