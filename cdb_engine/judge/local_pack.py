"""`cdb check`'s default judge: the pack's own servicer, run in this process instead of behind gRPC.

A pack that exposes its wiring as `pack.py` with `servicer()` (ours does) is loaded and asked the same
calls in the same order as over the Analyzer protocol: ConfigureStack, GetAnalyzerInfo, Configure with
the reconciled policy config, Analyze per resource, AnalyzeStack with parents and dependencies. What
gRPC adds is transport, and for plain manifests the transport is most of the cost: one round trip per
resource and a Struct built and decoded for each. Each document is instead handed over as the data a
Struct would deliver (numbers as floats), so the policies see what the pack process would show them.

Fail closed as over gRPC: a pack that cannot load, a policy that raises, and a call that makes no
progress within the call deadline each raise PackError. A pack without `pack.py` (any other
pulumi-policy pack) is started as a process instead, as is every pack under `--pack-process`.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from google.protobuf import empty_pb2, struct_pb2

from cdb_engine.judge import analyzer, pack_process
from cdb_engine.model import Finding, PackMeta, Resource
from cdb_engine.judge.policy_config import reconcile
from cdb_core.errors import CdbError, PackError

WIRING = "pack.py"


def load(pack_dir: Path) -> ModuleType | None:
    """The pack's wiring module when the pack can be judged in-process, else None (start it as a process)."""
    pack_dir = pack_dir.resolve()
    if not (pack_dir / "__init__.py").is_file() or not _declares_wiring(pack_dir / WIRING):
        return None
    import policy_pack

    if Path(policy_pack.__file__).resolve().parent == pack_dir:
        return _imported("policy_pack.pack")
    # A copy of the pack in a project: imported as a package of its own, under a name no other can take.
    name = "_cdb_pack_" + hashlib.sha256(str(pack_dir).encode()).hexdigest()[:12]
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, pack_dir / "__init__.py",
                                                      submodule_search_locations=[str(pack_dir)])
        if spec is None or spec.loader is None:
            return None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException as exc:
            del sys.modules[name]
            raise PackError(f"{pack_dir}: the policy pack failed to load: {_reason(exc)}") from None
    return _imported(f"{name}.pack")


def _declares_wiring(path: Path) -> bool:
    """Whether `path` defines a top-level servicer(), read without running it: another pack's module of
    that name might serve at import (as PolicyPack(...) does) and would never return."""
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return False  # the process route reports what is wrong with the pack
    return any(isinstance(node, ast.FunctionDef) and node.name == "servicer" for node in tree.body)


def _imported(module_name: str) -> ModuleType:
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - a pack that cannot load is an error verdict, never a pass
        raise PackError(f"the policy pack failed to load: {_reason(exc)}") from None
    if not callable(getattr(module, "servicer", None)):
        raise PackError(f"{module_name}: servicer is not a function; run the pack with --pack-process")
    return module


def _reason(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[-1] if lines else ''}".rstrip(": ")


def _bounded(method: str, work: Callable[[list[int]], Any]) -> Any:
    """Run work(progress) on a helper thread; fail when progress[0] stalls for a whole call deadline."""
    outcome: dict[str, Any] = {}
    progress = [0]
    finished = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = work(progress)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            outcome["error"] = exc
        finally:
            finished.set()

    # A daemon thread: a policy that never returns must not keep cdb alive after the error is reported.
    threading.Thread(target=run, name=f"cdb-pack-{method}", daemon=True).start()
    seen = -1
    while not finished.wait(pack_process.CALL_TIMEOUT_S):
        if progress[0] == seen:
            raise PackError(f"policy pack: {method} did not answer within {pack_process.CALL_TIMEOUT_S:.0f}s")
        seen = progress[0]
    if "error" in outcome:
        exc = outcome["error"]
        if isinstance(exc, CdbError):
            raise exc
        raise PackError(f"policy pack: {method} failed: {_reason(exc)}") from None
    return outcome["value"]


def analyze(wiring: ModuleType, pack_dir: Path, resources: Sequence[Resource], *, project: str, stack: str,
            policy_config: dict | None = None, root_urn: str = "") -> tuple[PackMeta, list[Finding]]:
    """The whole Analyzer conversation with the pack's servicer in this process."""
    from pulumi.runtime.proto import analyzer_pb2

    def opening(progress: list[int]):
        servicer = wiring.servicer()
        # The pack process would configure the Pulumi runtime from its environment here; in this process
        # that would rewrite cdb's own runtime settings, and no rule reads them.
        servicer.in_process()
        servicer.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=stack, project=project, organization="organization", dry_run=True), None)
        info = servicer.GetAnalyzerInfo(empty_pb2.Empty(), None)
        meta = analyzer.pack_meta(info, pack_dir, pack_process.pack_version(pack_dir))
        levels = reconcile(info, policy_config, pack_label=f"{meta.name} {meta.version}")
        try:
            servicer.Configure(analyzer.configure_request(levels), None)
        except Exception as exc:  # noqa: BLE001 - as the CLI reports a failed Configure
            raise PackError(f"policy pack: Configure failed: {_reason(exc).split(': ', 1)[-1]}") from None
        return servicer, meta

    servicer, meta = _bounded("Configure", opening)
    decode = _decoder(servicer)

    def judge(resource: Resource, props: Any):
        request = analyzer_pb2.AnalyzeRequest(type=resource.type, urn=resource.urn, name=resource.name,
                                              options=analyzer._options(resource))
        return servicer.analyze_decoded(request, props)

    decoded: list[Any] = []

    def each(progress: list[int]) -> list:
        answers = []
        for resource in resources:
            props = decode(resource.properties)
            decoded.append(props)
            answers.append(judge(resource, props))
            progress[0] += 1
        return answers

    answers = _bounded("Analyze", each)
    stack_request = analyzer._stack_request(resources, [struct_pb2.Struct()] * len(resources))
    stack_answer = _bounded("AnalyzeStack", lambda _: servicer.analyze_stack_decoded(stack_request, decoded))
    return meta, analyzer.findings_of(meta, resources, answers, stack_answer, root_urn)


def _decoder(servicer) -> Callable[[dict], Any]:
    """The servicer's own decode_data: the pack decides how data reaches its policies (its own servicer
    shares decoded mappings, the SDK's own gets each document as the Struct a request would carry)."""
    return servicer.decode_data
