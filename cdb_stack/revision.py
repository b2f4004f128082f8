"""Which Git revision the stack is built from: stamped on every object as provenance (clause 2.1)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

# CI systems name the commit under test differently; the first one set wins.
CI_VARIABLES = ("GITHUB_SHA", "CI_COMMIT_SHA", "BUILD_SOURCEVERSION", "GIT_COMMIT", "BUILDKITE_COMMIT")
_SHA = re.compile(r"^[0-9a-f]{7,64}$")
UNKNOWN = "unknown"


def git_revision(configured: str | None, env: Mapping[str, str] | None = None, cwd: str | Path | None = None) -> str:
    """Config first (explicit beats implicit), then the CI environment, then the work tree's HEAD."""
    if configured:
        return configured
    env = os.environ if env is None else env
    for var in CI_VARIABLES:
        value = env.get(var, "").strip().lower()
        if _SHA.match(value):
            return value
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return UNKNOWN
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and _SHA.match(sha) else UNKNOWN
