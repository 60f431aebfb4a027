"""The physics documentation belongs to the repository.

* No tracked file refers to the developer notes that live outside the repository (a user's clone does
  not have them).
* A reference to the physics documentation is written ``docs/physics/<file>.md §N.M`` (or
  ``docs/physics/README.md item N``) and names a section, numbered item or decision that exists.
  Inside docs/physics/ a bare ``§N`` means the same file and ``<file>.md §N`` a sibling.
* The section numbers of docs/physics/ are stable: references are rewritten mechanically from them.
* The source strings of the observable registry (printed by ``darkportal predict``) resolve too.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

import physics

ROOT = Path(__file__).resolve().parents[1]
SELF = "tests/test_docs.py"
DOCS = ROOT / "docs" / "physics"
DOC_FILES = ("README.md", "flavour.md", "g2-scattering.md")
TEXT_SUFFIXES = (".py", ".md", ".yaml", ".yml", ".toml", ".txt", ".cfg", ".ini", ".html", ".j2", ".sh")
TEXT_NAMES = ("Makefile",)

# the patterns are assembled from pieces so that this file does not match itself
_OUTSIDE = re.compile(r"\.\./" + "shared" + r"\b|(?<![\w.-])" + "shared" + r"/(?:physics|paper|design)\b")
_MENTION = re.compile(
    r"(?P<path>(?:[\w.-]+/)*)(?P<doc>README|flavour|g2-scattering)\.md"
    r"|(?P<external>arXiv:|hep-(?:ph|lat|ex|th)/|\b[\w-]+\.md\b|\beq\.|\bTable\b)")
_SECTION = re.compile(
    r"§(?P<a>\d+(?:\.\d+)*)(?:\s*[-–]\s*§?(?P<b>\d+(?:\.\d+)*))?"
    r"(?:\s+items?\s+(?P<i>\d+)(?:\s*[-–]\s*(?P<j>\d+))?)?")
_ITEM = re.compile(r"(?:items?|decisions?)\s+(?P<i>\d+)(?:\s*[-–]\s*(?P<j>\d+))?")
_SEGMENT_END = re.compile(r"[\n);]")
_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<num>\d+(?:\.\d+)*)\.?\s", re.MULTILINE)
_LIST_ITEM = re.compile(r"^(?P<num>\d+)\.\s", re.MULTILINE)

# The section numbers every reference relies on (the numbering of the developer notes, kept).
EXPECTED_SECTIONS = {
    "flavour.md": {"0", "1", "2", "3", "4", "4.1", "4.2", "4.3", "5", "6", "7", "8", "9", "10"},
    "g2-scattering.md": {"0", "1", "1.1", "1.2", "1.3", "2", "2.1", "2.2", "3", "4", "4.1", "4.2", "4.3", "4.4",
                         "4.5", "4.6", "5", "5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "6", "7", "8", "9"},
}


@dataclass(frozen=True)
class Doc:
    """Numbered sections of one document and the numbered list items inside each section (items of
    subsections count for the parent too)."""

    sections: frozenset[str]
    items: dict[str, frozenset[int]]


@cache
def load_doc(name: str) -> Doc:
    text = (DOCS / name).read_text(encoding="utf-8")
    heads = [(m.start(), len(m.group("hashes")), m.group("num")) for m in _HEADING.finditer(text)]
    items: dict[str, set[int]] = {}
    for k, (start, level, num) in enumerate(heads):
        end = next((s for s, lv, _ in heads[k + 1:] if lv <= level), len(text))
        items[num] = {int(m.group("num")) for m in _LIST_ITEM.finditer(text, start, end)}
    if name == "README.md":  # the numbered decisions
        start = text.index("## Decisions")
        end = text.find("\n## ", start + 1)
        items["decisions"] = {int(m.group("num")) for m in _LIST_ITEM.finditer(text, start, end)}
    return Doc(frozenset(items), {k: frozenset(v) for k, v in items.items()})


@dataclass(frozen=True)
class Ref:
    doc: str  # file in docs/physics
    section: str | None  # "5.6", or None for a README decision
    item: int | None


def _span(a: str, b: str | None) -> list[str]:
    """§4.4-4.5 -> both ends; §0-§1 -> both."""
    return [a] if b is None else [a, b]


def _items(i: str | None, j: str | None) -> list[int | None]:
    if i is None:
        return [None]
    return list(range(int(i), int(j or i) + 1))


def references(text: str, here: str | None) -> tuple[list[Ref], list[str]]:
    """References to docs/physics in ``text``, and malformed ones (a doc named without its docs/physics/
    path outside docs/physics). ``here``: the doc file the text belongs to, or None."""
    refs: list[Ref] = []
    bad: list[str] = []
    pos = 0
    # (target doc or None for an external source, end of its segment)
    target: str | None = here
    seg_end = len(text) if here is not None else -1
    tokens = sorted([(m.start(), "mention", m) for m in _MENTION.finditer(text)]
                    + [(m.start(), "section", m) for m in _SECTION.finditer(text)]
                    + [(m.start(), "item", m) for m in _ITEM.finditer(text)], key=lambda t: t[0])
    for start, kind, m in tokens:
        if start < pos:
            continue
        if seg_end >= 0 and start > seg_end:
            target, seg_end = (here, len(text)) if here is not None else (None, -1)
        if kind == "mention":
            end = _SEGMENT_END.search(text, m.end())
            seg_end = end.start() if end else len(text)
            if m.group("doc"):
                doc = m.group("doc") + ".md"
                path = m.group("path")
                if here is None and path != "docs/physics/":
                    if doc != "README.md" or path == "physics/":
                        bad.append(f"{path}{doc}: write docs/physics/{doc}")
                    target = None  # another README of the project (root, benchmarks/) is not a physics doc
                else:
                    target = doc if (here is not None or path == "docs/physics/") else None
            else:
                target = None
            pos = m.end()
        elif kind == "section" and target is not None and target != "README.md":
            for sec in _span(m.group("a"), m.group("b")):
                for it in _items(m.group("i"), m.group("j")):
                    refs.append(Ref(target, sec, it))
            pos = m.end()
        elif kind == "item" and target == "README.md" and text[max(0, start - 20):start].rstrip().endswith(
                ("README.md", "README.md,")):
            for it in _items(m.group("i"), m.group("j")):
                refs.append(Ref("README.md", None, it))
            pos = m.end()
    return refs, bad


def missing(ref: Ref) -> str | None:
    doc = load_doc(ref.doc)
    if ref.section is None:
        return None if ref.item in doc.items["decisions"] else f"README.md item {ref.item} (no such decision)"
    if ref.section not in doc.sections:
        return f"{ref.doc} §{ref.section} (no such heading)"
    if ref.item is not None and ref.item not in doc.items[ref.section]:
        return f"{ref.doc} §{ref.section} item {ref.item} (no numbered item {ref.item} in that section)"
    return None


def tracked_files() -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        names = out.split("\n")
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: walk the tree
        skip = {".git", ".venv", "results", "build", "dist", "__pycache__"}
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                 if p.is_file() and not skip.intersection(p.relative_to(ROOT).parts)]
    return sorted(n for n in names if n and (n.endswith(TEXT_SUFFIXES) or Path(n).name in TEXT_NAMES)
                  and (ROOT / n).is_file())


def read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8", errors="replace")


def doc_of(name: str) -> str | None:
    path = Path(name)
    return path.name if path.parent == Path("docs/physics") and path.name in DOC_FILES else None


# ---------------------------------------------------------------------------------------------------------

def test_docs_exist_with_stable_numbering() -> None:
    for name in DOC_FILES:
        assert (DOCS / name).is_file(), f"docs/physics/{name} is missing"
    for name, expected in EXPECTED_SECTIONS.items():
        lost = expected - load_doc(name).sections
        assert not lost, f"docs/physics/{name} lost the sections {sorted(lost)}: references depend on them"
    assert load_doc("README.md").items["decisions"] == frozenset(range(1, 11)), \
        "docs/physics/README.md must keep the decisions numbered 1-10"


def test_no_file_refers_to_notes_outside_the_repository() -> None:
    offenders = {}
    for name in tracked_files():
        hits = [f"line {read(name).count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
                for m in _OUTSIDE.finditer(read(name))]
        if hits:
            offenders[name] = hits
    assert not offenders, f"references to notes outside the repository (use docs/physics/...): {offenders}"


def test_every_docs_reference_resolves() -> None:
    problems: dict[str, list[str]] = {}
    count = 0
    for name in tracked_files():
        if name == SELF:  # this file holds deliberately broken examples for the parser
            continue
        refs, bad = references(read(name), doc_of(name))
        count += len(refs)
        errors = bad + [msg for msg in map(missing, refs) if msg]
        if errors:
            problems[name] = sorted(set(errors))
    assert not problems, f"references to docs/physics that do not resolve: {problems}"
    assert count > 100  # the code cites the docs throughout; a parser that finds nothing is broken


def test_registry_sources_resolve() -> None:
    """What ``darkportal predict`` prints as the source of each observable."""
    for name, obs in physics.REGISTRY.items():
        if "§" not in obs.source:
            continue
        refs, bad = references(obs.source, None)
        assert refs and not bad, f"{name}: source {obs.source!r} does not cite docs/physics/<file>.md §N"
        for ref in refs:
            assert missing(ref) is None, f"{name}: {obs.source!r} -> {missing(ref)}"


@pytest.mark.parametrize(("text", "expected"), [
    ("(docs/physics/flavour.md §4.1, §8 item 7)", [("flavour.md", "4.1", None), ("flavour.md", "8", 7)]),
    ("docs/physics/g2-scattering.md §4.4-4.5 and §7", [("g2-scattering.md", "4.4", None),
                                                        ("g2-scattering.md", "4.5", None),
                                                        ("g2-scattering.md", "7", None)]),
    ("docs/physics/flavour.md §3 items 2-3", [("flavour.md", "3", 2), ("flavour.md", "3", 3)]),
    ("(docs/physics/README.md item 9)", [("README.md", None, 9)]),
    ("arXiv:1503.05534 §2.5 (docs/physics/flavour.md §2)", [("flavour.md", "2", None)]),
    ("docs/physics/flavour.md §2); unrelated §9", [("flavour.md", "2", None)]),
])
def test_reference_parser(text: str, expected: list[tuple[str, str | None, int | None]]) -> None:
    refs, bad = references(text, None)
    assert not bad
    assert [(r.doc, r.section, r.item) for r in refs] == expected


def test_parser_flags_bad_references() -> None:
    _, bad = references("see g2-scattering.md §5.5 and physics/README.md item 9", None)
    assert len(bad) == 2
    refs, _ = references("docs/physics/g2-scattering.md §5.9, docs/physics/flavour.md §3 item 9", None)
    assert [missing(r) is not None for r in refs] == [True, True]
    assert missing(Ref("README.md", None, 11)) is not None
    # inside docs/physics a bare § is the same file
    refs, _ = references("as in §5.6 and flavour.md §8 item 7", "g2-scattering.md")
    assert [(r.doc, r.section, r.item) for r in refs] == [("g2-scattering.md", "5.6", None), ("flavour.md", "8", 7)]
