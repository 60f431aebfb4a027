"""Strict YAML reading for run files: readable syntax errors, no duplicate keys, YAML 1.2 floats.

PyYAML follows YAML 1.1, where ``1e-4`` is a string and a repeated key silently wins; both are
traps in a run file, so this loader reads ``1e-4`` as a float and rejects repeated keys. Only plain
data is accepted (safe loading: no Python objects, no code). Each key path is mapped to its line so
that later errors can point at it.

Hostile input is refused before it can cost time or memory (issue 12): a file larger than
``MAX_BYTES``, nesting deeper than ``MAX_DEPTH``, more than ``MAX_NODES`` YAML nodes, or aliases
(``&anchor`` / ``*alias``) that expand to more than ``MAX_EXPANDED`` values ("billion laughs") or refer
to themselves. The depth and node counts come from PyYAML's event stream, which is not recursive, so
they are checked before the (recursive) composer runs; the node graph is then walked once per node.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from inference.errors import RunConfigError

KeyPath = tuple[str | int, ...]

#: a run file is a page of settings (the shipped ones are < 2 kB); these limits are orders of magnitude above
#: any honest run file and keep the worst case well under a second
MAX_BYTES = 128 * 1024
MAX_DEPTH = 32
MAX_NODES = 5_000
MAX_EXPANDED = 5_000

_FLOAT_12 = re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+
                          |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?)$""", re.X)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that reads YAML 1.2 exponent floats such as 1e-4 (YAML 1.1 reads them as strings)."""


_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789."))


def _key_of(node: yaml.Node) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else "<complex key>"


def _too_big(file: Path, what: str, fix: str = "") -> RunConfigError:
    return RunConfigError(file, "(file)", what, fix or "A run file is a page of plain settings: remove the "
                          "repeated or generated content (see runs/quick.yaml for the form)")


def _check_events(loader: yaml.SafeLoader, file: Path) -> None:
    """Refuse nesting deeper than MAX_DEPTH and more than MAX_NODES nodes, reading events only (the
    parser is a state machine, so a 5000-deep file costs no recursion)."""
    depth = nodes = 0
    while loader.check_event():
        event = loader.get_event()
        if isinstance(event, yaml.NodeEvent):
            nodes += 1
            if nodes > MAX_NODES:
                raise _too_big(file, f"the file has more than {MAX_NODES:,} YAML values")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark is not None else None
                raise _too_big(file, f"lists and mappings are nested more than {MAX_DEPTH} levels deep"
                               + (f" (at line {line})" if line else ""))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _expanded_size(root: yaml.Node, file: Path) -> None:
    """Refuse aliases that expand to more than MAX_EXPANDED values or that contain themselves.

    The size of each node (itself plus its expanded children) is computed once per node, iteratively."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            total = 1 + sum(size[id(c)] for c in _children(node))
            if total > MAX_EXPANDED:
                raise _too_big(file, f"YAML aliases (*name) expand the file to more than {MAX_EXPANDED:,} values "
                               f"(the alias near line {node.start_mark.line + 1} repeats a large block)",
                               "Write the values out, or use aliases only for small blocks; a run file "
                               "needs no more than a few hundred values")
            size[key] = total
            continue
        if key in size:
            continue
        if key in on_path:
            raise _too_big(file, f"a YAML alias near line {node.start_mark.line + 1} refers to the block that "
                           "contains it (a recursive structure)", "Remove the alias; run files hold plain data")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in size)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _walk(root: yaml.Node, out: dict[KeyPath, int], file: Path) -> None:
    """Record the line of every key path and reject a key repeated in one mapping.

    Each node is visited once: a block reached again through an alias keeps the key paths of its first
    place (an alias expanded at every use is what made a 557-byte file cost gigabytes)."""
    seen_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, KeyPath]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        out.setdefault(path, node.start_mark.line + 1)
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
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
                stack.append((value_node, (*path, key)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, i)) for i, item in enumerate(node.value))


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
        nbytes = file.stat().st_size
        if nbytes > MAX_BYTES:
            raise _too_big(file, f"the file is {nbytes:,} bytes, more than a run file can be ({MAX_BYTES:,} bytes)",
                           "Check that this is the run file you meant; a run file is a page of plain settings")
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RunConfigError(file, "(file)", f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})",
                             "Save the run file as UTF-8 text") from None
    except OSError as exc:
        raise RunConfigError(file, "(file)", f"cannot read the file ({exc.strerror})",
                             "Check the file's permissions") from None
    if len(text) > MAX_BYTES:  # a special file (pipe) has no size to stat
        raise _too_big(file, f"the file has more than {MAX_BYTES:,} characters")
    lines: dict[KeyPath, int] = {}
    loader = _StrictLoader(text)
    try:
        _check_events(loader, file)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(file, exc, lines) from None
    except yaml.YAMLError as exc:
        raise RunConfigError(file, "(file)", f"YAML error: {exc}", "Fix the YAML syntax") from None
    finally:
        loader.dispose()
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _expanded_size(node, file)
            _walk(node, lines, file)
        data = None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(file, exc, lines) from None
    except yaml.YAMLError as exc:
        raise RunConfigError(file, "(file)", f"YAML error: {exc}", "Fix the YAML syntax") from None
    except RecursionError:  # not reachable within MAX_DEPTH; kept so no input can leak a traceback
        raise _too_big(file, "the file is nested too deeply to read") from None
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
