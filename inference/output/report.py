"""One self-contained HTML page for one run or for several compared: figures, summaries, evidence, fit.

The page needs no server and no network: figures are embedded as base64 PNG (the PDFs beside them are
linked by relative path), styles are inline, and no script is loaded.  :func:`render_report` turns a
:class:`ReportData` (plain data, testable without a run) into HTML; :func:`collect_report_data` reads
finished results folders and the figures of `darkportal plot` into one.  Cells show numbers to four
significant digits, intervals as [low, high], missing values as a dash; never NaN, lists or JSON.
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import html
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference.output.report_data import RunSection, run_section
from inference.output.tables import format_number

log = logging.getLogger(__name__)

#: figure stems shown in the report, in this order, with captions; fig2_<panel> files are only linked
FIGURE_CAPTIONS: dict[str, str] = {
    "fig2_grid": "The paper's Fig. 2: posterior draws (points) with 68 % and 95 % contours (bounded by the "
                 "prior ranges), one colour per run. The dashed line is Re g_sd = 0.",
    "fig3": "The paper's Fig. 3: predicted branching fractions (SM + NP), one colour per run; grey bands are "
            "measurements (1 sigma), dashed lines upper limits with the excluded side hatched, dotted lines "
            "SM values.",
    "corner": "Posterior of the sampled parameters (paper units), 68 % and 95 % contours bounded by the prior "
              "ranges; one colour per run.",
    "term_pulls": "Likelihood terms at the highest-likelihood draw as |pull| = sqrt(-2 ln L_i).",
    "sensitivity": "ln B under prior (blue) and likelihood (orange) variants, from the baseline (black line); "
                   "darkportal sensitivity, with each row's method and ESS in the table.",
}
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1150px;
color:#222;line-height:1.4;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0;font-size:.86em}
th,td{border:1px solid #ddd;padding:.25em .55em;text-align:right;vertical-align:top}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}td.text{text-align:left}
figure{margin:1.2em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.9em;color:#555}pre{background:#f7f7f7;padding:.8em;font-size:.82em;white-space:pre-wrap;
overflow-wrap:anywhere}.muted{color:#777;font-size:.9em}nav a{margin-right:1em}
.ok{color:#17692b;font-weight:600}.bad{color:#a4161a;font-weight:600}.warn{color:#8a5a00}
"""


@dataclass
class ReportData:
    """Everything a report page shows, as plain data.

    figures: stem -> PNG path (embedded); linked: further figure files only linked (the single Fig. 2
    panels); runs: one section per run; comparison: rows of the evidence comparison; comparison_notes:
    paragraphs (the Savage-Dickey cross-check); notes: free text lines shown at the top.
    """

    name: str
    figures: dict[str, Path] = field(default_factory=dict)
    linked: list[Path] = field(default_factory=list)
    runs: list[RunSection] = field(default_factory=list)
    comparison: list[dict[str, Any]] = field(default_factory=list)
    comparison_notes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def format_cell(v: Any, digits: int = 4) -> str:
    """A table cell as text: None / NaN -> a dash, +-inf -> the sign and the infinity symbol, bool -> yes /
    no, integers as integers, (low, high) -> [low, high], other numbers to `digits` significant digits."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, tuple):
        return "[" + ", ".join(format_cell(x, digits) for x in v) + "]"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "–"
        if math.isinf(v):
            return "+∞" if v > 0 else "−∞"
        if v.is_integer() and abs(v) < 1e15 and abs(v) >= 1e4:
            return str(int(v))
        return format_number(v, digits)
    return str(v)


def html_table(rows: Sequence[Mapping[str, Any]], digits: int = 4) -> str:
    """Rows (dicts with the same keys) as an HTML table (cells by :func:`format_cell`)."""
    if not rows:
        return '<p class="muted">(empty)</p>'
    cols = list(rows[0])

    def cell(v: Any) -> str:
        cls = ' class="text"' if isinstance(v, str) and len(v) > 12 else ""
        return f"<td{cls}>{_esc(format_cell(v, digits))}</td>"

    head = "".join(f"<th>{_esc(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(cell(r.get(c)) for c in cols) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def embed_png(path: Path) -> str:
    """An <img> with the PNG inlined as a data URI."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{_esc(Path(path).stem)}" src="data:image/png;base64,{data}">'


def ordered_figures(figures: Mapping[str, Path]) -> list[tuple[str, Path]]:
    """Known figures first (FIGURE_CAPTIONS order; term_pulls_<run> after term_pulls), then the rest, sorted."""
    def rank(stem: str) -> tuple[int, str]:
        base = "term_pulls" if stem.startswith("term_pulls") else stem
        order = list(FIGURE_CAPTIONS)
        return (order.index(base) if base in order else len(order), stem)

    return [(s, figures[s]) for s in sorted(figures, key=rank)]


