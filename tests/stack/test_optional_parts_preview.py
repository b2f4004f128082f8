"""The stack with its optional parts toggled the way users toggle them in a stack file previews clean:
every declared flow admitted, every quota, Pod Security level and reference satisfied, nothing unchecked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from cdb_cli import main

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = {
    "redis dual-write in prod": ("prod", {"redis": {"migrationPhase": "dual-write", "clientZones": ["apps"]}}),
    "redis-only in dev": ("dev", {"redis": {"migrationPhase": "redis-only", "clientZones": ["apps"],
                                            "sunset": "2099-06-30", "documentation": "https://example.org/redis-sunset"}}),
    "no observability, no object store": ("prod", {"observability": {"enabled": False},
                                                   "objectStorage": {"enabled": False}}),
    "HashiCorp Vault without scraping": ("prod", {"secrets": {"engine": "vault", "autoUnseal": {"type": "manual"},
                                                              "metricsScrape": False}}),
}


def _merge(base: dict | None, extra: dict) -> dict:
    out = dict(base or {})
    for key, value in extra.items():
        out[key] = _merge(out.get(key), value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_stack_with_an_optional_part_toggled_previews_clean(variant, tmp_path, capsys):
    stack, parts = VARIANTS[variant]
    project = tmp_path / "project"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(".venv", ".git", "deploy", "__pycache__", "tests"))
    path = project / f"Pulumi.{stack}.yaml"
    data = yaml.safe_load(path.read_text())
    for key, value in parts.items():
        data["config"][f"cdb-infra:{key}"] = _merge(data["config"].get(f"cdb-infra:{key}"), value)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    report = tmp_path / "preview.json"
    code = main(["preview", "--stack", stack, "--cwd", str(project), "--format", "json", "--output", str(report)])
    capsys.readouterr()
    result = json.loads(report.read_text())
    assert (result["violations"], result["unchecked"], code) == ([], [], 0)
