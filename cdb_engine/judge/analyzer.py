"""Talks to a policy pack the way the Pulumi CLI does.

The pack is started as `python -u -m pulumi.policy <engine-address> <pack-dir>` (cwd = pack dir, with
PULUMI_PROJECT/STACK/DRY_RUN/CONFIG in the environment), prints its port, and is asked over the real
Analyzer gRPC protocol: Handshake and ConfigureStack (tolerated when unimplemented, as the engine does),
GetAnalyzerInfo, Configure, Analyze per resource, and AnalyzeStack with parents and dependencies (sent as
soon as its request is built: the pack answers each call on its own, as it does under the engine).

Fail closed: a pack that does not start, crashes, raises inside a policy or does not answer in time
raises PackError. The caller turns that into a verdict with errors (exit 2), never into a pass.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import grpc
from google.protobuf import empty_pb2, struct_pb2

from cdb_engine.judge import pack_process
from cdb_engine.model import Finding, PackMeta, PolicyMeta, Resource
from cdb_engine.judge.pack_process import PackProcess
from cdb_engine.judge.policy_config import reconcile
from cdb_core.errors import CdbError, PackError

UNCHECKED_PREFIX = "can't run policy"
_LEVELS = {0: "advisory", 1: "mandatory", 2: "disabled", 3: "remediate"}
_SEVERITIES = {0: "unspecified", 1: "low", 2: "medium", 3: "high", 4: "critical"}
_KINDS = {1: "resource", 2: "stack"}  # PolicyType; 0 is POLICY_TYPE_UNKNOWN


def _struct(value: dict) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(value)
    return s


def _inputs(resource: Resource) -> struct_pb2.Struct:
    """The resource's inputs as the Analyzer receives them: as registered when known (parsed in C, a
    fortieth of the cost of building the Struct again from the properties)."""
    return struct_pb2.Struct.FromString(resource.wire) if resource.wire is not None else _struct(resource.properties)


def pack_meta(info, pack_dir: Path, version: str) -> PackMeta:
    policies = tuple(
        PolicyMeta(
            name=p.name,
            description=p.description,
            enforcement=_LEVELS.get(p.enforcementLevel, "advisory"),
            severity=_SEVERITIES.get(p.severity, "unspecified"),
            clause=p.framework.reference if p.HasField("framework") else "",
            kind=_KINDS.get(p.policy_type, "resource"),
            remediation=p.remediation_steps,
            url=p.url,
        )
        for p in info.policies
    )
    return PackMeta(name=info.name, version=version, path=_shown(pack_dir), policies=policies)


def _shown(path: Path) -> str:
    """Paths in reports are relative to where cdb runs, so reports carry no machine paths."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix() or "."
    except ValueError:
        return path.name


def _finding(diag, meta: PackMeta, default_urn: str) -> Finding:
    policy = meta.policy(diag.policyName)
    message = diag.message
    # The SDK prefixes every violation with the policy description; reports show them apart.
    if diag.description and message.startswith(diag.description + "\n"):
        message = message[len(diag.description) + 1 :]
    severity = _SEVERITIES.get(diag.severity, "unspecified")
    if severity == "unspecified" and policy is not None:
        severity = policy.severity
    return Finding(
        policy=diag.policyName,
        enforcement=_LEVELS.get(diag.enforcementLevel, "advisory"),
        severity=severity,
        clause=policy.clause if policy else "",
        urn=diag.urn or default_urn,
        message=message,
        description=diag.description,
    )


def configure_request(levels: dict[str, tuple[int, dict]]):
    """The Configure request for reconciled policy config (`policy_config.reconcile`)."""
    from pulumi.runtime.proto import analyzer_pb2

    return analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={
        name: analyzer_pb2.PolicyConfig(enforcementLevel=level, properties=_struct(props))
        for name, (level, props) in levels.items()
    })


def findings_of(meta: PackMeta, resources: Sequence[Resource], responses: Sequence, stack_response,
                root_urn: str) -> list[Finding]:
    """The findings of one analysis, in resource order, the stack-wide ones last."""
    findings: list[Finding] = []
    for resource, response in zip(resources, responses):
        findings.extend(_finding(d, meta, resource.urn) for d in response.diagnostics)
    findings.extend(_finding(d, meta, root_urn) for d in stack_response.diagnostics)
    return findings


