"""Prediction tables: the paper's Table III at the benchmark points, and posterior intervals.

The paper (arXiv:2310.15136, Table III) lists predictions of decays that are not yet measured at its
seven benchmark points; its numbers are not available (docs/physics/README.md), so
:func:`benchmark_table` recomputes them with ``physics.predict`` at ``physics.all_benchmarks()``.
:func:`posterior_intervals` gives the same kind of numbers from a posterior: weighted mean, median and
the central 68 % and 95 % intervals.

Rows are plain dicts (column -> value, first column the quantity's name), so one set of writers serves
both tables: :func:`to_markdown`, :func:`to_csv`, :func:`to_latex`.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from physics import BENCHMARK_NAMES, REGISTRY, TheoryOptions, all_benchmarks, predict

log = logging.getLogger(__name__)

Row = dict[str, Any]

#: the unmeasured decays and derived quantities of the Table III-style table (SM + NP totals)
TABLE3_OBSERVABLES: tuple[str, ...] = (
    "BR(K+->pi+nunu)", "BR(KL->pi0nunu)", "BR(B+->K+nunu)", "BR(B0->K*0nunu)", "BR(B+->K*+nunu)",
    "BR(Bs->invisible)", "BR(Bs->nuDnuD)", "BR(KS->pi0gammagamma)", "BR(KL->pi0gammagamma)",
    "BR(K+->pi+gammagamma)", "Delta_a_e", "R_MiniBooNE", "R_CHARMII", "ctau_S",
)
#: probabilities of the interval ends in posterior_intervals (68 % and 95 % central intervals)
INTERVAL_QUANTILES: dict[str, float] = {"q2.5": 0.025, "q16": 0.16, "q84": 0.84, "q97.5": 0.975}
_UNIT_TEX = {"1": "", "TeV^-1": r"TeV$^{-1}$", "MeV": "MeV", "GeV": "GeV", "mm": "mm", "ps": "ps",
             "ps^-1": r"ps$^{-1}$", "s^-1": r"s$^{-1}$"}


def _unit(name: str) -> str:
    return REGISTRY[name].unit if name in REGISTRY else ""


def _predict_totals(names: Sequence[str], options: TheoryOptions | None) -> dict[str, np.ndarray]:
    """SM + NP totals at the seven benchmark points; an observable whose physics fails gives NaN (logged)."""
    params = all_benchmarks()
    try:
        return {k: v.total for k, v in predict(params, names, options).items()}
    except Exception as exc:  # find out which observable fails, keep the others
        log.warning("benchmark predictions: %s; computing observable by observable", exc)
    out = {}
    for name in names:
        try:
            out[name] = predict(params, [name], options)[name].total
        except Exception as exc:
            log.warning("benchmark predictions: %s failed (%s); reported as NaN", name, exc)
            out[name] = np.full(params.size, np.nan)
    return out


def benchmark_table(options: TheoryOptions | None = None,
                    observables: Sequence[str] = TABLE3_OBSERVABLES) -> list[Row]:
    """Table III-style rows: one per observable, columns observable, unit, SM, BP1..BP7 (SM + NP totals).

    Computed with ``physics.predict`` at ``physics.all_benchmarks()`` under `options` (paper defaults).
    SM is the Standard-Model central value, None where the observable has none.
    """
    unknown = [n for n in observables if n not in REGISTRY]
    if unknown:
        raise KeyError(f"unknown observable(s) {unknown}")
    totals = _predict_totals(list(observables), options)
    rows = []
    for name in observables:
        sm = REGISTRY[name].sm
        row: Row = {"observable": name, "unit": _unit(name), "SM": None if sm is None else sm.value}
        row.update({bp: float(v) for bp, v in zip(BENCHMARK_NAMES, totals[name], strict=True)})
        rows.append(row)
    return rows


def weighted_quantiles(x: np.ndarray, weights: np.ndarray, q: Sequence[float]) -> np.ndarray:
    """Quantiles of weighted samples (linear interpolation of the mid-point weighted CDF)."""
    from inference.output.results import weighted_quantiles as wq

    return np.asarray(wq(np.asarray(x, dtype=float), np.asarray(weights, dtype=float), np.asarray(q)))


def posterior_intervals(samples: Mapping[str, Any], weights: Any = None) -> list[Row]:
    """One row per quantity: quantity, unit, mean, median, 68 % (q16, q84) and 95 % (q2.5, q97.5) bounds.

    `samples` maps a name (parameter in paper units or observable) to its (n,) values; `weights` (n,)
    are normalised here (None = equal weights).  Non-finite values are left out with their weight.
    """
    rows = []
    for name, values in samples.items():
        x = np.asarray(values, dtype=float).ravel()
        w = np.full(len(x), 1.0) if weights is None else np.asarray(weights, dtype=float).ravel()
        if len(w) != len(x):
            raise ValueError(f"{name}: {len(x)} samples but {len(w)} weights")
        ok = np.isfinite(x) & (w > 0)
        if not ok.any():
            log.warning("posterior intervals: %s has no finite sample", name)
            continue
        x, w = x[ok], w[ok] / w[ok].sum()
        q = weighted_quantiles(x, w, [0.5, *INTERVAL_QUANTILES.values()])
        row: Row = {"quantity": name, "unit": _unit(name), "mean": float(np.sum(w * x)), "median": float(q[0])}
        row.update({k: float(v) for k, v in zip(INTERVAL_QUANTILES, q[1:], strict=True)})
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------------------------- writers
def _columns(rows: Sequence[Row]) -> list[str]:
    if not rows:
        raise ValueError("empty table")
    return list(rows[0])


def format_number(x: Any, digits: int = 4) -> str:
    """Plain text: 4 significant digits; None -> '-'."""
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    return f"{float(x):.{digits}g}"


def latex_number(x: Any, digits: int = 3) -> str:
    r"""LaTeX: 1.23\times10^{-5} in math mode for large or small numbers; None -> '--'."""
    if x is None:
        return "--"
    if isinstance(x, str):
        return x
    v = float(x)
    if not math.isfinite(v):
        return "--" if math.isnan(v) else (r"$\infty$" if v > 0 else r"$-\infty$")
    if v == 0.0:
        return "0"
    exp = math.floor(math.log10(abs(v)))
    if -2 <= exp <= 3:
        return f"${v:.{digits}g}$"
    mant = v / 10.0**exp
    return rf"${mant:.{digits}g}\times10^{{{exp}}}$"


def to_markdown(rows: Sequence[Row], digits: int = 4) -> str:
    """A GitHub-flavoured markdown table (pipes and asterisks in names escaped)."""
    cols = _columns(rows)

    def cell(v: Any) -> str:
        return format_number(v, digits).replace("|", r"\|").replace("*", r"\*")

    lines = ["| " + " | ".join(cell(c) for c in cols) + " |",
             "|" + "|".join(":---" if i < 2 else "---:" for i in range(len(cols))) + "|"]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def to_csv(rows: Sequence[Row]) -> str:
    """CSV with full-precision numbers (repr) and empty cells for None."""
    cols = _columns(rows)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(cols)
    for r in rows:
        writer.writerow(["" if r.get(c) is None else (r[c] if isinstance(r[c], str) else repr(float(r[c])))
                         for c in cols])
    return buf.getvalue()


def _latex_name(v: Any) -> str:
    if isinstance(v, str) and v in REGISTRY:
        return f"${REGISTRY[v].latex}$"
    if isinstance(v, str):
        return latex_escape(v)
    return latex_number(v)


def latex_escape(text: str) -> str:
    """Plain text made safe for LaTeX (backslash, underscore, percent, ampersand, hash, caret, dollar)."""
    for a, b in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"), ("#", r"\#"),
                 ("^", r"\^{}"), ("$", r"\$")):
        text = text.replace(a, b)
    return text


def to_latex(rows: Sequence[Row], caption: str = "", label: str = "", digits: int = 3) -> str:
    """A booktabs table: names from the observable registry's LaTeX, units typeset, numbers as a x 10^b.

    `caption` is LaTeX (escape plain text with :func:`latex_escape`).
    """
    cols = _columns(rows)
    body = []
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c)
            if c == "unit":
                cells.append(_UNIT_TEX.get(str(v), latex_escape(str(v))))
            elif c == cols[0]:
                cells.append(_latex_name(v))
            else:
                cells.append(latex_number(v, digits))
        body.append(" & ".join(cells) + r" \\")
    head = " & ".join(latex_escape(c) for c in cols) + r" \\"
    spec = "l" * min(2, len(cols)) + "r" * max(0, len(cols) - 2)
    lines = [r"\begin{table}", r"\centering"]
    if caption:
        lines.append(rf"\caption{{{caption}}}")
    if label:
        lines.append(rf"\label{{{label}}}")
    lines += [rf"\begin{{tabular}}{{{spec}}}", r"\toprule", head, r"\midrule", *body, r"\bottomrule",
              r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def write_table(rows: Sequence[Row], outdir: str | Path, stem: str, caption: str = "") -> list[Path]:
    """stem.md, stem.csv and stem.tex in outdir, each written atomically; returns the paths."""
    from inference.output.results import atomic_write_text

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    texts = {"md": to_markdown(rows), "csv": to_csv(rows), "tex": to_latex(rows, caption=caption)}
    paths = []
    for ext, text in texts.items():
        path = out / f"{stem}.{ext}"
        atomic_write_text(path, text)
        paths.append(path)
    return paths


def select(samples: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The entries of `samples` named in `names`, in that order (missing names skipped)."""
    return {n: samples[n] for n in names if n in samples}
