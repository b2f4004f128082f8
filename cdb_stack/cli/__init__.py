"""The `cdb` command line: a thin argparse shell over the engine. `main(argv) -> int` is the tested entry.

Each command lives in its own module with `register(subparsers)`, which adds a parser and sets
`handler=<function(args) -> int>`. The registry below is explicit on purpose: no import-time discovery.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from cdb_stack.errors import CdbError

# One module per command, one line each.
COMMAND_MODULES: tuple[str, ...] = (
    "cdb_stack.cli.preview",
    "cdb_stack.cli.check",
    "cdb_stack.cli.events",
    "cdb_stack.cli.scan",
    "cdb_stack.cli.audit",
    "cdb_stack.cli.postcheck",
    "cdb_stack.cli.policies",
    "cdb_stack.cli.render",
)

EXIT_OK, EXIT_VIOLATIONS, EXIT_ERROR = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cdb",
        description=(
            "CDB_INFRA_POLICY verdicts without a cloud, a cluster or the Pulumi CLI. "
            "Exit codes: 0 compliant, 1 mandatory violations, 2 usage or input error "
            "(or the policy pack could not run)."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    try:
        return int(args.handler(args))
    except CdbError as exc:
        print(f"cdb {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"cdb {args.command}: interrupted", file=sys.stderr)
        return EXIT_ERROR


def run() -> None:
    sys.exit(main())
