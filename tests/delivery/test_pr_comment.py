"""scripts/pr-comment.sh keeps one comment per marker: it edits the workflow's previous comment, never
a person's, and adds one only the first time. `gh` is replaced by a recorder that serves a comment list."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.delivery.conftest import ROOT

SCRIPT = ROOT / "scripts" / "pr-comment.sh"
MARKER = "<!-- cdb-preview:dev -->"
FAKE_GH = """#!/usr/bin/env python3
import json, os, shutil, subprocess, sys
args = sys.argv[1:]
with open(os.environ["GH_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
if "--jq" in args and shutil.which("jq"):  # the listing, filtered by the script's own jq expression
    query = args[args.index("--jq") + 1]
    sys.stdout.write(subprocess.run(["jq", "-r", query, os.environ["GH_COMMENTS"]], capture_output=True,
                                    text=True, check=True).stdout)
elif "--jq" in args:  # no jq here: the same filter spelt out
    comments = json.load(open(os.environ["GH_COMMENTS"]))
    query = args[args.index("--jq") + 1]
    marker = query.split('contains("')[1].split('")')[0]
    for c in comments:
        if c["user"]["login"] == "github-actions[bot]" and marker in c["body"]:
            print(c["id"])
"""


@pytest.fixture
def gh(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(FAKE_GH)
    (bin_dir / "gh").chmod(0o755)
    log, comments = tmp_path / "gh.log", tmp_path / "comments.json"

    def run(existing, body_text=MARKER + "\nreport\n", marker=MARKER):
        comments.write_text(json.dumps(existing))
        log.write_text("")
        body = tmp_path / "body.md"
        body.write_text(body_text)
        env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "GH_LOG": str(log),
               "GH_COMMENTS": str(comments), "GITHUB_REPOSITORY": "cdb/cdb-infra", "PR_NUMBER": "7"}
        done = subprocess.run(["bash", str(SCRIPT), marker, str(body)], env=env, capture_output=True, text=True)
        calls = [json.loads(line) for line in log.read_text().splitlines()]
        return done, [c for c in calls if "--method" in c]

    return run


def bot(id_, body):
    return {"id": id_, "user": {"login": "github-actions[bot]"}, "body": body}


def test_the_first_push_adds_one_comment(gh):
    done, writes = gh([])
    assert done.returncode == 0
    assert writes == [["api", "--method", "POST", "repos/cdb/cdb-infra/issues/7/comments", "-F",
                       f"body=@{writes[0][-2].split('@', 1)[1]}", "--silent"]]


def test_a_later_push_edits_the_previous_comment_instead_of_adding_one(gh):
    done, writes = gh([bot(11, "unrelated"), bot(42, MARKER + "\nold report")])
    assert done.returncode == 0 and "updated comment 42" in done.stdout
    assert [w[:4] for w in writes] == [["api", "--method", "PATCH", "repos/cdb/cdb-infra/issues/comments/42"]]


def test_a_person_quoting_the_marker_is_never_overwritten(gh):
    person = {"id": 5, "user": {"login": "alice"}, "body": "look: " + MARKER}
    done, writes = gh([person])
    assert [w[2] for w in writes] == ["POST"]


def test_another_stack_s_comment_is_left_alone(gh):
    done, writes = gh([bot(9, "<!-- cdb-preview:prod -->\nprod report")])
    assert [w[2] for w in writes] == ["POST"]


@pytest.mark.parametrize("body,marker,said", [
    ("", MARKER, "empty or missing"),
    ("report without the marker\n", MARKER, "lacks the marker"),
    (MARKER + "\n", '<!-- x") | .id --> ', "must read"),
])
def test_a_bad_body_or_marker_posts_nothing(gh, body, marker, said):
    done, writes = gh([], body_text=body, marker=marker)
    assert done.returncode == 2 and said in done.stderr and writes == []
