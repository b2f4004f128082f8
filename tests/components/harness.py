"""Run components under Pulumi's mock engine (preview mode) and record every registration in wire form."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, settings

PROJECT = "cdb-infra"
STACK = "test"


@dataclass
class Registration:
    """One RegisterResource request as the engine would receive it."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    dependencies: list[str]
    inputs: dict[str, Any]
    aliases: list[dict[str, Any]] = field(default_factory=list)  # alias specs (or URNs) as sent


@dataclass
class Recording:
    registrations: list[Registration] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Registration:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {type_} {name or ''}, found {[r.name for r in found]}"
        return found[0]

    def kubernetes_objects(self) -> list[Registration]:
        return [r for r in self.registrations if r.type.startswith("kubernetes:")]


class EchoMocks(pulumi.runtime.Mocks):
    """Resources come back with their inputs as state, as a provider preview would show them."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, None]:
        return {}, None


class RecordingMonitor(mocks.MockMonitor):
    def __init__(self, mock: pulumi.runtime.Mocks) -> None:
        super().__init__(mock)
        self.recording = Recording()

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        self.recording.registrations.append(
            Registration(
                type=request.type,
                name=request.name,
                urn=response.urn,
                parent=request.parent,
                custom=request.custom,
                dependencies=list(request.dependencies),
                inputs=json_format.MessageToDict(request.object),
                aliases=[json_format.MessageToDict(alias) for alias in request.aliases],
            )
        )
        return response


def run_program(program: Callable[[], None]) -> Recording:
    """Run `program` as a Pulumi program in preview under mocks and return what it registered."""
    # The root stack resource lives in a ContextVar: clear it so every run gets a fresh stack.
    settings.ROOT.set(None)
    monitor = RecordingMonitor(EchoMocks())
    pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack=STACK, preview=True, monitor=monitor)

    @pulumi.runtime.test
    def run() -> None:
        program()

    run()
    return monitor.recording
