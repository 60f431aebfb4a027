"""``darkportal sensitivity A B [--out DIR]``: ln B(A vs B) under prior and likelihood variants.

    darkportal sensitivity results/kappa_nonzero results/kappa_zero          # -> results/kappa_nonzero/sensitivity/

Writes sensitivity.csv, sensitivity.md and the tornado figure sensitivity.png / .pdf (each atomically). The
variants and methods are in ``inference.analysis.sensitivity``; A and B must differ only in the parameter under test
(``inference.analysis.comparability``).
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import os
import time
from pathlib import Path

import numpy as np

from inference.analysis.compare import jeffreys_scale
from inference.analysis.reweight import DEFAULT_MIN_ESS
from inference.analysis.sensitivity import QUICK_NLIVE, Row, sensitivity
from inference.output.plots import save_figure
from inference.output.results import atomic_write_text, read_results

log = logging.getLogger(__name__)

COLUMNS = ("variant", "kind", "description", "ln_B", "ln_B_err", "delta_ln_B", "logz_A", "logz_A_err", "method_A",
           "ess_A", "logz_B", "logz_B_err", "method_B", "ess_B", "note")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="darkportal sensitivity", description=__doc__.splitlines()[0].split(": ", 1)[1])
    p.add_argument("run_a", type=Path, help="results folder of model A (e.g. results/kappa_nonzero)")
    p.add_argument("run_b", type=Path, help="results folder of model B (e.g. results/kappa_zero)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: A/sensitivity)")
    p.add_argument("--min-ess", type=float, default=DEFAULT_MIN_ESS,
                   help="rerun instead of reweighting below this effective sample size "
                        f"(default {DEFAULT_MIN_ESS:.0f})")
    p.add_argument("--nlive", type=int, default=QUICK_NLIVE,
                   help=f"live points of the quick dynesty reruns (default {QUICK_NLIVE})")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="processes for the reruns (default: 2, or 1 on a one-core machine)")
    return p


def rows_as_dicts(rows: list[Row]) -> list[dict[str, object]]:
    base = rows[0].ln_b
    out = []
    for r in rows:
        notes = "; ".join(f"{side}: {e.note}" for side, e in (("A", r.a), ("B", r.b)) if e.note)
        out.append({"variant": r.variant.name, "kind": r.variant.kind, "description": r.variant.description,
                    "ln_B": r.ln_b, "ln_B_err": r.ln_b_err, "delta_ln_B": r.ln_b - base,
                    "logz_A": r.a.logz, "logz_A_err": r.a.logz_err, "method_A": r.a.method, "ess_A": r.a.ess,
                    "logz_B": r.b.logz, "logz_B_err": r.b.logz_err, "method_B": r.b.method, "ess_B": r.b.ess,
                    "note": notes})
    return out


def to_csv(rows: list[dict[str, object]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row[k] is None else row[k]) for k in COLUMNS})
    return buf.getvalue()


def _ess(v: object) -> str:
    return "-" if v is None or not np.isfinite(float(v)) else f"{float(v):.0f}"  # type: ignore[arg-type]


def to_markdown(rows: list[dict[str, object]], label_a: str, label_b: str) -> str:
    values = np.array([float(r["ln_B"]) for r in rows])  # type: ignore[arg-type]
    lo, hi = int(np.argmin(values)), int(np.argmax(values))
    lines = [f"# ln B ({label_a} vs {label_b}) under prior and likelihood variants", "",
             f"Baseline ln B = {values[0]:.2f} +- {float(rows[0]['ln_B_err']):.2f} ({jeffreys_scale(values[0])}). "  # type: ignore[arg-type]
             f"Across the {len(rows) - 1} variants ln B runs from {values[lo]:.2f} ({rows[lo]['variant']}) to "
             f"{values[hi]:.2f} ({rows[hi]['variant']}); {int(np.sum(values > 0))} of {len(rows)} rows favour A.",
             "", "| variant | ln B | +- | Delta | A: method | A: ESS | B: method | B: ESS |",
             "| --- | ---: | ---: | ---: | --- | ---: | --- | ---: |"]
    for r in rows:
        lines.append(f"| {r['variant']} | {float(r['ln_B']):.2f} | {float(r['ln_B_err']):.2f} | "  # type: ignore[arg-type]
                     f"{float(r['delta_ln_B']):+.2f} | {r['method_A']} | {_ess(r['ess_A'])} | {r['method_B']} | "  # type: ignore[arg-type]
                     f"{_ess(r['ess_B'])} |")
    notes = [f"- {r['variant']}: {r['note']}" for r in rows if r["note"]]
    if notes:
        lines += ["", "Why a run was rerun (or how a released bound was integrated):", "", *notes]
    lines += ["", "Errors: reweighted rows combine the importance-sampling error with the run's nested-sampling error "
              "(rescaled by the information); reruns carry dynesty's error of a quick run. Delta is relative to the "
              "baseline; the two are strongly correlated for reweighted rows, so Delta is better known than the "
              "+- column says. Rows with a rerun compare best with the 'baseline, quick rerun' row, run with the "
              "same few live points."]
    return "\n".join(lines) + "\n"


def tornado(rows: list[dict[str, object]], path_stem: Path) -> list[Path]:
    """Horizontal bars from the baseline ln B to each variant's, with error bars, largest shift on top."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    base = float(rows[0]["ln_B"])  # type: ignore[arg-type]
    rest = sorted(rows[1:], key=lambda r: abs(float(r["delta_ln_B"])))  # type: ignore[arg-type]
    fig, ax = plt.subplots(figsize=(7.5, 0.28 * len(rest) + 1.6))
    y = np.arange(len(rest))
    delta = np.array([float(r["delta_ln_B"]) for r in rest])  # type: ignore[arg-type]
    err = np.array([float(r["ln_B_err"]) for r in rest])  # type: ignore[arg-type]
    colours = [{"prior": "tab:blue", "likelihood": "tab:orange"}.get(str(r["kind"]), "tab:grey") for r in rest]
    ax.barh(y, delta, left=base, color=colours, alpha=0.8)
    ax.errorbar(base + delta, y, xerr=err, fmt="none", ecolor="k", elinewidth=0.8, capsize=2)
    ax.axvline(base, color="k", lw=1)
    ax.axvline(0.0, color="grey", lw=0.8, ls="--")
    ax.set_yticks(y, [str(r["variant"]) for r in rest], fontsize=7)
    ax.set_xlabel(r"$\ln B$ (A vs B)")
    ax.set_title(f"ln B under variants (baseline {base:.2f}; blue: prior, orange: likelihood, grey: quick rerun "
                 "of the baseline)", fontsize=8)
    fig.tight_layout()
    paths = save_figure(fig, path_stem.parent, path_stem.name, dpi=150)
    plt.close(fig)
    return paths


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    res_a, res_b = read_results(args.run_a), read_results(args.run_b)
    out = args.out if args.out is not None else args.run_a / "sensitivity"
    t0 = time.monotonic()
    rows = rows_as_dicts(sensitivity(res_a, res_b, min_ess=args.min_ess, nlive=args.nlive, jobs=max(1, args.jobs)))
    wall = time.monotonic() - t0
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "sensitivity.csv", to_csv(rows))
    md = to_markdown(rows, str(args.run_a), str(args.run_b))
    atomic_write_text(out / "sensitivity.md", md)
    figures = tornado(rows, out / "sensitivity")
    print(md)
    print(f"written {out / 'sensitivity.csv'}, {out / 'sensitivity.md'}, {', '.join(map(str, figures))} "
          f"({wall:.0f} s)")
    return 0
