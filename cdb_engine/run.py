"""The two verdicts the command line gives: a preview of a Pulumi program and a check of plain manifests.
Both end in the same place: the pack, asked over gRPC, and a Verdict."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from cdb_engine.judge import analyzer
from cdb_engine.model import Resource, Verdict
from cdb_core.project import load_project
from cdb_engine.preview.urns import STACK_TYPE, stack_urn
from cdb_core.errors import CdbError, ManifestError, PackError


def default_pack_dir(project_dir: Path | None = None) -> Path:
    """The project's own pack when it has one, else the pack installed with cdb-infra."""
    if project_dir is not None and (project_dir / "policy_pack" / "PulumiPolicy.yaml").is_file():
        return project_dir / "policy_pack"
    import policy_pack

    return Path(policy_pack.__file__).resolve().parent


def _judge(verdict: Verdict, session: analyzer.Session) -> Verdict:
    root = next((r.urn for r in verdict.resources if r.type == STACK_TYPE), stack_urn(verdict.project, verdict.stack))
    try:
        meta, findings = session.analyze(verdict.resources, root)
    except PackError as exc:
        verdict.errors.append(str(exc))
        return verdict
    verdict.pack = meta
    verdict.violations, verdict.unchecked = analyzer.split_unchecked(findings)
    return verdict


def preview(
    project_dir: str | Path, stack: str, pack_dir: str | Path | None = None, policy_config: dict | None = None
) -> Verdict:
    from cdb_engine.preview.program import run_program

    project = load_project(project_dir, stack)
    pack = Path(pack_dir) if pack_dir else default_pack_dir(project.directory)
    # The pack starts while the program runs: its start-up costs as much as a small program.
    with analyzer.Session(pack, project=project.name, stack=stack, config=project.config, policy_config=policy_config) as session:
        run = run_program(project)
        verdict = Verdict(mode="preview", project=project.name, stack=stack, resources=run.resources)
        verdict.errors.extend(f"the program logged an error: {e}" for e in run.errors)
        verdict.unanswered = run.unanswered
        return _judge(verdict, session)


def check(paths: Sequence[str | Path], pack_dir: str | Path | None = None, policy_config: dict | None = None,
          pack_process: bool = False, excludes: Sequence[str] = ()) -> Verdict:
    """Plain manifests through the pack: in this process when the pack allows it (local_pack), else, or
    with `pack_process`, through a pack process over gRPC exactly as `preview` asks it.

    Checking nothing is not a pass: inputs without a single Kubernetes object are an error."""
    from cdb_engine.judge import local_pack
    from cdb_engine.manifests.resources import load_manifests

    if not paths:
        raise CdbError("name at least one file or folder of Kubernetes YAML")
    pack = Path(pack_dir) if pack_dir else default_pack_dir()
    skipped: list = []

    def objects() -> list[Resource]:
        found = load_manifests(paths, excludes=excludes, skipped=skipped)
        if not found:
            left_out = f" ({len(skipped)} file(s) or folder(s) skipped as not Kubernetes)" if skipped else ""
            raise ManifestError(
                f"{', '.join(map(str, paths))}: no Kubernetes objects found{left_out}; "
                "name files or folders of manifests with apiVersion and kind")
        return found

    if pack_process:
        verdict = _check_over_grpc(pack, policy_config, objects)
        verdict.skipped = [tuple(s) for s in skipped]
        return verdict

    verdict = _manifests_verdict(objects())
    verdict.skipped = [tuple(s) for s in skipped]
    try:
        wiring = local_pack.load(pack)
    except PackError as exc:
        verdict.errors.append(str(exc))
        return verdict
    if wiring is None:  # a pack that can only run as a process
        over_grpc = _check_over_grpc(pack, policy_config, lambda: verdict.resources)
        over_grpc.skipped = verdict.skipped
        return over_grpc
    try:
        verdict.pack, findings = local_pack.analyze(
            wiring, pack.resolve(), verdict.resources, project="manifests", stack="check",
            policy_config=policy_config, root_urn=stack_urn("manifests", "check"))
    except PackError as exc:
        verdict.errors.append(str(exc))
        return verdict
    verdict.violations, verdict.unchecked = analyzer.split_unchecked(findings)
    return verdict


def _check_over_grpc(pack: Path, policy_config: dict | None, manifests: Callable[[], list[Resource]]) -> Verdict:
    # The pack process starts first, so its start-up overlaps with reading manifests not yet read.
    with analyzer.Session(pack, project="manifests", stack="check", policy_config=policy_config) as session:
        return _judge(_manifests_verdict(manifests()), session)


def _manifests_verdict(resources: list[Resource]) -> Verdict:
    return Verdict(mode="check", project="manifests", stack="check", resources=resources)
