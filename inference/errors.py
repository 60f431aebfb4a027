"""Named exceptions of the inference layer and the helpers that make their messages actionable.

The base class :class:`DarkportalError` and the did-you-mean helpers (``closest``, ``suggestion``) are
defined in ``physics.errors``, the lowest layer, and re-exported here.

A :class:`RunConfigError` reads ``<file>: <key.path>: <what is wrong>. <how to fix>``, so a user can
go straight to the line that needs changing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from physics.errors import DarkportalError, closest, suggestion

__all__ = ["DarkportalError", "RunConfigError", "closest", "format_key_path", "suggestion"]

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
