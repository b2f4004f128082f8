"""`cdb policies`: the catalogue of every policy and of every sentence of the policy text it maps to."""

from __future__ import annotations

import argparse

from cdb_cli import common, ui

HELP = """\
List every policy of the pack (name, clause, severity, description, remediation) and, clause by
clause, which sentences of CDB_INFRA_POLICY are enforced by which policy and which are met by a process
step (pipelines, audit). docs/policies.md is this command's markdown output.

exit codes: 0 ok, 2 usage error
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("policies", help="list the policy catalogue", description=HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                   help="text for people, json for machines, markdown for docs/policies.md (default: text)")
    p.add_argument("--output", "-o", metavar="FILE", help="write the catalogue to FILE instead of standard output")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from cdb_engine.judge.catalogue import RENDERERS

    if args.format == "text" and not args.output and ui.tables():
        common.write_output(_tables(), None)
        return 0
    common.write_output(RENDERERS[args.format](), args.output)
    return 0


def _tables() -> str:
    """The text catalogue as two tables, for a terminal (the plain text stays for pipes and files)."""
    from cdb_engine.judge.catalogue import SENTENCES, sorted_entries

    policies = ui.table(("Policy", "Clause", "Severity", "Scope", "What it requires / how to fix it"),
                        [(e.name, e.clause, e.severity, e.kind, f"{e.description}\nfix: {e.remediation}")
                         for e in sorted_entries()], title="Policies", lines=True)
    sentences = ui.table(("Clause", "Sentence", "Enforced by"),
                         [(clause, sentence, "\n".join([*(f"policy: {p}" for p in names),
                                                        *(f"process: {q}" for q in process)]) or "-")
                          for clause, sentence, names, process in SENTENCES], title="Clause by clause", lines=True)
    return policies + "\n" + sentences
