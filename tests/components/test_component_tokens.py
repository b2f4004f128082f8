"""Component type tokens: class constants, and a renamed token keeps the state of the old URN.

Pulumi keys state by URN, which holds the type token. A component renamed without an alias gets a new
URN: the engine would delete what the old URN owns and create it again. `FORMER_TYPES` registers an
alias with the old type, which the engine resolves (name, parent, stack and project defaulting to the
resource's own) to the old URN, so it moves the existing state instead.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

import components.flux.component
import components.governance
import components.kafka
import components.minio
import components.nats.component
import components.observability.component
import components.redis
import components.service
import components.vault
import components.vault_config
import components.vault_delivery
import components.zone
from components.base import Component
from components.errors import ComponentArgsError
from components.provenance import Provenance
from components.zone import Zone, ZoneArgs
from tests.components.conftest import REVISION
from tests.components.harness import PROJECT, STACK, Registration, run_program

OLD = "cdb:index:Zone"
NEW = "cdb:index:NetworkZone"


class RenamedZone(Zone):
    """The Zone as it would read after renaming its token, with the old token kept as an alias."""

    TYPE = NEW
    FORMER_TYPES = (OLD,)


class RenamedZoneWithoutAlias(Zone):
    TYPE = NEW


def _args() -> ZoneArgs:
    return ZoneArgs(provenance=Provenance("cdb", REVISION, f"{PROJECT}/{STACK}"))


def _split(urn: str) -> tuple[str, str]:
    """(qualified type, name) of a URN."""
    _, _, qualified, name = urn.split("::", 3)
    return qualified, name


def resolve_alias(alias: dict[str, Any], own: Registration) -> str:
    """The URN an alias names, as the engine resolves it: unset parts default to the resource's own."""
    if "urn" in alias:
        return str(alias["urn"])
    spec = alias["spec"]
    qualified, own_name = _split(own.urn)
    parent_types = qualified.rsplit("$", 1)[0] + "$" if "$" in qualified else ""
    if spec.get("noParent"):
        parent_types = ""
    elif spec.get("parentUrn"):
        parent_types = _split(spec["parentUrn"])[0] + "$"
    return (f"urn:pulumi:{spec.get('stack') or STACK}::{spec.get('project') or PROJECT}::"
            f"{parent_types}{spec.get('type') or own.type}::{spec.get('name') or own_name}")


def test_every_component_registers_under_its_class_type_token() -> None:
    modules = (components.flux.component, components.governance, components.kafka, components.minio,
               components.nats.component, components.observability.component, components.redis, components.service,
               components.vault, components.vault_config, components.vault_delivery, components.zone)
    classes = [value for module in modules for value in vars(module).values()
               if isinstance(value, type) and issubclass(value, Component) and value is not Component
               and value.__module__ == module.__name__]
    assert len(classes) == 13
    for cls in classes:
        assert cls.TYPE == f"cdb:index:{cls.__name__}" or cls.__name__ == "RepositoryGovernance", cls
        assert cls.FORMER_TYPES == ()  # no token was renamed yet
    recording = run_program(lambda: Zone("apps", _args()))
    assert recording.one(Zone.TYPE, "apps").aliases == []


def test_a_renamed_token_with_its_former_type_resolves_to_the_old_urn() -> None:
    before = run_program(lambda: Zone("apps", _args())).one(OLD, "apps")
    after = run_program(lambda: RenamedZone("apps", _args())).one(NEW, "apps")

    assert after.urn != before.urn  # the rename alone changes the URN ...
    assert [alias["spec"]["type"] for alias in after.aliases] == [OLD]  # ... the alias carries the old type
    assert [resolve_alias(alias, after) for alias in after.aliases] == [before.urn]  # ... and names the old URN


def test_without_the_former_type_a_renamed_token_names_no_old_state() -> None:
    before = run_program(lambda: Zone("apps", _args())).one(OLD, "apps")
    after = run_program(lambda: RenamedZoneWithoutAlias("apps", _args())).one(NEW, "apps")
    assert after.urn != before.urn and after.aliases == []


def test_the_former_type_alias_keeps_the_callers_own_aliases() -> None:
    opts = pulumi.ResourceOptions(aliases=[pulumi.Alias(name="apps-old")])
    after = run_program(lambda: RenamedZone("apps", _args(), opts)).one(NEW, "apps")
    assert sorted((a["spec"].get("name", ""), a["spec"].get("type", "")) for a in after.aliases) == [
        ("", OLD), ("apps-old", "")]


def test_a_component_class_without_a_type_token_is_refused_when_defined() -> None:
    with pytest.raises(TypeError, match="set TYPE to a type token 'cdb:index:Nameless'"):
        type("Nameless", (Component,), {})
    with pytest.raises(TypeError, match="FORMER_TYPES lists the current TYPE"):
        type("Looping", (Component,), {"TYPE": OLD, "FORMER_TYPES": (OLD,)})


def test_a_plain_dict_in_place_of_the_args_class_is_refused_in_one_line() -> None:
    with pytest.raises(ComponentArgsError) as caught:
        run_program(lambda: Zone("apps", {"provenance": _args().provenance}))  # type: ignore[arg-type]
    assert str(caught.value) == (
        "Zone 'apps': args must be a ZoneArgs, not dict; write ZoneArgs(...) (or ZoneArgs.parse(data) for plain data)")
