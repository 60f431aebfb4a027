"""One self-contained HTML page per run: figures, summary, evidence, predictions, provenance.

The page needs no server and no network: figures are embedded as base64 PNG (the PDFs beside them are
linked by relative path), styles are inline, and no script is loaded.  :func:`render_report` turns a
:class:`ReportData` (plain data, testable without a run) into HTML; :func:`collect_report_data` reads
a finished results folder into one.
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import html
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference.tables import format_number

log = logging.getLogger(__name__)

#: figure stems in the order the report shows them, with captions; other PNGs follow, sorted
FIGURE_CAPTIONS: dict[str, str] = {
    "fig2_grid": "The paper's Fig. 2: posterior draws (points) with 68 % and 95 % contours; kappa != 0 in "
                 "red, kappa = 0 in cyan. The dashed line is Re g_sd = 0.",
    "fig3": "The paper's Fig. 3: predicted branching fractions (SM + NP); kappa != 0 in blue, kappa = 0 in "
            "green; grey bands are measurements (1 sigma), dashed lines upper limits, dotted lines SM values.",
    "corner": "Posterior of the sampled parameters (paper units), 68 % and 95 % contours, 16/50/84 % "
              "quantiles.",
    "term_pulls": "Likelihood terms at the best posterior point as |pull| = sqrt(-2 ln L_i).",
    "fig2_eta_t_vs_eta_c": "Fig. 2 panel: eta_t against eta_c with the line Re g_sd = 0.",
    "fig2_m_S_vs_m_nu4": "Fig. 2 panel: m_S against m_nu4.",
    "fig2_eta_d_vs_eta_c": "Fig. 2 panel: eta_d against eta_c (gaps in eta_d).",
    "fig2_g_D_vs_U_mu4": "Fig. 2 panel: g_D against |U_mu4|.",
    "fig2_kappa_vs_eta_d": "Fig. 2 panel: kappa against eta_d.",
    "sensitivity": "ln B under prior (blue) and likelihood (orange) variants, from the baseline (black line); "
                   "darkportal sensitivity, with each row's method and ESS in the table.",
}
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;
color:#222;line-height:1.4;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
th,td{border:1px solid #ddd;padding:.25em .55em;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}
figure{margin:1.2em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.9em;color:#555}pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.82em}
.muted{color:#777;font-size:.9em}nav a{margin-right:1em}
"""


@dataclass
class ReportData:
    """Everything a report page shows, as plain data.

    figures: stem -> PNG path (embedded) ; tables: title -> rows (see inference.tables) ;
    comparison: rows of a run comparison (run, ln Z, errors, ln B ...) or empty ; notes: free text lines.
    """

    name: str
    figures: dict[str, Path] = field(default_factory=dict)
    summary: list[dict[str, Any]] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    config_text: str = ""
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    comparison: list[dict[str, Any]] = field(default_factory=list)
    comparison_text: str = ""
    notes: list[str] = field(default_factory=list)


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def html_table(rows: Sequence[Mapping[str, Any]], digits: int = 4) -> str:
    """Rows (dicts with the same keys) as an HTML table; numbers to `digits` significant digits."""
    if not rows:
        return '<p class="muted">(empty)</p>'
    cols = list(rows[0])
    head = "".join(f"<th>{_esc(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_esc(format_number(r.get(c), digits))}</td>" for c in cols)
                   + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _kv_table(d: Mapping[str, Any]) -> str:
    rows = []
    for k, v in d.items():
        text = json.dumps(v) if isinstance(v, dict | list) else format_number(v, 6)
        rows.append(f"<tr><th>{_esc(k)}</th><td>{_esc(text)}</td></tr>")
    return "<table>" + "".join(rows) + "</table>" if rows else '<p class="muted">(none)</p>'


