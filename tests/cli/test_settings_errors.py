"""Settings errors name the key path of Pulumi.<stack>.yaml and the fix in the stack file's own words."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cdb_core.errors import SettingsError
from cdb_stack.settings import parse_settings
from cdb_stack.stack import plan_stack

ROOT = Path(__file__).resolve().parents[2]


def dev_config() -> dict:
    return dict(yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"])


def error_for(change) -> str:
    config = dev_config()
    change(config)
    flat = {k: v for k, v in config.items()}
    with pytest.raises(SettingsError) as caught:
        settings = parse_settings(flat, source="Pulumi.dev.yaml")
        plan_stack(settings, "cdb-infra", "dev", source="Pulumi.dev.yaml")
    return str(caught.value)


def _service(config: dict, index: int) -> dict:
    return config["cdb-infra:services"][index]


CASES = [
    ("a wrong workload class",
     lambda c: _service(c, 1).update(workloadClass="gpu"),
     "cdb-infra:services[1].workloadClass: ", "(got 'gpu')"),
    ("a memory limit below the request",
     lambda c: c["cdb-infra:eventBus"]["resources"].update(memoryLimit="1Ki"),
     "cdb-infra:eventBus.resources.memoryLimit: '1Ki' is below memoryRequest", "raise the limit"),
    ("a service's cpu limit that is no quantity",
     lambda c: _service(c, 0).update(resources={"cpuLimit": "lots"}),
     "cdb-infra:services[0].resources.cpuLimit: 'lots' is not a Kubernetes quantity", ""),
    ("a secret as a literal env value",
     lambda c: _service(c, 0).update(env={"DB_PASSWORD": "hunter2hunter2"}),
     "cdb-infra:services[0].env.DB_PASSWORD: looks like a secret", "move it under secretEnv"),
    ("a zone quota that is no quantity",
     lambda c: c["cdb-infra:zones"][0].update(cpuQuota="lots"),
     "cdb-infra:zones[0].cpuQuota: 'lots' is not a Kubernetes quantity", ""),
    ("an unpinned image",
     lambda c: _service(c, 0).update(image="ghcr.io/cdb/orders-api:latest"),
     "cdb-infra:services[0].image: ", "pin a version tag"),
    ("a top-level key in the wrong case",
     lambda c: c.update({"cdb-infra:eventbus": {}}),
     "cdb-infra:eventbus: unknown setting; did you mean `cdb-infra:eventBus`?", ""),
    ("an unknown key inside a service",
     lambda c: _service(c, 0).update(memorylimit="1Gi"),
     "cdb-infra:services[0].memorylimit: unknown setting", ""),
    ("a replica count that is text",
     lambda c: _service(c, 0).update(replicas="many"),
     "cdb-infra:services[0].replicas: ", "(got 'many')"),
]


@pytest.mark.parametrize("change, where, fix", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_each_settings_error_names_the_yaml_key_path_and_the_yaml_fix(change, where, fix):
    message = error_for(change)
    assert message.startswith("Pulumi.dev.yaml: ") and where in message and fix in message
    assert "\n" not in message
    for python_word in ("workload_class", "memory_limit", "memory_request", "cpu_limit", "EnvVar", "from_secret",
                        "quota.limits"):
        assert python_word not in message, message
