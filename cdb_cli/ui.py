"""How the command line talks to a person: colour, quiet mode and progress, set once per run.

The conventions are the ones users know from pulumi, checkov and kube-linter: `--color auto|always|never`
(NO_COLOR, see no-color.org, means never unless --color always), `-q/--quiet` (only the verdict, the
findings and errors), and progress only on a terminal: never in a pipe, a file or a CI log, where
spinner frames would be noise. Tables (rich) likewise only for a terminal: in a pipe, a file or CI the
plain lines stay byte for byte what scripts and tests read.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO

COLOR_CHOICES = ("auto", "always", "never")


@dataclass
class Ui:
    color: str = "auto"
    quiet: bool = False


_ui = Ui()


def configure(color: str = "auto", quiet: bool = False) -> None:
    _ui.color, _ui.quiet = color, quiet


def quiet() -> bool:
    return _ui.quiet


def use_color(stream: IO[str]) -> bool:
    if _ui.color == "always":
        return True
    if _ui.color == "never" or os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def note(text: str) -> None:
    """A remark for the person at the terminal (stderr); -q silences it, errors never go through here."""
    if not _ui.quiet:
        print(text, file=sys.stderr)


def _interactive() -> bool:
    if _ui.quiet or os.environ.get("CI"):
        return False
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


@contextlib.contextmanager
def progress(what: str) -> Iterator[None]:
    """A spinner with elapsed time on stderr while `what` runs, on a terminal only (rich)."""
    if not _interactive():
        yield
        return
    from rich.console import Console

    console = Console(stderr=True, no_color=not use_color(sys.stderr))
    with console.status(f"{what} ...", spinner="dots"):
        yield


def tables(stream: IO[str] | None = None) -> bool:
    """Whether text for `stream` (default stdout) may be a table: a person's terminal, not CI."""
    stream = stream or sys.stdout
    if os.environ.get("CI"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def table(columns: Sequence[str], rows: Iterable[Sequence[str]], title: str | None = None, lines: bool = False) -> str:
    """A table as the terminal shows it (its width, colour as --color says), wrapped within columns."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    grid = Table(title=title, title_justify="left", header_style="bold", expand=False, show_lines=lines)
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*(Text(str(cell)) for cell in row))  # Text: a "[...]" in a cell is not rich markup
    color = use_color(sys.stdout)
    console = Console(file=io.StringIO(), width=shutil.get_terminal_size((100, 24)).columns,
                      force_terminal=color, no_color=not color, highlight=False, emoji=False)
    console.print(grid)
    return console.file.getvalue()  # type: ignore[attr-defined]
