"""The base of `cdb preview --diff REVISION`: that revision's own program, previewed offline.

The revision is exported with `git archive` into a scratch folder and its program runs there with its
own stack file, in a separate Python process, under the revision's own engine
(`run_program` of the exported tree's engine). Why the base's engine and not this one:
the program, its components, its settings and the engine that records them are one `cdb_stack` and one
`components` package of one revision; running this engine over that program would put two versions of
the same packages into one interpreter (the engine imports the shared errors, `components.conventions`,
the program imports the rest), which is what the separate process exists to avoid. The process shares
only the installed third-party libraries (the Pulumi SDK and providers) with this one. What it hands
back is plain data: every registration's URN, type, name and inputs in wire form, written as JSON to a
pipe (never to disk: secret inputs are in it); the program's own prints go to stderr.

A revision that predates the engine, is not a Pulumi project, or whose program fails, is a one-line
error naming the revision and what to pass instead; a revision without the stack's file means the stack
is new in this change, and every resource is shown as a create (said in the diff's description).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

from cdb_core.errors import CdbError

TIMEOUT = 600  # seconds: a program bigger than any reference stack still finishes well inside it

# Runs in the base's process, with the exported tree first on sys.path. Exit 3: no engine there.
_DRIVER = r"""
import json, os, sys
root, tree, stack = sys.argv[1], sys.argv[2], sys.argv[3]
out = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)
# An editable install of this checkout maps its packages by name, ahead of nothing but after the path:
# it would fill in whatever module the revision lacks. The revision's tree alone provides them.
sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("__editable__")
                    and not getattr(f, "__module__", "").startswith("__editable__")]
sys.path[:] = [p for p in sys.path if not p.startswith("__editable__")]
# The engine's place in the tree: since the layout of cdb_core/cdb_engine, or inside cdb_stack before it
# (a pull request's base may predate the move).
try:
    import cdb_stack
    try:
        from cdb_core.project import load_project
        import cdb_engine.preview.program as engine
        from cdb_core.errors import CdbError
    except ImportError as new_layout:
        if not new_layout.name or not new_layout.name.startswith(("cdb_core", "cdb_engine")):
            raise
        from cdb_stack.engine.project import load_project
        import cdb_stack.engine.program as engine
        from cdb_stack.errors import CdbError
    run_program = engine.run_program
except ImportError as exc:
    print(f"no offline engine ({exc})", file=sys.stderr)
    sys.exit(3)
for module in (cdb_stack, engine):
    if not os.path.realpath(module.__file__).startswith(os.path.realpath(tree) + os.sep):
        print("no offline engine in the revision (" + module.__name__ + " came from outside it)", file=sys.stderr)
        sys.exit(3)
try:
    run = run_program(load_project(root, stack))
except CdbError as exc:
    print(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, file=sys.stderr)
    sys.exit(4)
if run.errors:
    print("the program logged an error: " + str(run.errors[0]).splitlines()[0], file=sys.stderr)
    sys.exit(4)
json.dump([{"urn": r.urn, "type": r.type, "name": r.name, "custom": r.custom, "parent": r.parent,
            "properties": r.properties} for r in run.resources], out)
out.close()
"""


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False, timeout=120)
    except FileNotFoundError:
        raise CdbError("--diff: git is not installed; pass a rendered folder as BASE instead") from None


def resolve(project_dir: Path, revision: str) -> str | None:
    """The commit `revision` names in the repository holding `project_dir`, or None."""
    done = _git(project_dir, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    return done.stdout.decode().strip() if done.returncode == 0 else None


def export(project_dir: Path, sha: str, scratch: Path) -> tuple[Path, Path]:
    """The whole tree of `sha` under scratch; returns (tree root, the project's folder in it)."""
    prefix = _git(project_dir, "rev-parse", "--show-prefix").stdout.decode().strip()
    archive = subprocess.Popen(["git", "-C", str(project_dir), "archive", "--format=tar", sha],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    tree = scratch / "base"
    assert archive.stdout is not None
    with tarfile.open(fileobj=archive.stdout, mode="r|") as tar:
        tar.extractall(tree, filter="data")
    if archive.wait(timeout=120) != 0:
        raise CdbError(f"--diff: git archive {sha[:12]} failed: {archive.stderr.read().decode(errors='replace').strip()}")
    return tree, tree / prefix


def preview_revision(project_dir: Path, revision: str, sha: str, stack: str, scratch: Path
                     ) -> tuple[list[dict[str, Any]], str]:
    """The resources `revision`'s program registers for `stack` (plain dicts), and how to name the base."""
    tree, project = export(project_dir, sha, scratch)
    named = f"{revision} ({sha[:12]})"
    if not (project / "Pulumi.yaml").is_file():
        raise CdbError(f"--diff {revision}: the revision has no Pulumi project at this folder (no Pulumi.yaml); "
                       "pass the revision that has it, or a folder written by cdb render")
    if not (project / f"Pulumi.{stack}.yaml").is_file():
        return [], f"{named}, which has no Pulumi.{stack}.yaml (the stack is new: everything is created)"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    env["PYTHONPATH"] = str(tree)
    env["GITHUB_SHA"] = sha  # the revision it is (provenance annotations; compared without them anyway)
    try:
        done = subprocess.run([sys.executable, "-c", _DRIVER, str(project), str(tree), stack], cwd=project, env=env,
                              capture_output=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise CdbError(f"--diff {revision}: the revision's preview did not finish in {TIMEOUT} s") from None
    why = (done.stderr.decode(errors="replace").strip().splitlines() or ["(no message)"])[-1]
    if done.returncode == 3:
        raise CdbError(f"--diff {revision}: the revision predates cdb's offline engine ({why}); pass a folder "
                       f"rendered from it (git worktree add DIR {sha[:12]}, then cdb render --stack {stack} --out ...)")
    if done.returncode != 0:
        raise CdbError(f"--diff {revision}: the revision's own preview of stack {stack} failed: {why}; "
                       "nothing to compare with (fix the base, or pass a rendered folder as BASE)")
    try:
        resources = json.loads(done.stdout)
    except ValueError:
        raise CdbError(f"--diff {revision}: the revision's preview wrote no readable result") from None
    return resources, f"{named}, its program previewed"
