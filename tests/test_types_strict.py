"""The type checker runs in the suite: strict mypy over components/, policy_pack/ and cdb_core/ (pyproject's [tool.mypy])."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    # The cache lives in the work tree (git-ignored): a warm run takes seconds, a cold one under a minute.
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False)


def test_components_the_policy_pack_and_the_core_pass_strict_mypy() -> None:
    result = _mypy()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


def test_no_module_of_the_strict_packages_is_exempted_from_the_checker() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    strict = tuple(config["files"])
    assert set(strict) >= {"components", "policy_pack", "cdb_core"}
    for override in config.get("overrides", []):
        modules = override["module"] if isinstance(override["module"], list) else [override["module"]]
        ours = [m for m in modules if m.split(".")[0] in strict]
        relaxed = {k: v for k, v in override.items() if k != "module"}
        assert not (ours and relaxed), f"{ours} are exempted from strict mypy by {relaxed}"


def test_the_checker_refuses_a_dict_where_a_component_takes_its_args_class(tmp_path: Path) -> None:
    program = tmp_path / "program.py"
    program.write_text(
        "from components.zone import Zone, ZoneArgs\n"
        "from components.provenance import Provenance\n"
        "prov = Provenance('cdb', '0123456789abcdef0123456789abcdef01234567', 'cdb-infra/dev')\n"
        "Zone('apps', ZoneArgs(provenance=prov))\n"
        "Zone('apps', {'provenance': prov})\n",
        encoding="utf-8",
    )
    result = _mypy("--strict", "--config-file", str(ROOT / "pyproject.toml"), str(program))
    assert result.returncode == 1, result.stdout
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and "program.py:5:" in errors[0] and '"ZoneArgs"' in errors[0], result.stdout
