"""`cdb images`: clause 5 judged on the container images the workloads run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cdb_cli import ui
from cdb_cli.common import write_output
from cdb_core.errors import CdbError

HELP = """\
Read each image (registry, OCI layout or archive), verify it by digest, and judge it against the
workload that runs it: a non-root numeric USER (or the workload's runAsUser), no VOLUME in a stateless
workload's image, no credential in ENV, labels or layer files (also in a file deleted by a later layer),
probe ports among the exposed ports; in prod (or with --require-pinned) every image runs at a digest
images.lock recorded. --stack S --lock runs the stack's program for its images, checks them and records
the ones that pass (reference, digest, platform, checks, cdb version); --stack S --check exits 1 when
the lock is stale (the deliver workflow's gate). Inputs: --stack S (rendered manifests in deploy/S), manifest
files or folders, or image references: docker://REF (the default), oci:DIR[:TAG], oci-archive:FILE[:TAG],
docker-archive:FILE[:REF]. Exit codes: 0 compliant (or the lock current), 1 findings (or the lock stale),
2 an image or input could not be read."""


def register(subparsers: argparse._SubParsersAction) -> None:
    from cdb_stack.images.model import DEFAULT_MAX_LAYER_BYTES, DEFAULT_PLATFORM
    from cdb_release.images.report import FORMATS

    parser = subparsers.add_parser("images", help="check container images against clause 5",
                                   description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="*", metavar="IMAGE_OR_MANIFEST")
    parser.add_argument("--stack", help="every image of the stack's rendered manifests (deploy/STACK)")
    parser.add_argument("--platform", default=DEFAULT_PLATFORM, help=f"OS/ARCH[/VARIANT] of an index (default {DEFAULT_PLATFORM})")
    parser.add_argument("--max-layer-bytes", type=int, default=DEFAULT_MAX_LAYER_BYTES,
                        help="refuse layers larger than this (default 512 MiB)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="verified blobs by digest (default $CDB_IMAGE_CACHE or ~/.cache/cdb/blobs)")
    parser.add_argument("--require-pinned", action="store_true",
                        help="every image must be pinned by digest or recorded in the lock (implied by --stack prod)")
    parser.add_argument("--lock", action="store_true",
                        help="resolve, check and record every image the stack's program declares (images that pass)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when the lock is stale: an image of the stack missing, changed upstream or "
                             "extra, or deploy/STACK running a digest the lock did not check (reads no layers)")
    parser.add_argument("--lock-file", type=Path, default=Path("images.lock"), help="default: images.lock")
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument("--output", "-o", metavar="FILE")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from cdb_release.images.cache import BlobCache, default_cache_dir
    from cdb_release.images import criteria
    from cdb_stack.images import lock
    from cdb_release.images.workloads import read_manifests

    manifests = [Path(i) for i in args.inputs if Path(i).is_dir() or i.endswith((".yaml", ".yml"))]
    references = [i for i in args.inputs if Path(i) not in manifests]
    if (args.lock or args.check) and (not args.stack or args.inputs):
        raise CdbError(f"{'--lock' if args.lock else '--check'} works on a whole stack's images: use --stack STACK "
                       "without image or manifest arguments")
    if args.lock and args.check:
        raise CdbError("--lock records, --check verifies: use one of them")
    if (args.lock or args.check) and not args.lock_file.resolve().parent.is_dir():
        raise CdbError(f"--lock-file {args.lock_file}: its folder does not exist")
    folder = Path("deploy") / (args.stack or "")
    if args.stack and not args.lock:
        if not folder.is_dir():
            raise CdbError(f"--stack {args.stack}: {folder} does not exist; run `cdb render --stack {args.stack}` "
                           "in the repository root first")
        manifests.append(folder)
    require_pinned = args.require_pinned or args.stack == "prod" or args.lock or args.check
    locked = lock.load(args.lock_file, args.stack or "") if require_pinned else {}
    if not manifests and not references and not args.lock:
        raise CdbError("name images, manifests or --stack; see `cdb images --help`")
    cache = BlobCache(args.cache_dir or default_cache_dir())
    if args.check:
        return _check(args, cache, locked, read_manifests([folder]))
    if args.lock:
        return _lock(args, cache, locked)
    workloads = read_manifests(manifests)
    by_image: dict[str, list] = {ref: [] for ref in references}
    for workload in workloads:
        by_image.setdefault(workload.image, []).append(workload)
    findings, images = _judge(args, cache, by_image)
    digests = {name: image.digest for name, image in images.items()}
    if require_pinned:
        for name, users in sorted(by_image.items()):
            for label, source in [(u.label, u.source) for u in users] or [("(no workload named)", "")]:
                findings += criteria.pinning(name, digests[name], locked, label, args.stack or "", source)
    return _report(findings, digests, args)


def _judge(args, cache, by_image: dict[str, list]) -> tuple[list, dict]:
    """The findings on every image, and each image as read (name -> image)."""
    from cdb_release.images.criteria import judge
    from cdb_release.images.reader import read_image

    findings, images = [], {}
    with ui.progress(f"reading {len(by_image)} image(s)"):
        for name, users in sorted(by_image.items()):
            images[name] = read_image(name, cache, platform=args.platform, max_layer_bytes=args.max_layer_bytes)
            findings += judge(images[name], users)
    return findings, images


def _report(findings: list, digests: dict, args) -> int:
    from cdb_release.images.report import render

    findings = sorted(set(findings))
    if args.format == "text" and not args.output and ui.tables():
        write_output(_tables(findings, digests), None)
    else:
        write_output(render(findings, digests, args.format), args.output)
    return 1 if findings else 0


def _tables(findings: list, digests: dict[str, str]) -> str:
    """The text report as tables, for a terminal: each image with its digest, then the findings; the
    closing verdict line is the plain report's own."""
    from cdb_release.images.report import render

    counts = {name: sum(1 for f in findings if f.image == name) for name in digests}
    out = ui.table(("Image", "Digest", "Findings"), [(name, digest, str(counts[name]) if counts[name] else "-")
                                                    for name, digest in sorted(digests.items())], title="Images")
    if findings:
        out += ui.table(("Image", "Workload", "Clause", "Rule", "Finding"),
                        [(f.image, f.workload, f.clause, f.rule, f.message) for f in findings], title="Findings")
    return out + render(findings, digests, "text").splitlines()[-1] + "\n"


def _declared(args) -> dict[str, list]:
    from cdb_stack.images.lock import key_of
    from cdb_release.images.stack_images import declared

    by_key: dict[str, list] = {}
    with ui.progress(f"running the program of stack {args.stack} for its images"):
        for workload in declared(Path("."), args.stack):
            by_key.setdefault(key_of(workload.image)[0], []).append(workload)
    return by_key


def _lock(args, cache, locked: dict) -> int:
    """Resolve every image the stack declares, judge it, record the ones that pass."""
    from cdb_stack.images import lock
    from cdb_release.images.stack_images import recorded

    by_key = _declared(args)
    findings, images = _judge(args, cache, by_key)
    failed = {f.image for f in findings}
    digests = {key: image.digest for key, image in images.items()}
    entries = recorded(by_key, images, failed, locked, args.platform)
    lock.save(args.lock_file, args.stack, entries)
    ui.note(f"cdb images: {len(by_key) - len(failed & set(by_key))} of {len(by_key)} image(s) of stack {args.stack} "
            f"checked and recorded in {args.lock_file}")
    for key in sorted(set(by_key) - set(entries)):
        ui.note(f"cdb images: {key} has findings and no earlier checked digest: stack {args.stack} cannot pin it")
    return _report(findings, digests, args)


def _check(args, cache, locked: dict, running: list) -> int:
    """images.lock is current: every declared image recorded, still at its digest, nothing extra, and
    deploy/STACK runs only recorded digests. Resolves tags (manifests and configs); reads no layers."""
    from cdb_release.images.reader import read_image
    from cdb_release.images.stack_images import stale

    by_key = _declared(args)
    resolved = {}
    with ui.progress(f"resolving {len(by_key)} image(s)"):
        for key in sorted(by_key):
            if key in locked:
                resolved[key] = read_image(key, cache, platform=args.platform, layers=False).digest
    problems = stale(args.stack, set(by_key), locked, resolved, running)
    for line in problems:
        print(line)
    if problems:
        print(f"cdb images --check: {args.lock_file} is not current for stack {args.stack} ({len(problems)} "
              "problem(s)): nothing may roll out until it is", file=sys.stderr)
        return 1
    print(f"cdb images --check: {args.lock_file} is current for stack {args.stack} ({len(by_key)} image(s), "
          f"every one running at a checked digest)")
    return 0
