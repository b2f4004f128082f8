"""Report renderers for a Verdict: `text` (like `pulumi preview`), `json`, `sarif` (2.1.0).

Rendering never decides the exit code; it only shows the verdict (the CLI returns verdict.exit_code()).
Every renderer returns the whole document as one string ending with a newline.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO

from cdb_engine.model import Verdict
from cdb_engine.reports.html import render_html
from cdb_engine.reports.json_report import render_json
from cdb_engine.reports.markdown import render_markdown
from cdb_engine.reports.sarif import render_sarif
from cdb_engine.reports.text import render_text
from cdb_core.errors import CdbError

FORMATS: dict[str, Callable[[Verdict], str]] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
    "markdown": render_markdown,
    "html": render_html,
}


def render(verdict: Verdict, fmt: str, color: bool = False, brief: bool = False) -> str:
    """The verdict in `fmt` (text | json | sarif); colour and `brief` (no resource tree) apply to text only."""
    if fmt == "text":
        return render_text(verdict, color=color, tree=not brief)
    renderer = FORMATS.get(fmt)
    if renderer is None:
        raise CdbError(f"unknown report format {fmt!r}: use one of {', '.join(FORMATS)}")
    return renderer(verdict)


def use_color(stream: IO[str]) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


__all__ = ["FORMATS", "render", "render_json", "render_markdown", "render_sarif", "render_text", "use_color"]
