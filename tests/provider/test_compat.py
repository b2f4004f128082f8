"""The schema as a contract: a change that breaks existing programs fails the check unless the major
version moves, an additive one needs a new minor version, and the recorded files must be current."""

from __future__ import annotations

import copy
import json

import pytest

from cdb_release import package_schema
from cdb_cli import main
from provider import package
from tests.provider.harness import PROVIDER_DIR

RECORDED = json.loads((PROVIDER_DIR / "schema.json").read_text())
SERVICE = "cdb:index:StatelessService"


def _changelog(*versions: str) -> str:
    return "\n".join(f"## {v}\n\nwhat changed\n" for v in versions)


def _changed(edit, version: str | None = None) -> dict:
    schema = copy.deepcopy(RECORDED)
    edit(schema)
    if version:
        schema["version"] = version
    return schema


def _inputs(schema: dict) -> dict:
    return schema["resources"][SERVICE]["inputProperties"]


def _remove_input(s):
    del _inputs(s)["replicas"]


def _rename_input(s):
    _inputs(s)["replicaCount"] = _inputs(s).pop("replicas")


def _narrow_enum(s):
    s["types"]["cdb:index:StatelessServiceWorkloadClass"]["enum"].pop()  # 'ai' no longer accepted


def _narrow_type(s):
    _inputs(s)["role"] = {"type": "integer", "description": "now a number", "plain": True}


def _new_required_input(s):
    _inputs(s)["owner"] = {"type": "string", "description": "team", "plain": True}
    s["resources"][SERVICE]["requiredInputs"] = sorted(s["resources"][SERVICE]["requiredInputs"] + ["owner"])


def _nested_required(s):
    s["types"]["cdb:index:Image"]["required"] = ["repository", "tag"]


def _remove_output(s):
    del s["resources"][SERVICE]["properties"]["host"]
    s["resources"][SERVICE]["required"].remove("host")


def _remove_component(s):
    del s["resources"]["cdb:index:KafkaCluster"]


def _only_plain(s):
    for prop in _inputs(s).values():
        prop.pop("plain", None)


BREAKING = {
    "a removed input": (_remove_input, "cdb:index:StatelessService.inputs.replicas: was allowed and is now refused"),
    "a renamed input": (_rename_input, "inputs.replicas: was allowed and is now refused"),
    "a narrowed enum": (_narrow_enum, "workloadClass: value 'ai' is no longer accepted"),
    "a narrowed type": (_narrow_type, "inputs.role: type 'string' is no longer accepted"),
    "a new required input": (_new_required_input, "inputs.owner: newly required"),
    "a field a nested type now requires": (_nested_required, "inputs.image.tag: newly required"),
    "a removed output": (_remove_output, "outputs.host: no longer required"),
    "a removed component": (_remove_component, "cdb:index:KafkaCluster: the component was removed"),
}


@pytest.mark.parametrize("change", sorted(BREAKING))
def test_a_breaking_change_fails_the_check_without_a_new_major_version(change):
    edit, expected = BREAKING[change]
    for version in ("1.0.0", "1.1.0", "1.0.1"):
        result = package_schema.check(RECORDED, _changed(edit, version), _changelog("1.0.0", version))
        assert not result.ok
        assert any(expected in e and "without a new major version" in e for e in result.errors), result.errors


@pytest.mark.parametrize("change", sorted(BREAKING))
def test_the_same_breaking_change_passes_with_a_new_major_version_and_its_changelog_entry(change):
    edit, expected = BREAKING[change]
    result = package_schema.check(RECORDED, _changed(edit, "2.0.0"), _changelog("1.0.0", "2.0.0"))
    assert result.ok, result.errors
    assert any(expected in n for n in result.notes)


def test_an_input_that_stops_taking_outputs_is_breaking():
    old = _changed(_only_plain)  # a schema whose inputs took outputs
    result = package_schema.check(old, RECORDED, _changelog("1.0.0"))
    assert any("now takes only plain values" in e for e in result.errors)


