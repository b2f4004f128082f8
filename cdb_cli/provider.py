"""`cdb provider`: keep the `cdb` Pulumi package's schema a compatibility contract (see package_schema)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "provider", help="check or record the schema of the `cdb` Pulumi package (provider/)",
        description="--check fails when provider/schema.json or provider/inputs.py is stale, or when the schema "
        "changed in a way that breaks existing programs without a new major version (a new minor one for "
        "additions), or CHANGELOG.md lacks the version; --write regenerates both files (refused if that hides a break). "
        "Exit codes: 0 ok, 1 the check failed (or the write was refused), 2 a recorded file is unreadable.",
    )  # fmt: skip
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="verify the recorded schema against the code")
    mode.add_argument("--write", action="store_true", help="regenerate provider/inputs.py and provider/schema.json")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from cdb_cli.common import print_check
    from cdb_release import package_schema

    return print_check(package_schema.run(write=args.write), f"provider schema {'write' if args.write else 'check'}")
