"""`cdb audit merge|drift|breakglass|verify`: the tamper-evident audit log."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cdb_ops.audit import Pending, S3Store, Spool, StoreSettings, default_spool_dir, submit, verify
from cdb_ops.audit import breakglass, signing
from cdb_ops.audit.records import iso, parse_time, utc_now
from cdb_ops.audit.sources import drift_items, preview_summary, read_json
from cdb_ops.audit.store import StoreUnavailable

HELP = """\
Write and verify the audit log: JSON records (schema version 2) chained by SHA-256 over RFC 8785
canonical JSON, signed with Ed25519, each stored with S3 Object Lock retention in COMPLIANCE mode.
Store settings come from the environment only: CDB_AUDIT_ENDPOINT, CDB_AUDIT_BUCKET, CDB_AUDIT_PREFIX
(default cdb-audit/), CDB_AUDIT_RETENTION_DAYS (default 2555) and the standard AWS_* credentials. The
signing key comes from the secret manager: CDB_AUDIT_SIGNING_KEY_FILE, CDB_AUDIT_SIGNING_KEY or
CDB_AUDIT_SIGNING_KEY_VAULT (<kv-v2 mount>/<path>#<field> at VAULT_ADDR with VAULT_TOKEN); verify
trusts the public keys in keys/audit-signing.pub (or CDB_AUDIT_PUBLIC_KEYS). Every record is spooled
locally first (the spool is locked: writers may share it); when the store cannot be reached the command
exits 2 and the next `cdb audit` run sends the spool first, in order, each record once.
Exit codes: 0 ok, 1 findings (drift recorded, chain broken), 2 usage, input or store error."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("audit", help="tamper-evident audit log of merges, drift and break-glass",
                                   description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spool-dir", type=Path, default=None,
                        help="local spool for records not yet stored (default: CDB_AUDIT_SPOOL_DIR or "
                             "~/.local/state/cdb/audit-spool)")
    sub = parser.add_subparsers(dest="audit_command", metavar="SUBCOMMAND", required=True)

    merge = sub.add_parser("merge", help="record a merge: commit, author, approvers, preview summary, time")
    merge.add_argument("--commit", required=True, help="merged commit SHA")
    merge.add_argument("--author", required=True, help="author of the change")
    merge.add_argument("--approver", action="append", default=[], help="an approving reviewer (repeatable)")
    merge.add_argument("--preview", type=Path, required=True, help="report of `cdb preview --format json`")
    merge.add_argument("--pull-request", default=None, help="pull request number or URL")
    merge.add_argument("--time", default=None, help="merge time, ISO 8601 with zone (default: now)")
    merge.set_defaults(handler=run_merge)

    drift = sub.add_parser("drift", help="record each drifted resource of a refresh preview or Flux event; "
                                         "exit 1 when drift was recorded")
    drift.add_argument("--input", type=Path, required=True,
                       help="JSON of `pulumi preview --refresh --expect-no-changes --json`, or a Flux event "
                            "(or a JSON list of Flux events)")
    drift.add_argument("--stack", default=None, help="stack name to store with each record")
    drift.add_argument("--time", default=None, help="detection time, ISO 8601 with zone (default: now)")
    drift.set_defaults(handler=run_drift)

    glass = sub.add_parser("breakglass", help="record a manual change and print the annotations its IaC "
                                              f"follow-up must carry ({breakglass.PREFIX}*)")
    glass.add_argument("--ticket", required=True, help="ticket id of the mandatory ticket, e.g. INC-4711")
    glass.add_argument("--reason", required=True, choices=breakglass.REASONS, help="why a manual change")
    glass.add_argument("--responsible", required=True, help="responsible person (e-mail or handle)")
    glass.add_argument("--time", default=None, help="time of the manual change, ISO 8601 (default: now)")
    until = glass.add_mutually_exclusive_group(required=True)
    until.add_argument("--expires", default=None, help="end of the exception, ISO 8601 with zone")
    until.add_argument("--expires-in", default=None, help="end of the exception after --time: a Go duration (90m, 4h, 1h30m) or whole days (2d)")
    glass.set_defaults(handler=run_breakglass)

    check = sub.add_parser("verify", help="walk the chain; report gaps, reordering, altered, unlocked, unsigned "
                                          "or forged records")
    check.set_defaults(handler=run_verify)

    keygen = sub.add_parser("keygen", help="create an Ed25519 signing key pair: the private key for the secret "
                                           "manager, the public line appended to keys/audit-signing.pub")
    keygen.add_argument("--private-key", type=Path, required=True,
                        help="where to write the private key (mode 0600; outside the repository)")
    keygen.add_argument("--public-keys", type=Path, default=signing.DEFAULT_PUBLIC_KEYS,
                        help="trusted public keys file to append to (default keys/audit-signing.pub)")
    keygen.add_argument("--comment", default="cdb-audit", help="comment on the public key line")
    keygen.set_defaults(handler=run_keygen)