def _figure_html(stem: str, path: Path, rel: str) -> str:
    base = "term_pulls" if stem.startswith("term_pulls") else stem
    caption = FIGURE_CAPTIONS.get(base, stem.replace("_", " "))
    if stem.startswith("term_pulls_"):
        caption += f" Run {stem.removeprefix('term_pulls_')}."
    pdf = path.with_suffix(".pdf")
    link = f' <a href="{_esc(rel)}/{_esc(pdf.name)}">PDF</a>' if pdf.exists() else ""
    return f'<figure id="fig-{_esc(stem)}">{embed_png(path)}<figcaption><b>{_esc(stem)}</b>: ' \
           f"{_esc(caption)}{link}</figcaption></figure>"


def _run_html(sec: RunSection, several: bool) -> list[str]:
    anchor = f"run-{sec.name}" if several else "run"
    verdict = ('<span class="ok">converged</span>' if sec.converged else '<span class="bad">NOT converged</span>')
    parts = [f'<h2 id="{_esc(anchor)}">Run <code>{_esc(sec.label)}</code></h2>',
             f'<p class="muted">results folder {_esc(sec.folder)}</p>',
             f'<h3 id="convergence">Convergence: {verdict}</h3><ul>'
             + "".join(f"<li>{_esc(r)}</li>" for r in sec.convergence) + "</ul>",
             '<h3 id="summary">Posterior summary</h3><p class="muted">Weighted mean, standard deviation, median and '
             "central 68 % / 95 % intervals in the paper's units; ESS (Kish) = 1 / sum w_i^2 of the nested-sampling "
             "or scan weights, R-hat and bulk / tail ESS over the chains for MCMC.</p>", html_table(sec.summary),
             '<h3 id="priors">Priors</h3>', html_table(sec.priors),
             '<h3 id="evidence">Evidence</h3>', html_table(sec.evidence)]
    if sec.best is not None:
        parts += [f'<h3 id="best-fit">Best fit: the highest-likelihood sample (ln L = '
                  f"{_esc(format_cell(sec.best.logl))})</h3>", html_table(sec.best.params)]
        if sec.best.terms:
            parts += [f'<p class="muted">Likelihood terms at the best fit, {_esc(sec.best.source)}; pull in '
                      "gaussian-mode sigma.</p>", html_table(sec.best.terms)]
        else:
            parts.append(f'<p class="warn">Likelihood terms at the best fit {_esc(sec.best.source)}.</p>')
    parts.append('<h3 id="measurements">Measurements against posterior predictions</h3>')
    parts.append(html_table(sec.measurements) if sec.measurements else
                 '<p class="muted">(not available: the run file could not be rebuilt here)</p>')
    for title, rows in sec.tables.items():
        parts.append(f"<h3>{_esc(title)}</h3>" + html_table(rows))
    parts += ['<h3 id="provenance">Provenance</h3>', html_table(sec.provenance)]
    if sec.settings:
        parts += ["<h4>Sampler settings</h4>", html_table(sec.settings)]
    if sec.config_text:
        parts.append(f"<h4>Resolved run file</h4><pre>{_esc(sec.config_text)}</pre>")
    return parts


def render_report(data: ReportData) -> str:
    """The HTML page of one run or of a comparison of several."""
    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    several = len(data.runs) > 1
    nav = ['<a href="#figures">Figures</a>'] + (['<a href="#comparison">Comparison</a>'] if data.comparison else [])
    nav += [f'<a href="#run-{_esc(s.name)}">{_esc(s.label)}</a>' for s in data.runs] if several else \
        ['<a href="#run">Summary, priors, best fit</a>']
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>darkportal: "
             f"{_esc(data.name)}</title><style>{_CSS}</style></head><body>",
             f"<h1>darkportal {'runs' if several else 'run'} <code>{_esc(data.name)}</code></h1>",
             f'<p class="muted">Dark-scalar model of Datta, Marfatia, Mukherjee (PRD 109, L031701, '
             f"arXiv:2310.15136). Units: kappa in TeV^-1, masses in MeV, couplings and branching fractions "
             f"dimensionless. Report generated {now}.</p>", "<nav>" + "".join(nav) + "</nav>"]
    parts += [f"<p>{_esc(n)}</p>" for n in data.notes]
    if data.comparison:
        parts.append('<h2 id="comparison">Comparison of the runs</h2>' + html_table(data.comparison))
        parts += [f"<p>{_esc(n)}</p>" for n in data.comparison_notes]
    parts.append('<h2 id="figures">Figures</h2>')
    if not data.figures:
        parts.append('<p class="muted">No figures: run <code>darkportal plot</code>.</p>')
    parts += [_figure_html(stem, path, "figures") for stem, path in ordered_figures(data.figures)]
    if data.linked:
        parts.append('<p class="muted">The Fig. 2 panels one by one: ' + ", ".join(
            f'<a href="figures/{_esc(p.name)}">{_esc(p.stem)}</a>' for p in data.linked) + "</p>")
    for sec in data.runs:
        parts += _run_html(sec, several)
    parts.append("</body></html>\n")
    return "\n".join(parts)