def _options(resource: Resource):
    from pulumi.runtime.proto import analyzer_pb2

    return analyzer_pb2.AnalyzerResourceOptions(parent=resource.parent or "")


# Resources per pack process before a second one pays for its start-up (about a second of imports).
RESOURCES_PER_EXTRA_PACK = 400
IN_FLIGHT = 32


def default_jobs(count: int) -> int:
    return max(1, min(os.cpu_count() or 1, 1 + count // RESOURCES_PER_EXTRA_PACK, 4))


def _start(pack_dir: Path, project: str, stack: str, config: dict[str, str], policy_config: dict | None):
    """Start one pack and take it through the engine's opening calls; return (pack, meta)."""
    from pulumi.runtime.proto import analyzer_pb2

    pack = PackProcess(pack_dir, project, stack, config)
    try:
        pack.call(
            "Handshake",
            analyzer_pb2.AnalyzerHandshakeRequest(engine_address="127.0.0.1:0", root_directory=str(pack.pack_dir)),
            tolerate_unimplemented=True,
        )
        pack.call(
            "ConfigureStack",
            analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=stack, project=project, organization="organization", dry_run=True, config=config
            ),
            tolerate_unimplemented=True,
        )
        info = pack.call("GetAnalyzerInfo", empty_pb2.Empty())
        meta = pack_meta(info, pack.pack_dir, pack.version)
        levels = reconcile(info, policy_config, pack_label=f"{meta.name} {meta.version}")
        pack.call("Configure", configure_request(levels))
        return pack, meta
    except BaseException:
        pack.close()
        raise


class _Feed:
    """One analysis: resources handed out to the packs as they have capacity, requests built on the way.

    Each request is built by the worker that sends it, so building overlaps with the packs' work instead
    of preceding it, and each Struct is built once for both calls. The worker that builds the last one
    sends the stack-wide request to the first pack right away, while per-resource answers still arrive.
    """

    def __init__(self, resources: Sequence[Resource], first_pack) -> None:
        self.resources = resources
        self.first_pack = first_pack
        self.responses: list = [None] * len(resources)
        self.structs: list = [None] * len(resources)
        self._lock = threading.Lock()
        self._cursor = iter(range(len(resources)))
        self._built = 0
        self._stack_future = None
        self._stack_error: BaseException | None = None
        if not resources:
            self._send_stack()

    def _next(self) -> int | None:
        with self._lock:
            return next(self._cursor, None)

    def _request(self, index: int):
        from pulumi.runtime.proto import analyzer_pb2

        r = self.resources[index]
        struct = self.structs[index] = _inputs(r)
        request = analyzer_pb2.AnalyzeRequest(type=r.type, properties=struct, urn=r.urn, name=r.name, options=_options(r))
        with self._lock:
            self._built += 1
            last = self._built == len(self.resources)
        if last:
            self._send_stack()
        return request

    def _send_stack(self) -> None:
        try:
            pack, _ = self.first_pack.result()
            self._stack_future = pack.stub.AnalyzeStack.future(_stack_request(self.resources, self.structs),
                                                                timeout=pack_process.CALL_TIMEOUT_S)
        except BaseException as exc:  # noqa: BLE001 - raised where the answer is awaited
            self._stack_error = exc

    def work(self, started) -> None:
        pack, _ = started.result()
        pending: list = []
        while (index := self._next()) is not None:
            pending.append((index, pack.stub.Analyze.future(self._request(index), timeout=pack_process.CALL_TIMEOUT_S)))
            if len(pending) >= IN_FLIGHT:
                done, future = pending.pop(0)
                self.responses[done] = _result(future)
        for done, future in pending:
            self.responses[done] = _result(future)

    def stack_response(self):
        if self._stack_error is not None:
            raise self._stack_error
        if self._stack_future is None:
            raise PackError("policy pack: AnalyzeStack was never sent (a resource could not be encoded)")
        return _result(self._stack_future, "AnalyzeStack")


def _stack_request(resources: Sequence[Resource], structs: Sequence[struct_pb2.Struct]):
    from pulumi.runtime.proto import analyzer_pb2

    return analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                type=r.type,
                properties=s,
                urn=r.urn,
                name=r.name,
                options=_options(r),
                parent=r.parent or "",
                dependencies=list(r.dependencies),
                propertyDependencies={
                    k: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(v))
                    for k, v in r.property_dependencies.items()
                },
            )
            for r, s in zip(resources, structs)
        ]
    )


