"""The command-line conventions users know from pulumi, checkov and kube-linter."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from cdb_cli import main, ui

CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: apps\ndata: {a: '1'}\n"


@pytest.fixture(autouse=True)
def fresh_ui():
    yield
    ui.configure()


def test_version_prints_the_installed_version(capsys):
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("cdb ") and out.split()[1][0].isdigit()


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_drops_the_resource_tree_and_notes_before_or_after_the_command(tmp_path, capsys, where):
    (tmp_path / "cm.yaml").write_text(CONFIG_MAP)
    (tmp_path / "values.yaml").write_text("replicaCount: 1\n")
    args = ["check", str(tmp_path)]
    args = ["-q", *args] if where == "before" else [*args, "--quiet"]
    main(args)
    out, err = capsys.readouterr()
    assert "skipped" not in err and "ConfigMap" not in out.split("Policies:")[0]
    assert "Verdict" in out
    main(["check", str(tmp_path)])
    out, err = capsys.readouterr()
    assert "skipped" in err and "settings" in out


def test_color_always_and_never_override_the_terminal_test(tmp_path, capsys, monkeypatch):
    (tmp_path / "cm.yaml").write_text(CONFIG_MAP)
    monkeypatch.setenv("NO_COLOR", "1")
    main(["check", str(tmp_path), "--color", "always"])
    assert "\x1b[" in capsys.readouterr().out
    monkeypatch.delenv("NO_COLOR")
    main(["check", str(tmp_path), "--color", "never"])
    assert "\x1b[" not in capsys.readouterr().out


def test_ctrl_c_exits_130_and_says_nothing_was_written(tmp_path, capsys, monkeypatch):
    import cdb_engine.run as run

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "check", interrupted)
    (tmp_path / "cm.yaml").write_text(CONFIG_MAP)
    report = tmp_path / "report.json"
    assert main(["check", str(tmp_path), "--output", str(report)]) == 130
    assert "interrupted" in capsys.readouterr().err and not report.exists()


def test_sigint_to_a_running_check_exits_130(tmp_path):
    """A real Ctrl-C: the signal arrives while the pack loads or the manifests are parsed."""
    many = "".join(CONFIG_MAP.replace("settings", f"s{i}") + "---\n" for i in range(20000))
    (tmp_path / "many.yaml").write_text(many)
    # The child says when run() has called main() (Python's own start-up is not cdb's to handle).
    entered = ("import sys, cdb_cli as cli; main = cli.main\n"
               "def said(*args):\n    print('entered', file=sys.stderr, flush=True)\n    return main(*args)\n"
               "cli.main = said; cli.run()")
    process = subprocess.Popen([sys.executable, "-c", entered, "check",
                                str(tmp_path / "many.yaml"), "--output", str(tmp_path / "r.json")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None and process.stderr.readline() == "entered\n"
    # From here on: inside imports, the pack's start or the parse; each must end the same way.
    if process.poll() is None:
        process.send_signal(2)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err and not (tmp_path / "r.json").exists()


def test_progress_shows_on_a_terminal_only(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys, "stderr", Tty())
    assert ui._interactive()
    monkeypatch.setenv("CI", "true")
    assert not ui._interactive()
    monkeypatch.delenv("CI")
    ui.configure(quiet=True)
    assert not ui._interactive()
    ui.configure()
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not ui._interactive()


def test_a_check_in_a_real_terminal_shows_a_spinner_and_in_a_pipe_does_not(tmp_path):
    (tmp_path / "cm.yaml").write_text(CONFIG_MAP)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    args = [sys.executable, "-c", "from cdb_cli import run; run()", "check", str(tmp_path), "--format", "json"]
    piped = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert "checking manifests" not in piped.stderr
    json.loads(piped.stdout)
    leader, follower = pty.openpty()
    done = subprocess.run(args, stdout=subprocess.PIPE, stderr=follower, env=env, timeout=120)
    os.close(follower)
    seen = b""
    try:
        while chunk := os.read(leader, 65536):
            seen += chunk
    except OSError:
        pass
    os.close(leader)
    assert done.returncode in (0, 1) and b"checking manifests" in seen
    json.loads(done.stdout)  # the report on stdout is untouched by the spinner


def test_every_command_has_help_with_exit_codes(capsys):
    from cdb_cli import COMMAND_MODULES

    for module in COMMAND_MODULES:
        command = module.rsplit(".", 1)[1]
        assert main([command, "--help"]) == 0
        text = capsys.readouterr().out
        assert "--quiet" in text and "--color" in text
        assert "exit" in text.lower(), command
