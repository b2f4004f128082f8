"""The layers of the tree and what each may import: the contracts in pyproject.toml, run by import-linter
over the real import graph (function-level imports included), and the `ops` extra they keep optional."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((PROJECT / "pyproject.toml").read_text())
CONFIG = PYPROJECT["tool"]["importlinter"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path, extra_path: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(extra_path) if extra_path else ""}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600, check=False)


def test_every_import_contract_holds_over_the_whole_tree():
    result = lint_imports(PROJECT)
    contracts = len(CONFIG["contracts"])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert f"Contracts: {contracts} kept, 0 broken." in result.stdout


def test_the_contracts_name_every_layer_the_tree_has():
    packages = {p.parent.name for p in PROJECT.glob("*/__init__.py")} - {"tests", "benchmarks"}
    assert packages == set(CONFIG["root_packages"]), "a new top-level package needs its place in the contracts"


def test_an_import_planted_across_a_layer_breaks_the_contract_that_forbids_it(tmp_path):
    for package in CONFIG["root_packages"]:
        shutil.copytree(PROJECT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(PROJECT / "pyproject.toml", tmp_path / "pyproject.toml")
    plants = {
        "cdb_ops/events/stack_streams.py": "from cdb_engine.run import preview\n",  # ops -> engine
        "components/zone.py": "import cdb_stack.settings\n",  # components -> the stack
        "cdb_engine/reports/text.py": "from cdb_stack.parts import event_bus\n",  # engine -> the stack's parts
        "cdb_stack/stack.py": "def _later():\n    import redis\n",  # pulumi up -> an ops extra, inside a function
        "cdb_core/errors.py": "from cdb_cli import ui\n",  # core -> the CLI
    }
    for name, line in plants.items():
        path = tmp_path / name
        path.write_text(path.read_text() + "\n" + line)
    result = lint_imports(tmp_path, extra_path=tmp_path)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    broken = set(re.findall(r"^(.+?) BROKEN\b", result.stdout, re.M))
    assert broken == {"components import nothing local",
                      "the provider imports the components only",  # through the planted components/zone.py
                      "cdb layers: CLI, release gates, engine beside operational tools, stack, core",
                      "the engine does not import the stack's parts",
                      "the operational tools do not import the engine",
                      "a pulumi up environment needs no operational extra"}
    assert "cdb_ops.events.stack_streams -> cdb_engine.run" in result.stdout


BLOCKER = """
import importlib.abc, sys
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Blocker())
from cdb_cli import main
sys.exit(main(sys.argv[1:]))
"""


def without_ops_extra(*argv: str) -> subprocess.CompletedProcess:
    from cdb_cli import OPS_EXTRA

    script = BLOCKER.format(blocked=set(OPS_EXTRA))
    return subprocess.run([sys.executable, "-c", script, *argv], cwd=PROJECT, capture_output=True, text=True,
                          timeout=300, check=False)


def test_the_cli_s_ops_modules_are_exactly_the_ops_extra_of_the_package():
    from cdb_cli import OPS_EXTRA

    extra = {re.split(r"[=<>\[]", d)[0] for d in PYPROJECT["project"]["optional-dependencies"]["ops"]}
    assert set(OPS_EXTRA.values()) == extra
    base = {re.split(r"[=<>\[]", d)[0] for d in PYPROJECT["project"]["dependencies"]}
    assert not extra & base


@pytest.mark.parametrize("argv", [["events", "publish", "--help"], ["audit", "verify"], ["vault", "check", "--stack", "dev"],
                                  ["-q", "events", "publish", "x"]])  # an option first: the whole parser is built
def test_a_command_that_needs_the_ops_extra_says_which_to_install_in_one_line(argv):
    result = without_ops_extra(*argv)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    command = next(a for a in argv if not a.startswith("-"))
    assert f"cdb {command}: error: needs the operational tools' dependencies (" in result.stderr
    assert "pip install 'cdb-infra[ops]'" in result.stderr


def test_without_the_ops_extra_help_lists_every_command_and_the_policy_commands_run():
    helped = without_ops_extra("--help")
    assert helped.returncode == 0, helped.stderr
    assert "events" in helped.stdout and "unavailable here" in helped.stdout
    listed = without_ops_extra("policies", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    checked = without_ops_extra("check", str(PROJECT / "deploy" / "dev"))
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]
