"""The engine's side of a component provider, for tests: start the plugin as the engine does and talk to
it over the ResourceProvider gRPC protocol, with a real ResourceMonitor (and Engine) gRPC server that
records every registration the provider makes.

The monitor is the offline engine's RecordingMonitor behind a gRPC server, so a registration that
arrives over the wire is recorded exactly as one the program makes in-process, and both can go to
the pack the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import engine_pb2_grpc, provider_pb2, provider_pb2_grpc, resource_pb2, resource_pb2_grpc

from cdb_engine.model import Resource
from cdb_engine.preview.monitor import RecordingMonitor
from cdb_engine.preview.urns import STACK_TYPE, stack_urn

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_DIR = ROOT / "provider"
PROJECT, STACK = "provider-test", "dev"


def _describe(request: Any, urn: str, properties: dict) -> Resource:
    return Resource(
        urn=urn, type=request.type, name=request.name, custom=bool(request.custom), properties=properties,
        parent=request.parent or None, dependencies=tuple(request.dependencies),
        property_dependencies={k: tuple(v.urns) for k, v in request.propertyDependencies.items()},
        remote=bool(request.remote), provider=request.provider, wire=request.object.SerializeToString(),
    )  # fmt: skip


class _Monitor(resource_pb2_grpc.ResourceMonitorServicer):
    """RecordingMonitor over gRPC; one call at a time, as the in-process mock runtime makes them."""

    def __init__(self, recording: RecordingMonitor) -> None:
        self.recording = recording
        self.lock = threading.Lock()

    def _call(self, name: str, request: Any) -> Any:
        with self.lock:
            return getattr(self.recording, name)(request)

    def SupportsFeature(self, request, context):  # noqa: N802 - gRPC names
        # The same answers as the in-process mock runtime gets, so both paths register alike.
        return resource_pb2.SupportsFeatureResponse(hasSupport=self._call("SupportsFeature", request).hasSupport)

    def RegisterResource(self, request, context):  # noqa: N802
        return self._call("RegisterResource", request)

    def RegisterResourceOutputs(self, request, context):  # noqa: N802
        self.outputs = getattr(self, "outputs", [])
        self.outputs.append(request)
        return empty_pb2.Empty()

    def Invoke(self, request, context):  # noqa: N802
        return self._call("Invoke", request)

    def ReadResource(self, request, context):  # noqa: N802
        return self._call("ReadResource", request)

    def GetDeploymentInfo(self, request, context):  # noqa: N802
        return self._call("GetDeploymentInfo", request)

    def RegisterStackTransform(self, request, context):  # noqa: N802
        return empty_pb2.Empty()

    def RegisterPackage(self, request, context):  # noqa: N802
        return self._call("RegisterPackage", request)

    def SignalAndWaitForShutdown(self, request, context):  # noqa: N802
        return empty_pb2.Empty()


class _Engine(engine_pb2_grpc.EngineServicer):
    def __init__(self) -> None:
        self.logs: list[tuple[int, str]] = []

    def Log(self, request, context):  # noqa: N802
        self.logs.append((request.severity, request.message))
        return empty_pb2.Empty()


class EngineSide:
    """A ResourceMonitor + Engine gRPC server on loopback, and the provider plugin process it started."""

    def __init__(self) -> None:
        self.recording = RecordingMonitor(PROJECT, STACK, _describe)
        self.monitor, self.engine = _Monitor(self.recording), _Engine()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        resource_pb2_grpc.add_ResourceMonitorServicer_to_server(self.monitor, self.server)
        engine_pb2_grpc.add_EngineServicer_to_server(self.engine, self.server)
        self.address = f"127.0.0.1:{self.server.add_insecure_port('127.0.0.1:0')}"
        self.server.start()
        self.process: subprocess.Popen | None = None
        self.channel: grpc.Channel | None = None

    def start_provider(self, cwd: Path) -> provider_pb2_grpc.ResourceProviderStub:
        """`python <plugin dir> <engine address>` as the Python language host's RunPlugin runs it; the
        first line on stdout is the port the engine dials."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
        self.process = subprocess.Popen(
            [sys.executable, str(PROVIDER_DIR), self.address], cwd=cwd, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        line = self.process.stdout.readline().decode().strip()
        if not line.isdigit():
            self.process.kill()
            raise AssertionError(f"provider printed no port: {line!r}; stderr: {self.process.stderr.read().decode()}")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{line}")
        grpc.channel_ready_future(self.channel).result(timeout=30)
        return provider_pb2_grpc.ResourceProviderStub(self.channel)

    def construct(self, stub, token: str, name: str, inputs: dict[str, Any]) -> provider_pb2.ConstructResponse:
        struct = struct_pb2.Struct()
        struct.update(inputs)
        request = provider_pb2.ConstructRequest(
            project=PROJECT, stack=STACK, dryRun=True, parallel=4, monitorEndpoint=self.address, type=token,
            name=name, parent=stack_urn(PROJECT, STACK), inputs=struct, organization="organization",
        )  # fmt: skip
        return stub.Construct(request, timeout=120)

    def resources(self) -> list[Resource]:
        """What the provider registered, with the root stack the engine had registered before."""
        stack = Resource(urn=stack_urn(PROJECT, STACK), type=STACK_TYPE, name=f"{PROJECT}-{STACK}", custom=False, properties={})
        return [stack, *self.recording.recorded]

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process.stdout.close()
            self.process.stderr.close()
        self.server.stop(grace=None)
