"""Options and output handling shared by the commands: the stack options (preview, render, vault), the
verdict reports (preview, check) and the schema compatibility checks (events schemas, provider)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cdb_cli import ui
from cdb_core.errors import CdbError
from cdb_core.files import write_atomic
from cdb_core.schema_compat import CheckResult

FORMATS = ("text", "json", "sarif", "markdown", "html")


def add_stack_options(parser: argparse.ArgumentParser) -> None:
    """--stack and --cwd of the commands that read a stack's Pulumi project (preview, render, vault)."""
    parser.add_argument("--stack", "-s", required=True, help="stack name; its config is read from Pulumi.<STACK>.yaml")
    parser.add_argument("--cwd", "-C", default=".", metavar="DIR", help="the Pulumi project directory (default: .)")


def add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=FORMATS, default="text",
        help="text reads like `pulumi preview`; json for machines; sarif (2.1.0) for code scanning; markdown for a pull-request comment or job summary; html a self-contained picture of zones and paths (default: text)",
    )
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of standard output")
    parser.add_argument("--policy-pack", metavar="DIR", help="policy pack directory (default: the project's policy_pack/, else the bundled pack)")
    parser.add_argument(
        "--policy-config", metavar="FILE",
        help="policy pack config JSON, as `pulumi preview --policy-pack-config` takes it",
    )
    parser.add_argument(
        "--accept-incomplete", action="store_true",
        help="a reviewer's explicit acceptance: exit 0 instead of 3 when nothing violates but something was "
             "not checked (unknown values, unexpanded components, unanswered invokes); still listed in the report",
    )


def write_output(text: str, output: str | None) -> None:
    if not output:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    target = Path(output)
    if not target.parent.is_dir():
        raise CdbError(f"{output}: the folder {target.parent} does not exist; create it or choose another --output")
    write_atomic(target, text if text.endswith("\n") else text + "\n")  # a reader never sees half a report


def emit(verdict, args: argparse.Namespace) -> int:
    from cdb_engine.reports import render

    for path, reason in verdict.skipped:
        ui.note(f"cdb {args.command}: skipped {path}: {reason}")
    if verdict.errors and verdict.pack is None and args.format == "text":
        # Nothing was judged (a refused policy config, a pack that would not start): a report would
        # read "no violations" above the error, so the error alone is what the user sees.
        for error in verdict.errors:
            print(f"cdb {args.command}: error: {error}", file=sys.stderr)
        return verdict.exit_code()
    verdict.accept_incomplete = bool(getattr(args, "accept_incomplete", False))
    color = args.format == "text" and not args.output and ui.use_color(sys.stdout)
    write_output(render(verdict, args.format, color=color, brief=ui.quiet()), args.output)
    if args.output:
        ui.note(f"cdb {args.command}: report written to {args.output}")
    return verdict.exit_code()


def policy_config(args: argparse.Namespace) -> dict | None:
    if not args.policy_config:
        return None
    from cdb_engine.judge.policy_config import load_policy_config

    return load_policy_config(args.policy_config)


def print_check(result: CheckResult, what: str) -> int:
    """Notes, errors and the verdict line of a compatibility check; its exit code (0 ok, 1 failed)."""
    for note in result.notes:
        print(f"note: {note}")
    for error in result.errors:
        print(f"error: {error}")
    print(f"{what}: {'ok' if result.ok else 'FAILED'}")
    return 0 if result.ok else 1
