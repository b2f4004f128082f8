"""`cdb check`: the same policy pack over plain Kubernetes YAML (GitOps repositories, rendered output)."""

from __future__ import annotations

import argparse

from cdb_stack.cli import common

HELP = """\
Check Kubernetes manifests (files and folders, multi-document YAML) against the policy pack. Each
document's apiVersion/kind is mapped to its Pulumi type token, so the same rules judge YAML that was
not written with Pulumi. Malformed YAML is reported as FILE:LINE and exits 2.

exit codes: 0 compliant, 1 mandatory violations, 2 usage/input error or the pack could not run
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check", help="check plain Kubernetes YAML with the policy pack",
        description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="YAML files or folders (searched recursively)")
    common.add_output_options(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from cdb_stack.engine.run import check

    verdict = check(args.paths, args.policy_pack, common.policy_config(args))
    return common.emit(verdict, args)