# ------------------------------------------------------------------------------------------- from files
#: prediction tables written by `darkportal plot` (file stem -> title in the report)
TABLE_FILES: dict[str, str] = {
    "posterior_intervals": "Posterior intervals of the parameters and predicted observables (SM + NP)",
    "benchmark_predictions": "Table III-style predictions at the benchmark points BP1-BP7 (SM + NP)",
}


def read_csv_rows(path: Path) -> list[dict[str, Any]]:
    """A CSV written by inference.output.tables.to_csv back as rows (numbers as floats, empty cells as None)."""
    def value(text: str) -> Any:
        if text == "":
            return None
        try:
            return float(text)
        except ValueError:
            return text

    with open(path, encoding="utf-8", newline="") as fh:
        return [{k: value(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def figures_in(folder: Path) -> dict[str, Path]:
    fig_dir = Path(folder) / "figures"
    return {p.stem: p for p in sorted(fig_dir.glob("*.png"))} if fig_dir.is_dir() else {}


def collect_report_data(run_dirs: Sequence[str | Path], out: str | Path | None = None) -> ReportData:
    """Read the finished runs (and the figures and tables `darkportal plot` wrote into `out`)."""
    from inference.cli.plot import PlotOutput, load_views, slugs_for

    dirs = [Path(d) for d in run_dirs]
    target = Path(out) if out is not None else dirs[0]
    _, views = load_views(dirs)
    dest = PlotOutput(target, slugs_for(views))
    figs = figures_in(target)
    shown = {s: p for s, p in figs.items() if not (s.startswith("fig2_") and s != "fig2_grid")}
    data = ReportData(name=", ".join(v.label.split(" ($")[0] for v in views), figures=shown,
                      linked=[p.with_suffix(".pdf") if p.with_suffix(".pdf").exists() else p
                              for s, p in figs.items() if s not in shown])
    for i, (d, view) in enumerate(zip(dirs, views, strict=True)):
        sec = run_section(d, view.label.split(" ($")[0])
        for stem, title in TABLE_FILES.items():
            path = dest.table_dir(i) / f"{stem}.csv"
            if path.exists():
                sec.tables[title] = read_csv_rows(path)
        _add_fit_and_sensitivity(data, sec, d)
        data.runs.append(sec)
    if len(dirs) > 1:
        from inference.output.report_compare import comparison

        data.comparison, data.comparison_notes = comparison(dirs, [s.label for s in data.runs])
    return data


def _add_fit_and_sensitivity(data: ReportData, sec: RunSection, run_dir: Path) -> None:
    """The sections of `darkportal fit`, `islands` and `sensitivity` where the run's folder has their files."""
    from inference.output import report_extras

    fit = report_extras.bestfit_table(run_dir)
    if fit is not None:
        sec.tables["Best fit and SM-only chi^2 per term (darkportal fit)"] = fit[0]
        data.notes.append(fit[1])
    islands = report_extras.islands_table(run_dir)
    if islands is not None:
        sec.tables["Islands of the posterior (darkportal islands)"] = islands[0]
        data.notes.append(islands[1])
    sens = report_extras.sensitivity_parts(run_dir)
    if sens is not None:
        sec.tables["Sensitivity of ln B to the prior and the likelihood (darkportal sensitivity)"] = sens[0]
        if sens[1] is not None:
            data.figures["sensitivity"] = sens[1]


def write_report(run_dirs: Sequence[str | Path], out: str | Path | None = None) -> Path:
    """OUT/report.html (OUT: --out, or the run's folder for one run), written atomically."""
    from inference.output.results import atomic_write_text

    target = Path(out) if out is not None else Path(run_dirs[0])
    target.mkdir(parents=True, exist_ok=True)
    path = target / "report.html"
    atomic_write_text(path, render_report(collect_report_data(run_dirs, target)))
    return path
