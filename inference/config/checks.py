"""Type and key checks shared by the run-file sections; each failure is one :class:`RunConfigError`.

``Source`` carries the file name and the key-path -> line map of the parsed YAML, so every error can
say where it is. YAML booleans are never accepted as numbers (``True`` is an int in Python).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from inference.errors import RunConfigError, suggestion
from physics.errors import type_name

KeyPath = tuple[str | int, ...]

__all__ = ["KeyPath", "Source", "source_for", "type_name"]


@dataclass(frozen=True)
class Source:
    """Where a run file came from: its path and the line of each key path."""

    file: str
    lines: Mapping[KeyPath, int] = field(default_factory=dict)

    def error(self, path: KeyPath, problem: str, fix: str) -> RunConfigError:
        # a missing key has no line of its own: point at the nearest enclosing key that has one
        line = None
        for n in range(len(path), 0, -1):
            line = self.lines.get(tuple(path[:n]))
            if line is not None:
                break
        return RunConfigError(self.file, path, problem, fix, line=line)

    def fail(self, path: KeyPath, problem: str, fix: str) -> NoReturn:
        raise self.error(path, problem, fix)

    # checks --------------------------------------------------------------------------------------
    def mapping(self, value: Any, path: KeyPath, what: str, example: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(path, f"{what} must be a mapping (key: value lines), got {type_name(value)}",
                      f"Write it as, for example, {example}")
        for key in value:
            if not isinstance(key, str):
                self.fail((*path, str(key)), f"keys must be names, got {type_name(key)}",
                          "Write the key as a name (quote it if it looks like a number)")
        return value

    def known_keys(self, value: Mapping[str, Any], path: KeyPath, allowed: Iterable[str],
                   what: str = "key") -> None:
        options = list(allowed)
        for key in value:
            if key not in options:
                self.fail((*path, key), f"unknown {what} {key!r}", suggestion(key, options))

    def required(self, value: Mapping[str, Any], path: KeyPath, key: str, fix: str) -> Any:
        if key not in value or value[key] is None:
            self.fail((*path, key), f"{key!r} is required but missing", fix)
        return value[key]

    def number(self, value: Any, path: KeyPath, *, finite: bool = True, low: float | None = None,
               low_inclusive: bool = True, high: float | None = None, hint: str = "") -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(path, f"expected a number, got {type_name(value)}",
                      hint or "Write a plain number such as 0.5 or 1e-3 (no quotes)")
        out = float(value)
        if finite and not math.isfinite(out):
            self.fail(path, f"expected a finite number, got {value}", hint or "Write a finite number")
        if low is not None and (out < low or (out == low and not low_inclusive)):
            bound = ">=" if low_inclusive else ">"
            self.fail(path, f"must be {bound} {low:g}, got {out:g}", hint or f"Use a value {bound} {low:g}")
        if high is not None and out > high:
            self.fail(path, f"must be <= {high:g}, got {out:g}", hint or f"Use a value <= {high:g}")
        return out

    def integer(self, value: Any, path: KeyPath, *, low: int | None = None, hint: str = "") -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            extra = ""
            if isinstance(value, float) and value.is_integer():
                extra = f" (write {int(value)} without a decimal point)"
            self.fail(path, f"expected an integer, got {type_name(value)}{extra}",
                      hint or "Write a whole number such as 42 (no quotes, no decimal point)")
        if low is not None and value < low:
            self.fail(path, f"must be >= {low}, got {value}", hint or f"Use an integer >= {low}")
        return int(value)

    def boolean(self, value: Any, path: KeyPath) -> bool:
        if not isinstance(value, bool):
            self.fail(path, f"expected true or false, got {type_name(value)}", "Write true or false")
        return value

    def string(self, value: Any, path: KeyPath, hint: str = "") -> str:
        if not isinstance(value, str):
            self.fail(path, f"expected a string, got {type_name(value)}",
                      hint or "Write a name (in quotes if needed)")
        return value

    def choice(self, value: Any, path: KeyPath, choices: Iterable[str], what: str) -> str:
        options = list(choices)
        if not isinstance(value, str) or value not in options:
            shown = value if isinstance(value, str) else type_name(value)
            self.fail(path, f"unknown {what} {shown!r}" if isinstance(value, str)
                      else f"{what} must be a name, got {shown}", suggestion(value, options))
        return value


def source_for(path: str | Path, lines: Mapping[KeyPath, int] | None = None) -> Source:
    return Source(str(path), dict(lines or {}))