def _new_optional_input(s):
    _inputs(s)["owner"] = {"type": "string", "description": "team", "plain": True}


def _widen_enum_to_string(s):
    _inputs(s)["workloadClass"] = {"type": "string", "description": "any class", "plain": True}


@pytest.mark.parametrize("edit", [_new_optional_input, _widen_enum_to_string])
def test_an_additive_change_needs_a_new_minor_version(edit):
    same_version = package_schema.check(RECORDED, _changed(edit), _changelog("1.0.0"))
    assert any("without a new minor version" in e and "set 1.1.0" in e for e in same_version.errors)
    assert package_schema.check(RECORDED, _changed(edit, "1.1.0"), _changelog("1.0.0", "1.1.0")).ok


def test_a_new_version_needs_its_changelog_entry():
    result = package_schema.check(RECORDED, _changed(_new_optional_input, "1.1.0"), _changelog("1.0.0"))
    assert result.errors == ["CHANGELOG.md has no entry '## 1.1.0'; add one saying what changed"]


def test_descriptions_alone_change_nothing_of_the_contract():
    def reword(s):
        _inputs(s)["replicas"]["description"] = "How many pods run."

    assert package_schema.check(RECORDED, _changed(reword), _changelog("1.0.0")).ok


def test_a_version_that_goes_backwards_is_refused():
    result = package_schema.check(_changed(lambda s: None, "1.2.0"), RECORDED, _changelog("1.0.0"))
    assert any("goes backwards" in e for e in result.errors)


def test_the_recorded_schema_and_the_code_agree_and_the_changelog_has_the_version(capsys):
    assert main(["provider", "--check"]) == 0
    assert "provider schema check: ok" in capsys.readouterr().out
    assert f"## {package.VERSION}" in (PROVIDER_DIR.parent / "CHANGELOG.md").read_text()


def test_an_args_field_the_code_no_longer_shows_makes_the_check_fail(monkeypatch, capsys):
    from components.service_args import StatelessServiceArgs

    monkeypatch.setitem(package.HIDDEN_FIELDS, StatelessServiceArgs, frozenset({"replicas"}))
    assert main(["provider", "--check"]) == 1
    assert "provider/inputs.py is not what the Args models give now" in capsys.readouterr().out


def test_an_unreadable_recorded_schema_is_one_line_and_exit_2(monkeypatch, tmp_path, capsys):
    broken = tmp_path / "schema.json"
    broken.write_text('{"version": "1.0.0", "resources": ')
    monkeypatch.setattr(package_schema, "SCHEMA_FILE", broken)
    assert main(["provider", "--check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"cdb provider: error: {broken}: not a recorded package schema") and err.count("\n") == 1


def test_write_records_nothing_when_the_change_would_break_existing_programs(monkeypatch, tmp_path, capsys):
    from components.service_args import StatelessServiceArgs

    files = {name: tmp_path / name for name in ("inputs.py", "schema.json")}
    for name, path in files.items():
        path.write_text((PROVIDER_DIR / name).read_text())
    monkeypatch.setattr(package_schema, "INPUTS_FILE", files["inputs.py"])
    monkeypatch.setattr(package_schema, "SCHEMA_FILE", files["schema.json"])
    monkeypatch.setitem(package.HIDDEN_FIELDS, StatelessServiceArgs, frozenset({"replicas"}))
    try:
        assert main(["provider", "--write"]) == 1
        out = capsys.readouterr().out
        assert "breaking change without a new major version (1.0.0 -> 1.0.0)" in out
        assert "cdb:index:StatelessService.inputs.replicas: was allowed and is now refused" in out
        for name, path in files.items():
            assert path.read_text() == (PROVIDER_DIR / name).read_text(), f"{name} was changed"
    finally:
        package_schema.current_schema(PROVIDER_DIR / "inputs.py")  # the real inputs back in this process
