"""Named exceptions of the inference layer and the helpers that make their messages actionable.

A :class:`RunConfigError` reads ``<file>: <key.path>: <what is wrong>. <how to fix>``, so a user can
go straight to the line that needs changing.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def format_key_path(path: Sequence[str | int]) -> str:
    """Key path for messages: ``("likelihood", "terms", "BR(Bs->mumu)", "kind")`` ->
    ``likelihood.terms["BR(Bs->mumu)"].kind``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.match(part):
            out += f".{part}" if out else part
        else:
            out += f'["{part}"]'
    return out or "(top level)"


def did_you_mean(word: object, choices: Iterable[str]) -> str | None:
    """The closest of ``choices`` to ``word`` (difflib, case-insensitive), or None when nothing is close."""
    options = list(choices)
    if not isinstance(word, str) or not options:
        return None
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def suggestion(word: object, choices: Iterable[str], what: str = "one of") -> str:
    """``Did you mean 'x'? Use <what> a, b, c`` (or only the list when nothing is close)."""
    options = list(choices)
    close = did_you_mean(word, options)
    listing = ", ".join(repr(c) for c in options)
    if close is not None:
        return f"Did you mean {close!r}? Use {what} {listing}"
    return f"Use {what} {listing}"


class DarkportalError(Exception):
    """Base class of darkportal's named errors; the CLI prints them without a traceback."""


class RunConfigError(DarkportalError, ValueError):
    """A run file is invalid. The message names the file, the key path, the problem and the fix."""

    def __init__(self, file: str | Path | None, key_path: Sequence[str | int] | str, problem: str,
                 fix: str, line: int | None = None) -> None:
        self.file = str(file) if file is not None else "<run file>"
        self.key_path = key_path if isinstance(key_path, str) else format_key_path(key_path)
        self.problem = problem.rstrip(". ")
        self.fix = fix.rstrip(". ")
        self.line = line
        where = f"{self.key_path} (line {line})" if line is not None else self.key_path
        super().__init__(f"{self.file}: {where}: {self.problem}. {self.fix}.")
