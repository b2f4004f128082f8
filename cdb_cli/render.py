"""`cdb render`: write the stack's Kubernetes objects for Flux, or check the committed copy for drift."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cdb_cli import ui
from cdb_cli.common import add_stack_options

HELP = """\
Run the stack's Pulumi program offline (as `cdb preview` does) and write every Kubernetes object it
declares as YAML, one file per object (<namespace>/<kind>-<name>.yaml, _cluster/ for cluster-scoped
objects), plus a kustomization.yaml listing them: the folder Flux's Kustomization syncs.

The output is deterministic: same code and config, same bytes. Objects are stamped with the revision
given by --revision, else the stack's cdb-infra:gitRevision, else the placeholder "unknown" (never the
current HEAD, which would change every file on every commit). The folder is replaced atomically, and
only if it is empty or was written by cdb render.

Render refuses values unknown until deploy, secrets, and objects without a name or provenance.
Helm charts and other remote components cannot be expanded offline: they are applied by Pulumi, not
synced by Flux, and are listed in kustomization.yaml as not rendered.

--check renders to memory and compares with DIR instead of writing. Every file counts: a changed
file, a missing file and an extra file are drift. Only the value of the cdb-infra.io/git-revision
annotation is not compared (the annotation must be present). kustomization.yaml records a digest of
what was rendered, so --check says which kind of drift it is: files edited by hand after the last
render, or code and config that changed since it (render again and commit).

exit codes: 0 written / no drift, 1 drift found (--check), 2 usage/input error or render refused
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render", help="write the stack's Kubernetes objects as YAML for Flux; --check finds drift",
        description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_stack_options(p)
    p.add_argument("--out", metavar="DIR", help="output folder (default: deploy/<STACK> in the project)")
    p.add_argument("--check", action="store_true", help="compare DIR with a fresh render; exit 1 on any difference")
    p.add_argument("--revision", metavar="SHA", help="commit sha to stamp (default: cdb-infra:gitRevision, else 'unknown')")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from cdb_engine.manifests.render import check_target, compare, drift_cause, render_files, render_stack, write_tree

    out = Path(args.out) if args.out else Path(args.cwd) / "deploy" / args.stack
    check_target(out, for_check=args.check)  # before rendering: a wrong --out must not cost a render
    with ui.progress(f"rendering stack {args.stack}"):
        rendered = render_stack(args.cwd, args.stack, args.revision)
    files = render_files(rendered)
    for warning in rendered.warnings:
        ui.note(f"cdb render: warning: {warning}")
    if args.check:
        differences = compare(files, out)
        if not differences:
            print(f"cdb render --check: {out} matches what the code renders ({len(files)} files)")
            return 0
        for d in differences:
            print(f"{d.state:8} {out / d.path}")
        print(f"cdb render --check: {len(differences)} file(s) in {out} differ from what the code renders; "
              + _cause_text(drift_cause(out), args.stack, out), file=sys.stderr)
        return 1
    write_tree(files, out)
    for s in rendered.skipped:
        ui.note(f"cdb render: not rendered: {s.type} {s.name}: {s.reason}")
    print(f"cdb render: wrote {len(rendered.manifests)} objects to {out}")
    return 0


def _cause_text(cause: str, stack: str, out: Path) -> str:
    again = f"`cdb render --stack {stack} --out {out}`"
    if cause == "code":
        return (f"the folder is as the last render wrote it, so the code or config changed since: run {again} "
                "and commit the result")
    if cause == "hand-edit":
        return (f"files were edited by hand after the last render (they no longer match its recorded digest): "
                f"move the change into the code, then run {again}")
    return f"change the code (never the rendered files) and run {again}"
