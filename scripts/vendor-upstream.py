#!/usr/bin/env python3
"""Refresh the pinned upstream manifests under components/vendor/ and record what they are.

    scripts/vendor-upstream.py verify                       # every vendored file matches the lock
    scripts/vendor-upstream.py refresh PROJECT [--ref TAG --version X.Y.Z] [--git-dir DIR]

`refresh` reads the project's entry in components/vendor/upstream.lock.json (repository, pinned tag, files),
resolves the tag to a commit in a bare clone of the repository (or in `--git-dir`, an existing clone
or mirror of it), takes each file from that commit (a path is copied byte for byte; a kustomize
folder is rendered with `kubectl kustomize`, as the upstream release workflow builds its install.yaml),
writes components/vendor/<project>/<version>/<name>, and records the commit and each sha256 in the lock.
Nothing is written unless every file was obtained. Exit 0 done, 1 verify found differences, 2 error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK_FILE = "upstream.lock.json"


class Failure(Exception):
    pass


def _git(git_dir: Path, *args: str, binary: bool = False) -> bytes | str:
    proc = subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True, check=False)
    if proc.returncode != 0:
        raise Failure(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout if binary else proc.stdout.decode().strip()


def _clone(repository: str, into: Path) -> Path:
    git_dir = into / "repo.git"
    proc = subprocess.run(["git", "clone", "--bare", "--filter=blob:none", repository, str(git_dir)],
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise Failure(f"cannot clone {repository}: {proc.stderr.decode(errors='replace').strip()}; "
                      "pass --git-dir with a local clone")
    return git_dir


def _kustomize(git_dir: Path, commit: str, folder: str, work: Path) -> bytes:
    tree = work / "tree"
    tree.mkdir(exist_ok=True)
    archive = subprocess.run(["git", f"--git-dir={git_dir}", "archive", commit, folder.split("/")[0]],
                             capture_output=True, check=False)
    if archive.returncode != 0:
        raise Failure(f"git archive {commit} {folder}: {archive.stderr.decode(errors='replace').strip()}")
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise Failure("kubectl is not installed; it renders kustomize folders (kubectl kustomize)")
    proc = subprocess.run([kubectl, "kustomize", str(tree / folder)], capture_output=True, check=False)
    if proc.returncode != 0:
        raise Failure(f"kubectl kustomize {folder}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def refresh(vendor: Path, name: str, ref: str | None, version: str | None, git_dir: Path | None) -> str:
    lock_path = vendor / LOCK_FILE
    lock = json.loads(lock_path.read_text(encoding="utf-8"))
    if name not in lock:
        raise Failure(f"{name!r} is not in {LOCK_FILE}; add an entry (repository, ref, version, files) first")
    entry = dict(lock[name])
    entry["ref"], entry["version"] = ref or entry["ref"], version or entry["version"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        repo = git_dir or _clone(entry["repository"], work)
        commit = _git(repo, "rev-parse", "--verify", f"{entry['ref']}^{{commit}}")
        contents: dict[str, bytes] = {}
        for spec in entry["files"]:
            if "kustomize" in spec:
                contents[spec["name"]] = _kustomize(repo, commit, spec["kustomize"], work)
            else:
                contents[spec["name"]] = _git(repo, "show", f"{commit}:{spec['path']}", binary=True)
    target = vendor / name / entry["version"]
    staging = vendor / name / f".{entry['version']}.new"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    files = []
    for spec in entry["files"]:
        (staging / spec["name"]).write_bytes(contents[spec["name"]])
        files.append({**spec, "sha256": hashlib.sha256(contents[spec["name"]]).hexdigest()})
    for old in (vendor / name).iterdir():
        if old != staging:
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    staging.rename(target)
    lock[name] = {**entry, "commit": commit, "files": files}
    lock_path.write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return f"{name} {entry['version']} ({entry['ref']} = {commit}): {len(files)} file(s) vendored"


def verify(vendor: Path) -> list[str]:
    lock = json.loads((vendor / LOCK_FILE).read_text(encoding="utf-8"))
    problems, listed = [], set()
    for name, entry in sorted(lock.items()):
        for spec in entry["files"]:
            path = vendor / name / entry["version"] / spec["name"]
            listed.add(path)
            if not path.is_file():
                problems.append(f"{vendor.name}/{path.relative_to(vendor)}: missing")
            elif hashlib.sha256(path.read_bytes()).hexdigest() != spec["sha256"]:
                problems.append(f"{vendor.name}/{path.relative_to(vendor)}: sha256 differs from the lock")
    for path in sorted(p for p in vendor.rglob("*") if p.is_file() and p.name != LOCK_FILE):
        if path not in listed:
            problems.append(f"{vendor.name}/{path.relative_to(vendor)}: not listed in the lock")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vendor-upstream", description=__doc__.splitlines()[0])
    parser.add_argument("--vendor", type=Path, default=ROOT / "components" / "vendor", help="vendor folder (default: ./components/vendor)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("verify", help="check every vendored file against the lock")
    up = sub.add_parser("refresh", help="vendor a project at its pinned (or a new) tag")
    up.add_argument("project")
    up.add_argument("--ref", help="tag to pin instead of the lock's")
    up.add_argument("--version", help="version folder for the new tag (with --ref)")
    up.add_argument("--git-dir", type=Path, help="a local clone or mirror of the repository (no network)")
    args = parser.parse_args(argv)
    try:
        if args.command == "verify":
            problems = verify(args.vendor)
            for problem in problems:
                print(problem)
            return 1 if problems else 0
        if args.ref and not args.version:
            raise Failure("--ref needs --version (the folder the files go to)")
        print(refresh(args.vendor, args.project, args.ref, args.version, args.git_dir))
        return 0
    except (Failure, OSError, ValueError, KeyError) as exc:
        print(f"vendor-upstream: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