def _spool(args: argparse.Namespace) -> Spool:
    return Spool(args.spool_dir or default_spool_dir())


def _time(args: argparse.Namespace, flag: str = "--time"):
    return parse_time(args.time, flag) if args.time else utc_now()


def _report(records: list[dict]) -> None:
    for record in records:
        print(f"recorded {record['kind']} seq {record['seq']} {record['hash']}")


def run_merge(args: argparse.Namespace) -> int:
    data = {"commit": args.commit.strip(), "author": args.author.strip(),
            "approvers": sorted({a.strip() for a in args.approver if a.strip()}),
            "pullRequest": args.pull_request, "preview": preview_summary(args.preview)}
    if not data["approvers"]:
        print("cdb audit merge: warning: no approvers given; the record shows an unreviewed merge", file=sys.stderr)
    _report(submit([Pending("merge", iso(_time(args)), data)], _spool(args)))
    return 0


def run_drift(args: argparse.Namespace) -> int:
    fix = "pass the output of `pulumi preview --refresh --expect-no-changes --json` or a Flux event"
    document, _ = read_json(args.input, "drift input", fix)
    items = drift_items(document, str(args.input))
    at = iso(_time(args))
    pending = [Pending("drift", at, {**item, "stack": args.stack}) for item in items]
    _report(submit(pending, _spool(args)))
    print(f"{len(items)} drifted resource(s) recorded" if items else "no drift")
    return 1 if items else 0


def run_breakglass(args: argparse.Namespace) -> int:
    at = _time(args)
    expires = parse_time(args.expires, "--expires") if args.expires else at + breakglass.parse_duration(args.expires_in)
    breakglass.validate(args.ticket, args.reason, args.responsible, at, expires)
    data = breakglass.record_data(args.ticket, args.reason, args.responsible, iso(at), iso(expires))
    record = Pending("breakglass", iso(at), data)
    try:
        written = submit([record], _spool(args))
    except StoreUnavailable:
        # The person on call needs the annotations now; the audit reference follows once the spool drains.
        print(breakglass.render_annotations(breakglass.annotations(data, None)), end="")
        raise
    _report(written)
    mine = [r for r in written if r["recordId"] == record.record_id]
    if not mine:  # cannot happen under the spool lock; never crash the person on call over it
        print("cdb audit breakglass: warning: the record was sent by another run; find it with "
              "`cdb audit verify`", file=sys.stderr)
    ref = f"{mine[0]['seq']}:{mine[0]['hash']}" if mine else None
    print(breakglass.render_annotations(breakglass.annotations(data, ref)), end="")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    settings = StoreSettings.from_env()
    result = verify(S3Store(settings), signing.load_trusted_keys())
    for problem in result.problems:
        print(problem)
    if result.problems:
        print(f"chain BROKEN: {len(result.problems)} problem(s) in {result.records} record(s) at {settings.where}")
        return 1
    print(f"chain intact: {result.records} record(s), head seq {result.head_seq} {result.head_hash}")
    return 0


def run_keygen(args: argparse.Namespace) -> int:
    found = signing.generate(args.private_key, args.public_keys, args.comment)
    print(f"created audit signing key {found}: private key {args.private_key} (put it in the secret manager, "
          f"then delete the file; never commit it), public line appended to {args.public_keys} (commit it)")
    return 0
