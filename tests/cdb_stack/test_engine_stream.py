"""The pack is asked about each resource as the program registers it, and answers as if asked after."""

from __future__ import annotations

import threading

from cdb_stack.engine import analyzer
from cdb_stack.engine.project import load_project
from cdb_stack.engine.run import default_pack_dir, preview
from tests.cdb_stack.conftest import PACKS

PROGRAM = """
import pulumi_kubernetes as k8s
for i in range(12):
    k8s.apps.v1.Deployment(f"web-{i}", metadata={"name": f"web-{i}", "namespace": "apps"}, spec={
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
            "containers": [{"name": "web", "image": "registry.example/web:1.4.2"}]}}})
"""


def test_every_registration_is_sent_to_the_pack_while_the_program_runs(make_project, monkeypatch):
    sent: list[str] = []
    program_running = threading.Event()
    original = analyzer.Session.submit

    def submit(self, resource, struct):
        assert program_running.is_set()
        sent.append(resource.urn)
        original(self, resource, struct)

    from cdb_stack.engine import program

    run_program = program.run_program

    def running(*args, **kwargs):
        program_running.set()
        try:
            return run_program(*args, **kwargs)
        finally:
            program_running.clear()

    monkeypatch.setattr(analyzer.Session, "submit", submit)
    monkeypatch.setattr(program, "run_program", running)
    verdict = preview(make_project(PROGRAM), "dev")
    assert sorted(sent) == sorted(r.urn for r in verdict.resources)


def test_answers_given_during_the_program_equal_answers_given_after_it(make_project):
    folder = make_project(PROGRAM)
    streamed = preview(folder, "dev")
    project = load_project(folder, "dev")
    _, afterwards = analyzer.analyze(default_pack_dir(), streamed.resources, project=project.name, stack="dev",
                                     config=project.config, root_urn=streamed.resources[0].urn)
    violations, unchecked = analyzer.split_unchecked(afterwards)
    assert streamed.violations == violations and streamed.unchecked == unchecked
    assert {v.policy for v in violations} >= {"k8s-probes-required", "k8s-resources-required"}


def test_a_pack_that_raises_while_the_program_runs_makes_the_verdict_an_error(make_project):
    verdict = preview(make_project(PROGRAM), "dev", PACKS / "raises")
    assert verdict.exit_code() == 2
    assert any("Analyze failed" in e and "boom" in e for e in verdict.errors), verdict.errors
