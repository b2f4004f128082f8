"""The `cdb` command line: a thin argparse shell over the engine. `main(argv) -> int` is the tested entry.

Each command lives in its own module with `register(subparsers)`, which adds a parser and sets
`handler=<function(args) -> int>`. The registry below is explicit on purpose: no import-time discovery.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from cdb_cli import ui
from cdb_core.errors import CdbError

# One module per command, one line each.
COMMAND_MODULES: tuple[str, ...] = (
    "cdb_cli.preview",
    "cdb_cli.check",
    "cdb_cli.events",
    "cdb_cli.scan",
    "cdb_cli.audit",
    "cdb_cli.postcheck",
    "cdb_cli.policies",
    "cdb_cli.render",
    "cdb_cli.vault",
    "cdb_cli.images",
    "cdb_cli.provider",
)

# The `ops` extra of pyproject.toml (the operational tools' dependencies) by import name -> distribution:
# a `pulumi up` environment installs cdb-infra without it, and the commands that need it say so.
OPS_EXTRA = {"boto3": "boto3", "botocore": "boto3", "nats": "nats-py", "redis": "redis", "hvac": "hvac"}

EXIT_OK, EXIT_VIOLATIONS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells and the tools our users know report Ctrl-C


def _command_of(module_name: str) -> str:
    # Each module is named after its command: cdb_cli.preview -> `cdb preview`.
    return module_name.rsplit(".", 1)[1]


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or only the named command's (so `cdb check` does not import the audit tools)."""
    parser = argparse.ArgumentParser(
        prog="cdb",
        description=(
            "CDB_INFRA_POLICY verdicts without a cloud, a cluster or the Pulumi CLI. "
            "Exit codes: 0 compliant, 1 mandatory violations, 2 usage or input error "
            "(or the policy pack could not run), 3 incomplete (something could not be checked; "
            "--accept-incomplete accepts it), 130 interrupted (Ctrl-C). "
            "`cdb COMMAND --help` explains each command."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    _add_common_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        if only is None or _command_of(module_name) == only:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                # The whole parser (`cdb --help`) still lists a command whose extra is missing;
                # the command alone raises, and main() names the extra to install.
                if only is not None or _extra_of(exc) is None:
                    raise
                _register_unavailable(sub, _command_of(module_name), exc)
                continue
            module.register(sub)
    for command_parser in sub.choices.values():
        _add_common_options(command_parser, top=False)
    return parser


def _add_common_options(parser: argparse.ArgumentParser, top: bool) -> None:
    """-q and --color work before and after the command (`cdb -q check` and `cdb check -q`); the
    command's copy defaults to "not given" so it never overrides the one before the command."""
    group = parser.add_argument_group("output options")
    group.add_argument("-q", "--quiet", action="store_true", default=False if top else argparse.SUPPRESS,
                       help="print only findings, the verdict and errors: no notes, no progress, no resource tree")
    group.add_argument("--color", choices=ui.COLOR_CHOICES, default="auto" if top else argparse.SUPPRESS,
                       help="colour the text output: auto (a terminal, unless NO_COLOR is set), always, never")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cdb-infra")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    known = {_command_of(m) for m in COMMAND_MODULES}
    command = argv[0] if argv and argv[0] in known else None
    try:
        parser = build_parser(command)
    except ModuleNotFoundError as exc:
        return _missing_extra(exc, command or "")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    ui.configure(color=args.color, quiet=args.quiet)
    try:
        return int(args.handler(args))
    except ModuleNotFoundError as exc:
        return _missing_extra(exc, args.command)
    except CdbError as exc:
        # One line, whatever the input held (a key with a newline in it, say).
        print(f"cdb {args.command}: error: {' '.join(str(exc).splitlines())}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"cdb {args.command}: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED


def _extra_of(exc: ModuleNotFoundError) -> str | None:
    """The `ops` extra's distribution a failed import belongs to, or None for any other module."""
    return OPS_EXTRA.get((exc.name or "").split(".")[0])


def _extra_message(exc: ModuleNotFoundError) -> str:
    return (f"needs the operational tools' dependencies ({_extra_of(exc)} is not installed): "
            "pip install 'cdb-infra[ops]'")


def _register_unavailable(sub: argparse._SubParsersAction, command: str, exc: ModuleNotFoundError) -> None:
    parser = sub.add_parser(command, help=f"(unavailable here: {_extra_message(exc)})")
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.set_defaults(handler=lambda _args: _missing_extra(exc, command))


def _missing_extra(exc: ModuleNotFoundError, command: str) -> int:
    """A command that needs the `ops` extra, run where it is not installed: one line naming the fix."""
    if _extra_of(exc) is None:
        raise exc  # a broken installation, not a missing extra: the traceback is the useful report
    print(f"cdb{' ' + command if command else ''}: error: {_extra_message(exc)}", file=sys.stderr)
    return EXIT_ERROR


def run() -> None:
    """The console entry point: main(), then a quick exit.

    Once main returns every report is written and every pack process stopped; what remains is the
    interpreter freeing each object the Pulumi SDK built, which takes longer than a small preview.
    """
    try:
        code = main()
    except KeyboardInterrupt:  # Ctrl-C before a command's own handler runs (during imports, parsing)
        print("cdb: interrupted; nothing was written", file=sys.stderr)
        code = EXIT_INTERRUPTED
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # a reader that went away (cdb ... | head): the verdict stands
        pass
    os._exit(code)
