"""`cdb postcheck`: health of the cluster after a reconcile rollout."""

from __future__ import annotations

import argparse
from pathlib import Path

from cdb_ops.postcheck import KubeClient, Scope, resolve_settings, run as run_checks

HELP = """\
Ask the Kubernetes API whether every Flux Kustomization (kustomize.toolkit.fluxcd.io/v1) is Ready
with status.lastAppliedRevision at --revision, and every Deployment, StatefulSet and DaemonSet of the
stack (by --namespace and/or label app.kubernetes.io/part-of) is available and fully rolled out.
No kubeconfig: --api-server and --token-file, or CDB_KUBE_API_SERVER / CDB_KUBE_TOKEN, or the
in-cluster service account. Needs list rights on kustomizations and apps/v1 workloads only.
Exit codes: 0 healthy, 1 failing objects (listed), 2 usage or connection error."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("postcheck", help="verify Flux and workloads after a rollout",
                                   description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api-server", default=None, help="API server URL, e.g. https://10.0.0.1:6443")
    parser.add_argument("--token-file", type=Path, default=None, help="file with a bearer token")
    parser.add_argument("--ca-file", type=Path, default=None, help="CA bundle for the API server's TLS certificate")
    parser.add_argument("--revision", default=None,
                        help="expected revision: a commit SHA (7-40 hex) or a Flux revision like main@sha1:<sha>")
    parser.add_argument("--flux-namespace", default=None, help="only Kustomizations in this namespace")
    parser.add_argument("--kustomization", action="append", default=[], metavar="NAME",
                        help="require this Kustomization (repeatable; default: every one in scope)")
    parser.add_argument("--namespace", action="append", default=[], help="workload namespace (repeatable)")
    parser.add_argument("--part-of", default=None,
                        help="select workloads by label app.kubernetes.io/part-of=VALUE (default: cdb "
                             "when no --namespace is given)")
    parser.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                        help="keep checking until healthy or this many seconds passed (default: 0)")
    parser.add_argument("--poll-interval", type=float, default=10, metavar="SECONDS", help="pause between checks")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = resolve_settings(args.api_server, args.token_file, args.ca_file)
    part_of = args.part_of if args.part_of is not None or args.namespace else "cdb"
    scope = Scope(revision=args.revision, flux_namespace=args.flux_namespace,
                  kustomizations=tuple(args.kustomization), namespaces=tuple(args.namespace), part_of=part_of)
    outcome = run_checks(KubeClient(settings), scope, wait_seconds=max(args.wait, 0),
                         poll_seconds=max(args.poll_interval, 0.1))
    for problem in outcome.problems:
        print(problem)
    if outcome.problems:
        print(f"post-check FAILED: {len(outcome.problems)} problem(s), {len(outcome.checked)} object(s) checked")
        return 1
    print(f"post-check passed: {len(outcome.checked)} object(s) healthy"
          + (f" at revision {args.revision}" if args.revision else ""))
    return 0
