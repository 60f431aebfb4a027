"""Defects a reader of report.html would see, found in the HTML text (used by tests/inference/test_report.py),
and a headless-Chromium screenshot of the page where Chromium is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

_BAD_CELL = re.compile(r"(?<![\w-])(nan|NaN|None|null|inf|-inf)(?![\w-])")
_FLOAT = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
_LIST = re.compile(rf"\[\s*{_FLOAT}\s*,\s*{_FLOAT}\s*,")  # three or more numbers: a raw list, not an interval
_JSON = re.compile(r"\{\s*\"|\":\s|'\w+':\s")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.cells: list[str] = []
        self.rows: list[list[str]] = []
        self.texts: list[str] = []
        self.pres: list[str] = []
        self.ids: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if tag == "img" and a.get("src"):
            self.images.append(str(a["src"]))
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self.cells.append("")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.rows:
            self.rows[-1].append(self.cells[-1])
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if "pre" in self.stack:
            self.pres.append(data)
        elif self.stack and self.stack[-1] in ("td", "th"):
            self.cells[-1] += data
        elif self.stack and self.stack[-1] not in ("style", "title"):
            self.texts.append(data)


def html_defects(page: str) -> list[str]:
    """Everything wrong with a report page as one line each (empty when the page is clean)."""
    p = _Page()
    p.feed(page)
    out = [f"cell shows {m.group(0)!r}: {c!r}" for c in p.cells for m in [_BAD_CELL.search(c)] if m]
    for text in [*p.cells, *p.texts]:
        if _LIST.search(text) or _JSON.search(text):
            out.append(f"raw list or JSON in the page text: {text[:80]!r}")
    for row in p.rows:
        if row and row[0].strip() == "seed" and not re.fullmatch(r"\d+", row[1].strip() if len(row) > 1 else ""):
            out.append(f"seed not printed as an integer: {row}")
    if re.search(r"overflow(-x)?\s*:\s*(auto|scroll)", page):
        out.append("a side-scrolling box (overflow auto / scroll) in the styles")
    if any("Savage-Dickey" in t for t in p.pres):
        out.append("Savage-Dickey text inside a <pre> block")
    if len(set(p.images)) != len(p.images):
        out.append("an image is embedded more than once")
    panels = [i for i in p.ids if i.startswith("fig-fig2_") and i != "fig-fig2_grid"]
    if panels and "fig-fig2_grid" in p.ids:
        out.append(f"Fig. 2 shown twice: the grid and the panels {panels}")
    for section in ("priors", "best-fit", "measurements", "convergence", "summary", "evidence"):
        if section not in p.ids:
            out.append(f"section {section!r} missing")
    return out


def chromium() -> str | None:
    return next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p),
                None)


def screenshot(page: Path, png: Path, width: int = 1200, height: int = 2600) -> None:
    """Render `page` with headless Chromium into `png` (no network, throwaway profile)."""
    exe = chromium()
    assert exe is not None
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run",
                        f"--user-data-dir={profile}", "--hide-scrollbars", f"--window-size={width},{height}",
                        f"--screenshot={png}", page.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)
