"""How the command line talks to a person: colour, quiet mode and progress, set once per run.

The conventions are the ones users know from pulumi, checkov and kube-linter: `--color auto|always|never`
(NO_COLOR, see no-color.org, means never unless --color always), `-q/--quiet` (only the verdict, the
findings and errors), and progress only on a terminal: never in a pipe, a file or a CI log, where
spinner frames would be noise.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
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
