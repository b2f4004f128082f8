"""`cdb check`: the same policy pack over plain Kubernetes YAML (GitOps repositories, rendered output)."""

from __future__ import annotations

import argparse

from cdb_cli import common, ui

HELP = """\
Check Kubernetes manifests (files and folders, multi-document YAML) against the policy pack. Each
document's apiVersion/kind is mapped to its Pulumi type token, so the same rules judge YAML that was
not written with Pulumi. Malformed YAML is reported as FILE:LINE and exits 2. `-` reads standard input.

Folders of a GitOps repository hold more than objects: Helm charts (a folder with Chart.yaml), Helm
values, kustomization files and other configuration without apiVersion/kind are recognised by their
content, skipped and listed as skipped (on stderr, and under "skipped" in JSON). --exclude leaves out
more. A file that mixes objects with other documents, or an object without apiVersion or kind, stays an
error. Inputs without a single Kubernetes object are an error too: checking nothing is not a pass.

The bundled pack (and any copy with its pack.py) is judged in this process: the same servicer, asked
the same calls as over the Analyzer protocol, without a gRPC round trip per document. Other packs, and
every pack under --pack-process, run as a separate process asked over gRPC, as `pulumi preview` does.

exit codes: 0 compliant, 1 mandatory violations, 2 usage/input error or the pack could not run,
3 incomplete (a value not checked; --accept-incomplete accepts it)
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check", help="check plain Kubernetes YAML with the policy pack",
        description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="YAML files or folders (searched recursively); - for standard input")
    p.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                   help="leave out files or folders matching GLOB, relative to the folder given or by name "
                        "(e.g. 'charts/*', '**/values*.yaml'); repeatable")
    common.add_output_options(p)
    p.add_argument("--pack-process", action="store_true",
                   help="run the pack as its own process over the Analyzer gRPC protocol, as the Pulumi CLI does")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from cdb_engine.preview.collector import rare_collections
    from cdb_engine.run import check

    with rare_collections():
        with ui.progress("checking manifests"):
            verdict = check(args.paths, args.policy_pack, common.policy_config(args), pack_process=args.pack_process,
                            excludes=args.exclude)
        return common.emit(verdict, args)
