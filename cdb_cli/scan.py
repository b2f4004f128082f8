"""`cdb scan [PATH...]`: find secrets in the repository's files and in rendered output."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from cdb_cli import ui
from cdb_cli.common import write_output
from cdb_core.errors import CdbError
from cdb_ops.scan import DEFAULT_ALLOWLIST, FORMATS, render, scan
from cdb_ops.scan.files import repository_files, repository_root, walk

HELP = """\
Scan files for secrets with detect-secrets' detectors plus cdb's own (plaintext secret-like values in
Pulumi stack files, literal Kubernetes Secret data, cloud / Git-hosting / Vault token formats).
Without PATH, scans the repository's files as Git lists them (tracked, plus untracked files that are
not ignored). With PATH (files or folders, e.g. rendered output), scans those; add --tracked to scan
the repository too. PATH works outside a Git repository as well (paths are then relative to the folder
the paths share, and the allow-list is looked for there). Allow-list entries that matched nothing are
reported only when the whole repository was scanned. Findings name file, line and detector, never the secret.
False positives go into the allow-list file (default: .secrets-allowlist.yaml at the repository root),
one entry per finding with path, detector, line or fingerprint, and a reason.
Exit codes: 0 no findings, 1 findings, 2 usage or input error."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("scan", help="find secrets in the repository and in rendered output",
                                   description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders to scan")
    parser.add_argument("--tracked", action="store_true", help="also scan the repository's files when PATH is given")
    parser.add_argument("--root", type=Path, default=None,
                        help="repository root (default: the Git top level of the current directory)")
    parser.add_argument("--allowlist", type=Path, default=None,
                        help=f"allow-list file (default: <root>/{DEFAULT_ALLOWLIST})")
    parser.add_argument("--format", choices=FORMATS, default="text", help="report format (default: text)")
    parser.add_argument("--output", type=Path, default=None, help="write the report to this file instead of stdout")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    full_repository = not args.paths or args.tracked
    root = (args.root or _root(args.paths, needs_git=full_repository)).resolve()
    if args.output is not None and args.output.is_dir():
        raise CdbError(f"--output {args.output}: is a folder; name a file for the report")
    targets = walk(args.paths) if args.paths else []
    if full_repository:
        targets = repository_files(root) + targets
    allowlist = args.allowlist or root / DEFAULT_ALLOWLIST
    with ui.progress(f"scanning {len(targets)} files"):
        result = scan(targets, root=root, allowlist_path=allowlist, full_repository=full_repository)
    text = render(result, args.format)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        write_output(text, str(args.output))  # atomic: Ctrl-C never leaves half a report
        if not ui.quiet():
            print(f"cdb scan: {len(result.findings)} finding(s) in {result.files_scanned} file(s); "
                  f"report written to {args.output}")
    else:
        print(text, end="")
    return result.exit_code


def _root(paths: list[Path], needs_git: bool) -> Path:
    """The Git top level of the current folder; for named paths outside any repository, the folder they
    share (paths in reports and allow-list entries are relative to it)."""
    try:
        return repository_root(Path.cwd())
    except CdbError:
        if needs_git:
            raise
    existing = [p.resolve() for p in paths if p.exists()]
    if not existing:
        return Path.cwd()
    common = Path(os.path.commonpath([str(p if p.is_dir() else p.parent) for p in existing]))
    return common
