"""`cdb vault configure|check`: apply the stack's OpenBao/Vault configuration over the API; list missing secrets."""

from __future__ import annotations

import argparse

from cdb_cli.common import add_stack_options

HELP = """\
configure: enable the KV v2 mount and Kubernetes auth, write the auth config, one ACL policy and one role per
client, exactly as the stack declares them (idempotent; --dry-run only lists the changes; --print shows the
desired state without a server). Verifies the audit device the server config declares.
check: list the KV paths the stack's clients read that hold no value yet (the Vault Secrets Operator cannot
sync those), and whether the configuration is applied.
The API address comes from --address, else the stack's secrets.configure.address, else BAO_ADDR/VAULT_ADDR;
the token from BAO_TOKEN or VAULT_TOKEN (never an argument). Run it from a place that reaches the API, e.g.
`kubectl -n vault port-forward svc/vault 8200` and --address http://127.0.0.1:8200 (docs/openbao-runbook.md).
Exit codes: 0 done/complete, 1 missing secrets or problems (listed), 2 usage, input or connection error."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("vault", help="configure OpenBao/Vault from the stack; list missing secrets",
                                   description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("configure", "check"))
    add_stack_options(parser)
    parser.add_argument("--address", default=None, help="API URL, e.g. http://127.0.0.1:8200 via a port-forward")
    parser.add_argument("--ca-file", default=None, help="CA bundle of the API's TLS certificate (or BAO_CACERT)")
    parser.add_argument("--dry-run", action="store_true", help="configure: list the changes, write nothing")
    parser.add_argument("--print", dest="print_only", action="store_true",
                        help="configure: print the desired state as YAML and stop (no server needed)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from cdb_ops import secret_store

    target = secret_store.stack_target(args.cwd, args.stack)
    if args.action == "configure" and args.print_only:
        print(secret_store.render_document(target), end="")
        return 0
    client = secret_store.connect(args.address or target.address, args.ca_file)
    if args.action == "check":
        pending = secret_store.configure(client, target, dry_run=True)
        missing = secret_store.missing_secrets(client, target)
        for change in pending.changes:
            print(f"not applied: {change}")
        for problem in pending.problems:
            print(f"problem: {problem}")
        for line in missing:
            print(f"missing secret: {line}")
        if pending.changes or pending.problems or missing:
            print(f"vault check FAILED: {len(pending.changes)} configuration change(s) pending (run `cdb vault "
                  f"configure`), {len(pending.problems)} problem(s), {len(missing)} secret(s) without a value "
                  "(write them with `bao kv put`, docs/openbao-runbook.md section 4)")
            return 1
        print("vault check passed: the configuration is applied and every secret the stack's clients read holds a value")
        return 0
    outcome = secret_store.configure(client, target, dry_run=args.dry_run)
    verb = "would apply" if args.dry_run else "applied"
    for change in outcome.changes:
        print(f"{verb}: {change}")
    for name in outcome.undeclared:
        print(f"not declared by the stack (left alone): {name}")
    for problem in outcome.problems:
        print(f"problem: {problem}")
    print(f"vault configure: {len(outcome.changes)} change(s) {verb}, {outcome.unchanged} unchanged"
          + (f", {len(outcome.problems)} problem(s)" if outcome.problems else ""))
    return 1 if outcome.problems else 0
