"""`cdb preview`: the main job. Runs the stack's program offline and asks the policy pack for a verdict."""

from __future__ import annotations

import argparse

from cdb_cli import common, ui

HELP = """\
Run the Pulumi program of a project (default: the current folder) offline under Pulumi's mock engine,
with the config of Pulumi.<STACK>.yaml, record every resource it registers, and ask the policy pack
over the real Analyzer gRPC protocol, as `pulumi preview --policy-pack` does. No cloud, cluster or
Pulumi CLI is needed.

Values that cannot be known at preview (what only the cluster fills in, and anything built from it)
are reported as "not checked", never as passes. YAML ConfigFile/ConfigGroup (v1 and v2) are expanded
as the provider expands them; Helm charts and releases, kustomize and YAML fetched from a URL cannot be
expanded offline and are listed as such.

exit codes: 0 compliant and complete, 1 mandatory violations, 2 usage/input error or the pack could not
run, 3 incomplete: no violation among what was judged, but something was not (not checked, not
expanded, an invoke not answered); --accept-incomplete turns 3 into 0 for a reviewer
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "preview", help="offline preview of a stack with the policy pack",
        description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common.add_stack_options(p)
    p.add_argument(
        "--diff", metavar="BASE",
        help="compare with BASE: a Git revision (its own program previewed in a separate process: every resource "
             "by URN, Vault and providers included) or a folder written by cdb render (its Kubernetes objects); "
             "each is create, update, delete, replace or unchanged",
    )
    common.add_output_options(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from cdb_engine.preview.collector import rare_collections
    from cdb_engine.run import preview

    with rare_collections():
        with ui.progress(f"previewing stack {args.stack}"):
            verdict = preview(args.cwd, args.stack, args.policy_pack, common.policy_config(args))
            if args.diff and not verdict.errors:
                verdict.diff = _diff(args, verdict)
        return common.emit(verdict, args)


def _diff(args: argparse.Namespace, verdict):
    import tempfile
    from pathlib import Path

    from cdb_engine.reports.diff_sources import diff_against

    with tempfile.TemporaryDirectory(prefix="cdb-diff-") as scratch:
        return diff_against(args.diff, Path(args.cwd), args.stack, verdict.resources, Path(scratch))