class Session:
    """Pack processes started ahead of the work, then fed from one shared queue of resources.

    `Session(...)` starts the first pack at once, so its start-up (about a second of imports) overlaps
    with running the program or reading manifests. `analyze` adds packs for large inputs; every pack is
    asked exactly as the engine asks one, and each takes the next resource as soon as it has capacity,
    with several calls in flight (the engine calls analyzers in parallel too). The stack-wide analysis
    goes to the first pack. Findings come back in resource order.
    """

    def __init__(self, pack_dir: str | Path, *, project: str, stack: str, config: dict[str, str] | None = None,
                 policy_config: dict | None = None, jobs: int | None = None):
        from concurrent.futures import ThreadPoolExecutor

        self._args = (Path(pack_dir), project, stack, config or {}, policy_config)
        self._jobs = jobs
        self._pool = ThreadPoolExecutor(max_workers=8)
        self._starting = [self._pool.submit(_start, *self._args)]

    def _packs(self) -> tuple[list[PackProcess], PackMeta]:
        packs, meta, errors = [], None, []
        for started in self._starting:
            try:
                pack, meta = started.result()
                packs.append(pack)
            except (PackError, CdbError) as exc:
                errors.append(exc)
        self._started = packs
        if errors:
            raise errors[0]
        return packs, meta

    def analyze(self, resources: Sequence[Resource], root_urn: str = "") -> tuple[PackMeta, list[Finding]]:
        jobs = self._jobs or default_jobs(len(resources))
        self._starting += [self._pool.submit(_start, *self._args) for _ in range(jobs - 1)]
        feed = _Feed(resources, first_pack=self._starting[0])
        workers = [self._pool.submit(feed.work, started) for started in self._starting]
        packs, meta = self._packs()
        for worker in workers:
            worker.result()
        findings = findings_of(meta, resources, feed.responses, feed.stack_response(), root_urn)
        for pack in packs:
            if pack._proc.poll() not in (None, 0):
                raise PackError(f"policy pack exited during analysis: {pack.stderr_tail()}")
        return meta, findings

    def close(self) -> None:
        for started in self._starting:
            try:
                started.result()[0].close()
            except Exception:  # noqa: BLE001 - a pack that failed to start has nothing left to close
                pass
        self._pool.shutdown(wait=True)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _result(future, method: str = "Analyze"):
    try:
        return future.result()
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
            raise PackError(f"policy pack: {method} did not answer within {pack_process.CALL_TIMEOUT_S:.0f}s") from None
        detail = (exc.details() or "").strip().splitlines()
        raise PackError(f"policy pack: {method} failed: {detail[-1] if detail else exc.code().name}") from None


def analyze(pack_dir: str | Path, resources: Sequence[Resource], *, project: str, stack: str,
            config: dict[str, str] | None = None, policy_config: dict | None = None, root_urn: str = "",
            jobs: int | None = None) -> tuple[PackMeta, list[Finding]]:
    """Run the whole Analyzer conversation for resources already at hand."""
    with Session(pack_dir, project=project, stack=stack, config=config, policy_config=policy_config, jobs=jobs) as session:
        return session.analyze(resources, root_urn)


def split_unchecked(findings: Iterable[Finding]) -> tuple[list[Finding], list[Finding]]:
    """Separate real violations from policies that could not run because a value is unknown at preview."""
    violations, unchecked = [], []
    for f in findings:
        (unchecked if f.enforcement == "advisory" and f.message.startswith(UNCHECKED_PREFIX) else violations).append(f)
    return violations, unchecked
