"""`cdb images`: clause 5 judged on the container images the workloads run."""

from __future__ import annotations

import argparse
from pathlib import Path

from cdb_stack.cli import ui
from cdb_stack.cli.common import write_output
from cdb_stack.errors import CdbError

HELP = """\
Read each image (registry, OCI layout or archive), verify it by digest, and judge it against the
workload that runs it: a non-root numeric USER (or the workload's runAsUser), no VOLUME in a stateless
workload's image, no credential in ENV, labels or layer files (also in a file deleted by a later layer),
probe ports among the exposed ports; in prod (or with --require-pinned) every image pinned by digest,
in the manifest or in images.lock (--lock records the images that passed). Inputs: --stack S (rendered manifests in deploy/S), manifest
files or folders, or image references: docker://REF (the default), oci:DIR[:TAG], oci-archive:FILE[:TAG],
docker-archive:FILE[:REF]. Exit codes: 0 compliant, 1 findings, 2 an image or input could not be read."""


def register(subparsers: argparse._SubParsersAction) -> None:
    from cdb_stack.images.model import DEFAULT_MAX_LAYER_BYTES, DEFAULT_PLATFORM
    from cdb_stack.images.report import FORMATS

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
                        help="record the digests of the images that passed in the lock file, for --stack")
    parser.add_argument("--lock-file", type=Path, default=Path("images.lock"), help="default: images.lock")
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument("--output", "-o", metavar="FILE")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from cdb_stack.images.cache import BlobCache, default_cache_dir
    from cdb_stack.images import lock
    from cdb_stack.images.criteria import judge
    from cdb_stack.images.reader import read_image
    from cdb_stack.images.report import render
    from cdb_stack.images.workloads import read_manifests

    manifests = [Path(i) for i in args.inputs if Path(i).is_dir() or i.endswith((".yaml", ".yml"))]
    references = [i for i in args.inputs if Path(i) not in manifests]
    if args.stack:
        folder = Path("deploy") / args.stack
        if not folder.is_dir():
            raise CdbError(f"--stack {args.stack}: {folder} does not exist; run `cdb render --stack {args.stack}` "
                           "in the repository root first")
        manifests.append(folder)
    if args.lock and not args.stack:
        raise CdbError("--lock records digests per stack: add --stack STACK")
    if args.lock and not args.lock_file.resolve().parent.is_dir():
        raise CdbError(f"--lock-file {args.lock_file}: its folder does not exist")
    require_pinned = args.require_pinned or args.stack == "prod" or args.lock
    locked = lock.load(args.lock_file, args.stack or "") if require_pinned else {}
    if not manifests and not references:
        raise CdbError("name images, manifests or --stack; see `cdb images --help`")
    workloads = read_manifests(manifests)
    by_image: dict[str, list] = {ref: [] for ref in references}
    for workload in workloads:
        by_image.setdefault(workload.image, []).append(workload)
    cache = BlobCache(args.cache_dir or default_cache_dir())
    findings, digests, checked = [], {}, {}
    with ui.progress(f"reading {len(by_image)} image(s)"):
        for name, users in sorted(by_image.items()):
            image = read_image(name, cache, platform=args.platform, max_layer_bytes=args.max_layer_bytes)
            digests[name] = image.digest
            found = judge(image, users)
            if not found and args.lock:
                checked[name] = image.digest
            if require_pinned and name not in checked:
                for label, source in [(u.label, u.source) for u in users] or [("(no workload named)", "")]:
                    found += lock.pinning(name, image.digest, locked, label, source)
            findings += found
    if args.lock:
        lock.save(args.lock_file, args.stack, {**{k: v for k, v in locked.items() if k in by_image}, **checked})
        ui.note(f"cdb images: {len(checked)} checked digest(s) recorded in {args.lock_file} for {args.stack}")
    if args.format == "text" and not args.output and ui.tables():
        write_output(_tables(findings, digests), None)
    else:
        write_output(render(findings, digests, args.format), args.output)
    return 1 if findings else 0


def _tables(findings: list, digests: dict[str, str]) -> str:
    """The text report as tables, for a terminal: each image with its digest, then the findings; the
    closing verdict line is the plain report's own."""
    from cdb_stack.images.report import render

    counts = {name: sum(1 for f in findings if f.image == name) for name in digests}
    out = ui.table(("Image", "Digest", "Findings"), [(name, digest, str(counts[name]) if counts[name] else "-")
                                                    for name, digest in sorted(digests.items())], title="Images")
    if findings:
        out += ui.table(("Image", "Workload", "Clause", "Rule", "Finding"),
                        [(f.image, f.workload, f.clause, f.rule, f.message) for f in findings], title="Findings")
    return out + render(findings, digests, "text").splitlines()[-1] + "\n"
