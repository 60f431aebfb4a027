"""Strict YAML reading for run files: readable syntax errors, no duplicate keys, YAML 1.2 floats.

PyYAML follows YAML 1.1, where ``1e-4`` is a string and a repeated key silently wins; both are
traps in a run file, so this loader reads ``1e-4`` as a float and rejects repeated keys. Only plain
data is accepted (safe loading: no Python objects, no code). Each key path is mapped to its line so
that later errors can point at it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from inference.errors import RunConfigError

KeyPath = tuple[str | int, ...]

_FLOAT_12 = re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+
                          |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?)$""", re.X)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that reads YAML 1.2 exponent floats such as 1e-4 (YAML 1.1 reads them as strings)."""


_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789."))


def _key_of(node: yaml.Node) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else "<complex key>"


def _walk(node: yaml.Node, path: KeyPath, out: dict[KeyPath, int], file: Path) -> None:
    """Record the line of every key path and reject a key repeated in one mapping."""
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = _key_of(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise RunConfigError(file, (*path, key), f"{key!r} appears twice in the same mapping "
                                     f"(lines {seen[key]} and {line}); YAML would silently keep the last one",
                                     "Keep one of the two entries", line=line)
            seen[key] = line
            out[(*path, key)] = line
            _walk(value_node, (*path, key), out, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), out, file)


def read_yaml(path: str | Path) -> tuple[Any, dict[KeyPath, int]]:
    """Parse the run file at ``path``: (data, {key path: line number}).

    Raises :class:`RunConfigError` for a missing or unreadable file, an empty file and YAML syntax
    errors (with line and column).
    """
    file = Path(path)
    if not file.exists():
        raise RunConfigError(file, "(file)", "the run file does not exist",
                             "Check the path; the shipped run files are in runs/")
    if not file.is_file():
        raise RunConfigError(file, "(file)", "this is not a regular file",
                             "Give the path of a .yaml run file")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RunConfigError(file, "(file)", f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})",
                             "Save the run file as UTF-8 text") from None
    except OSError as exc:
        raise RunConfigError(file, "(file)", f"cannot read the file ({exc.strerror})",
                             "Check the file's permissions") from None
    loader = _StrictLoader(text)
    lines: dict[KeyPath, int] = {}
    try:
        node = loader.get_single_node()
        if node is not None:
            _walk(node, (), lines, file)
        data = None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(file, exc, lines) from None
    except yaml.YAMLError as exc:
        raise RunConfigError(file, "(file)", f"YAML error: {exc}", "Fix the YAML syntax") from None
    finally:
        loader.dispose()
    if data is None:
        raise RunConfigError(file, "(top level)", "the file is empty",
                             "Write a run file with at least 'seed', 'likelihood' and 'sampler'; "
                             "see runs/quick.yaml for a small example")
    return data, lines


def _syntax_error(file: Path, exc: yaml.MarkedYAMLError, lines: dict[KeyPath, int]) -> RunConfigError:
    """One readable error with line and column for a YAML parse or construction failure."""
    mark = exc.problem_mark or exc.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(file)"
    what = " ".join(str(s) for s in (exc.context, exc.problem) if s)
    if exc.context_mark is not None and mark is not None and exc.context_mark.line != mark.line:
        what += f" (the construct began on line {exc.context_mark.line + 1})"
    if isinstance(exc, yaml.constructor.ConstructorError):
        # the document was parsed, so the key on that line is known
        on_line = [p for p, n in lines.items() if p and mark is not None and n == mark.line + 1]
        if on_line:
            path = max(on_line, key=len)
            return RunConfigError(file, path, f"unsupported YAML content: {what}",
                                  "Run files hold plain data only: numbers, strings, lists and mappings, "
                                  "no tags", line=lines[path])
        return RunConfigError(file, where, f"unsupported YAML content: {what}",
                              "Run files hold plain data only: numbers, strings, lists and mappings, no tags")
    return RunConfigError(file, where, f"YAML syntax error: {what}",
                          "Fix the YAML syntax there: check indentation (spaces, not tabs), the colon after "
                          "each key and matching quotes and brackets")
