"""The provider process: `pulumi.provider.experimental`'s ComponentProvider over the hosted components.

The SDK infers the schema from `interface.DECLARATIONS` (inputs from `inputs.py`, outputs and
descriptions from the declarations). Construct is ours for two reasons the SDK's generic version
cannot meet: it builds the Python component itself (same type token, same children, same
validation), and an invalid argument fails with the component's one-line message as an
InputPropertiesError (the SDK would wrap it with a traceback).
"""

from __future__ import annotations

import json
from typing import Any, Optional

import pulumi
from pulumi.errors import InputPropertiesError
from pulumi.provider import main as serve_provider
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.provider import ConstructResult

from components.errors import ComponentArgsError
from provider import adapter, interface, package


class CdbComponentProvider(ComponentProvider):
    def __init__(self) -> None:
        super().__init__(list(interface.DECLARATIONS), package.NAME, None, package.VERSION)
        # The SDK writes `"description": null` for enum values without a docstring (it drops nulls in
        # objects, not inside lists); Pulumi's metaschema wants a string or nothing.
        self.schema = json.dumps(_without_nulls(json.loads(self.schema)))

    def construct(
        self, name: str, resource_type: str, inputs: dict[str, Any], options: Optional[pulumi.ResourceOptions] = None
    ) -> ConstructResult:
        self.validate_resource_type(package.NAME, resource_type)
        hosted = package.BY_NAME.get(resource_type.rsplit(":", 1)[-1])
        if hosted is None:
            raise ValueError(f"{resource_type}: no such component in {package.NAME} {package.VERSION}")
        owner = f"{hosted.name} {name!r}"
        try:
            args = hosted.args.parse(adapter.to_python(hosted.args, dict(inputs), owner), owner=owner)
            component = _recording(hosted.component)(name, args, options)
        except ComponentArgsError as exc:
            problems = [{"property_path": adapter.wire_path(path), "reason": text} for path, text in exc.problems
                        if path != "(arguments)"]  # fmt: skip
            raise InputPropertiesError(str(exc), problems or None) from None
        registered = getattr(component, "_cdb_registered_outputs", {})
        declared = self._component_defs[hosted.name].outputs
        return ConstructResult(component.urn, {key: registered[key] for key in declared if key in registered})

    def schema_json(self) -> dict[str, Any]:
        return json.loads(self.schema)


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


_RECORDING: dict[type, type] = {}


def _recording(component: type[pulumi.ComponentResource]) -> type[pulumi.ComponentResource]:
    """The component class, keeping what it registers as outputs (the single source of the state).
    The subclass changes nothing the engine sees: the type token is the component's own constant."""
    if component not in _RECORDING:

        def register_outputs(self, outputs):  # type: ignore[no-untyped-def]
            self._cdb_registered_outputs = dict(outputs)
            return component.register_outputs(self, outputs)

        _RECORDING[component] = type(component.__name__, (component,), {
            "register_outputs": register_outputs,
            # The subclass registers under the component's own token and former tokens (components/base.py
            # refuses a subclass that does not restate them).
            "TYPE": getattr(component, "TYPE", None), "FORMER_TYPES": getattr(component, "FORMER_TYPES", ())})
    return _RECORDING[component]


def main(argv: list[str]) -> None:
    """Serve on a free loopback port and print it, as the engine expects of a provider plugin."""
    serve_provider(CdbComponentProvider(), argv)