def embed_png(path: Path) -> str:
    """An <img> with the PNG inlined as a data URI."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{_esc(Path(path).stem)}" src="data:image/png;base64,{data}">'


def ordered_figures(figures: Mapping[str, Path]) -> list[tuple[str, Path]]:
    known = [(s, figures[s]) for s in FIGURE_CAPTIONS if s in figures]
    return known + sorted((s, p) for s, p in figures.items() if s not in FIGURE_CAPTIONS)


def _figure_html(stem: str, path: Path) -> str:
    caption = FIGURE_CAPTIONS.get(stem, stem.replace("_", " "))
    pdf = path.with_suffix(".pdf")
    link = f' <a href="{_esc(pdf.parent.name)}/{_esc(pdf.name)}">PDF</a>' if pdf.exists() else ""
    return f'<figure id="fig-{_esc(stem)}">{embed_png(path)}<figcaption><b>{_esc(stem)}</b>: ' \
           f"{_esc(caption)}{link}</figcaption></figure>"


def render_report(data: ReportData) -> str:
    """The HTML page of one run (or of a comparison, when `data.comparison` is set)."""
    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>darkportal: "
             f"{_esc(data.name)}</title><style>{_CSS}</style></head><body>",
             f"<h1>darkportal run <code>{_esc(data.name)}</code></h1>",
             f'<p class="muted">Dark-scalar model of Datta, Marfatia, Mukherjee (PRD 109, L031701, '
             f"arXiv:2310.15136). Report generated {now}.</p>",
             '<nav><a href="#summary">Summary</a><a href="#evidence">Evidence</a><a href="#figures">Figures'
             '</a><a href="#predictions">Predictions</a><a href="#provenance">Provenance</a></nav>']
    parts += [f"<p>{_esc(n)}</p>" for n in data.notes]
    parts.append('<h2 id="summary">Posterior summary</h2>'
                 '<p class="muted">Parameters in the paper\'s units (kappa in TeV^-1, masses in MeV); '
                 "q16-q84 is the 68 % and q2.5-q97.5 the 95 % central interval.</p>")
    parts.append(html_table(data.summary))
    parts.append('<h2 id="evidence">Evidence</h2>' + _kv_table(data.evidence))
    if data.comparison:
        parts.append("<h3>Comparison of runs</h3>" + html_table(data.comparison))
    if data.comparison_text:
        parts.append(f"<pre>{_esc(data.comparison_text)}</pre>")
    parts.append('<h2 id="figures">Figures</h2>')
    if not data.figures:
        parts.append('<p class="muted">No figures: run <code>darkportal plot RUN</code>.</p>')
    parts += [_figure_html(stem, path) for stem, path in ordered_figures(data.figures)]
    parts.append('<h2 id="predictions">Predictions</h2>')
    for title, rows in data.tables.items():
        parts.append(f"<h3>{_esc(title)}</h3>" + html_table(rows))
    parts.append('<h2 id="provenance">Provenance</h2>' + _kv_table(data.provenance))
    if data.config_text:
        parts.append(f"<h3>Resolved run file</h3><pre>{_esc(data.config_text)}</pre>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


# ------------------------------------------------------------------------------------------- from files
#: prediction tables written by `darkportal plot` (file stem -> title in the report)
TABLE_FILES: dict[str, str] = {
    "posterior_intervals": "Posterior intervals of the parameters and predicted observables (SM + NP)",
    "benchmark_predictions": "Table III-style predictions at the benchmark points BP1-BP7 (SM + NP)",
}


def read_csv_rows(path: Path) -> list[dict[str, Any]]:
    """A CSV written by inference.tables.to_csv back as rows (numbers as floats, empty cells as None)."""
    def value(text: str) -> Any:
        if text == "":
            return None
        try:
            return float(text)
        except ValueError:
            return text

    with open(path, encoding="utf-8", newline="") as fh:
        return [{k: value(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def figures_in(run_dir: Path) -> dict[str, Path]:
    fig_dir = Path(run_dir) / "figures"
    return {p.stem: p for p in sorted(fig_dir.glob("*.png"))} if fig_dir.is_dir() else {}


def collect_report_data(run_dir: str | Path, others: Sequence[str | Path] = ()) -> ReportData:
    """Read a finished run folder (and the runs it is compared with) into a :class:`ReportData`."""
    from inference.results import read_results

    run_dir = Path(run_dir)
    res = read_results(run_dir)
    config_path = run_dir / "run.yaml"
    data = ReportData(name=str(res.config.get("name") or run_dir.name), figures=figures_in(run_dir),
                      summary=res.summary, evidence=res.evidence, provenance=res.provenance,
                      config_text=config_path.read_text(encoding="utf-8") if config_path.exists() else "")
    for stem, title in TABLE_FILES.items():
        path = run_dir / f"{stem}.csv"
        if path.exists():
            data.tables[title] = read_csv_rows(path)
    _add_fit_and_sensitivity(data, run_dir)
    if others:
        data.comparison, data.comparison_text = _comparison(run_dir, [Path(o) for o in others])
        data.notes.append("Figures overlay the runs " + ", ".join(
            [run_dir.name, *(Path(o).name for o in others)]) + " where they were plotted together.")
    return data


def _add_fit_and_sensitivity(data: ReportData, run_dir: Path) -> None:
    """The sections of `darkportal fit` and `darkportal sensitivity` where the folder has their files."""
    from inference import report_extras

    fit = report_extras.bestfit_table(run_dir)
    if fit is not None:
        data.tables["Best fit and SM-only chi^2 per term (darkportal fit)"] = fit[0]
        data.notes.append(fit[1])
    sens = report_extras.sensitivity_parts(run_dir)
    if sens is not None:
        data.tables["Sensitivity of ln B to the prior and the likelihood (darkportal sensitivity)"] = sens[0]
        if sens[1] is not None:
            data.figures["sensitivity"] = sens[1]


def _comparison(run_dir: Path, others: Sequence[Path]) -> tuple[list[dict[str, Any]], str]:
    """ln Z of each run and ln B against this run (inference.compare), plus its text table for the first."""
    from inference import compare
    from inference.results import ResultsError, read_results

    rows: list[dict[str, Any]] = []
    text = ""
    try:
        base = compare.evidence_of(read_results(run_dir))
    except ResultsError as exc:
        return [], f"no comparison: {exc}"
    rows.append({"run": run_dir.name, "ln Z": base["logz"], "ln Z error": base["logz_err"],
                 "ln B = ln Z(this) - ln Z(run)": None, "ln B error": None, "Jeffreys scale": ""})
    for other in others:
        try:
            ev = compare.evidence_of(read_results(other))
        except ResultsError as exc:
            log.warning("comparison with %s skipped: %s", other, exc)
            continue
        bf = compare.bayes_factor(base, ev)
        rows.append({"run": other.name, "ln Z": ev["logz"], "ln Z error": ev["logz_err"],
                     "ln B = ln Z(this) - ln Z(run)": bf["ln_B"], "ln B error": bf["ln_B_err"],
                     "Jeffreys scale": bf["jeffreys"].replace(" for A", f" for {run_dir.name}")
                     .replace(" for B", f" for {other.name}")})
    try:
        text = compare.format_table(compare.compare(run_dir, others[0]))
    except Exception as exc:  # the table above stays; the cross-check is optional
        log.warning("Savage-Dickey cross-check skipped: %s", exc)
    return rows, text


def write_report(run_dir: str | Path, others: Sequence[str | Path] = ()) -> Path:
    """RUN/report.html for a finished run (comparison with `others` if given), written atomically."""
    from inference.results import atomic_write_text

    path = Path(run_dir) / "report.html"
    atomic_write_text(path, render_report(collect_report_data(run_dir, others)))
    return path
