"""Every YAML the tool reads is measured before it is built: alias bombs, quadratic blow-ups, deep nesting
and recursive anchors are refused with `file:line` and exit 2, without the memory or time they would cost."""

from __future__ import annotations

import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cdb_core import yaml_limits
from cdb_cli import main

ROOT = Path(__file__).resolve().parents[2]


def billion_laughs(levels: int = 9, indent: str = "    ") -> str:
    lines = [f'{indent}a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"{indent}a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def config_map(labels_block: str) -> str:
    return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\n  labels:\n" + labels_block


def quadratic(width: int = 3000, refs: int = 3000) -> str:
    big = "[" + ", ".join(['"' + "x" * 40 + '"'] * width) + "]"
    return ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: q\n  annotations:\n"
            f"    k: &big {big}\ndata:\n  l: [" + ", ".join(["*big"] * refs) + "]\n")


def deep_block(levels: int) -> str:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n"
    for i in range(levels):
        text += "  " * (i + 1) + f"k{i}:\n"
    return text + "  " * (levels + 1) + "v: x\n"


def deep_aliases(levels: int) -> str:
    lines = ["  l0: &l0 [x]"] + [f"  l{i}: &l{i} [*l{i - 1}]" for i in range(1, levels)]
    return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\nspec:\n" + "\n".join(lines) + "\n"


RECURSIVE = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: r\ndata: &a\n  x: *a\n"

ATTACKS = {
    "billion laughs": (config_map(billion_laughs()), "expand to more than"),
    "quadratic blow-up": (quadratic(), "expand to more than"),
    "deep nesting": (deep_block(150), "nests deeper than 100"),
    "deep nesting through aliases": (deep_aliases(150), "nests deeper than 100"),
    "recursive alias": (RECURSIVE, "recursive anchor"),
}


def run_cdb_limited(args: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`cdb` in a child process that may not use more than 1 GiB: a bomb that expands fails the test,
    it cannot take the machine."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    return subprocess.run([sys.executable, "-c", "from cdb_cli import run; run()", *args], cwd=cwd,
                          input=stdin, capture_output=True, text=True, timeout=120, preexec_fn=limit)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_check_refuses_each_classic_yaml_attack_with_file_and_line(tmp_path, name):
    text, fragment = ATTACKS[name]
    path = tmp_path / "attack.yaml"
    path.write_text(text)
    done = run_cdb_limited(["check", str(path)], tmp_path)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"cdb check: error: {path}:") and fragment in line
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_the_bomb_is_named_at_the_first_anchor_that_expands_past_the_limit(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(config_map(billion_laughs()))
    with pytest.raises(yaml_limits.YamlLimitError) as caught:
        yaml_limits.load(path.read_text(), str(path))
    # a5 holds 9**6 = 531,441 values, the first above 250,000; its line is 6 + 5.
    assert str(caught.value).startswith(f"{path}:11: ")


def test_ordinary_anchors_and_merge_keys_still_work(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(textwrap.dedent("""\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ok
          labels: &labels {app.kubernetes.io/name: ok, app.kubernetes.io/part-of: cdb}
          annotations:
            <<: *labels
            note: merged
        data: {a: "1"}
        """))
    assert main(["check", str(path), "--format", "json"]) in (0, 1)


def test_a_document_larger_than_the_api_limit_is_refused(tmp_path):
    value = "x" * (yaml_limits.MAX_DOCUMENT_BYTES + 10)
    text = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  a: {value}\n"
    with pytest.raises(yaml_limits.YamlLimitError, match=r":1: YAML document is larger than 3 MiB"):
        yaml_limits.load_all(text, "big.yaml")


def _project(tmp_path: Path, stack_text: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    (tmp_path / "Pulumi.dev.yaml").write_text(stack_text)
    return tmp_path


def test_stack_settings_with_an_alias_bomb_are_refused(tmp_path):
    project = _project(tmp_path, "config:\n  cdb-infra:environment: dev\n  cdb-infra:x:\n" + billion_laughs())
    done = run_cdb_limited(["preview", "--stack", "dev"], project)
    assert done.returncode == 2
    assert "Pulumi.dev.yaml:" in done.stderr and "expand to more than" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_allow_list_with_an_alias_bomb_is_refused(tmp_path):
    (tmp_path / "clean.txt").write_text("nothing\n")
    allow = tmp_path / "allow.yaml"
    allow.write_text("version: 1\nbomb:\n" + billion_laughs(indent="  "))
    done = run_cdb_limited(["scan", str(tmp_path / "clean.txt"), "--allowlist", str(allow), "--root", str(tmp_path)],
                           tmp_path)
    assert done.returncode == 2 and "allow.yaml:" in done.stderr and "expand to more than" in done.stderr


def test_a_scanned_yaml_file_with_a_bomb_is_reported_not_expanded(tmp_path):
    (tmp_path / "bomb.yaml").write_text(config_map(billion_laughs()))
    done = run_cdb_limited(["scan", str(tmp_path), "--root", str(tmp_path), "--format", "json"], tmp_path)
    assert done.returncode in (0, 1), done.stderr
    assert "expand to more than" in done.stdout


def test_a_policy_config_nested_too_deeply_is_one_line(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text("[" * 100_000 + "]" * 100_000)
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    assert main(["check", str(manifest), "--policy-config", str(config)]) == 2
    assert "nested too deeply" in capsys.readouterr().err


def test_a_policy_config_that_is_not_utf8_is_one_line(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_bytes(b'{"a": "\xff"}')
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    assert main(["check", str(manifest), "--policy-config", str(config)]) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_the_pack_metadata_is_read_within_the_limits(tmp_path):
    from cdb_engine.judge.pack_process import pack_version
    from cdb_core.errors import PackError

    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 1\nx:\n" + billion_laughs(indent="  "))
    with pytest.raises(PackError, match="expand to more than"):
        pack_version(tmp_path)
