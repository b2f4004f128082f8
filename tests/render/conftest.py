import shutil
from pathlib import Path

import pytest

from cdb_engine.manifests.render import render_files, render_stack

PROJECT = Path(__file__).resolve().parents[2]
STACKS = ("dev", "prod")


@pytest.fixture(scope="session")
def rendered_stacks():
    """stack -> (Rendered, files) of the real project, rendered once per session."""
    return {stack: (r := render_stack(PROJECT, stack), render_files(r)) for stack in STACKS}


@pytest.fixture
def rendered_dir(tmp_path, rendered_stacks):
    """A fresh `cdb render --stack dev` output folder in tmp_path."""
    from cdb_engine.manifests.render import write_tree

    out = tmp_path / "deploy" / "dev"
    out.parent.mkdir()
    write_tree(rendered_stacks["dev"][1], out)
    yield out
    shutil.rmtree(out, ignore_errors=True)
