"""`darkportal plot RUN [RUN ...]`: figures and prediction tables of finished runs.

Written for each RUN folder:

* ``figures/corner.{png,pdf}`` and ``figures/term_pulls.{png,pdf}`` of that run;
* ``figures/fig2_<panel>``, ``figures/fig2_grid`` and ``figures/fig3`` (the paper's Figs. 2 and 3) with
  ALL the given runs overlaid (kappa != 0 red / blue, kappa = 0 cyan / green), copied into every run's
  figures folder so that each run's report is complete;
* ``posterior_intervals.{md,csv,tex}``: mean, median, 68 % and 95 % intervals of the parameters and of
  the predicted unmeasured decays (SM + NP);
* ``benchmark_predictions.{md,csv,tex}``: the Table III-style predictions at BP1-BP7 with the run's
  theory options.

Measured values and limits in Fig. 3 come from the run's measurement set (likelihoods database).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from inference import plots, tables
from inference.plots_data import RunView, measurement_references, run_view_from_results, theory_options

log = logging.getLogger(__name__)

WANTED_OBSERVABLES: tuple[str, ...] = tuple(dict.fromkeys([*plots.FIG3_OBSERVABLES,
                                                           *tables.TABLE3_OBSERVABLES]))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="darkportal plot", description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", metavar="RUN", help="results folder(s) of finished runs")
    p.add_argument("--data", default=None, help="measurement set drawn in Fig. 3 (default: the first run's)")
    p.add_argument("--points", type=int, default=3000, help="posterior draws per run in scatter plots")
    p.add_argument("--seed", type=int, default=0, help="seed of the equally weighted resample")
    p.add_argument("--formats", default="png,pdf", help="comma-separated figure formats (default png,pdf)")
    return p


def _copy_atomic(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def run_tables(view: RunView, config: dict[str, Any], outdir: Path) -> list[Path]:
    """posterior_intervals.* and benchmark_predictions.* of one run."""
    quantities = {**view.samples, **tables.select(view.observables, tables.TABLE3_OBSERVABLES)}
    rows = tables.posterior_intervals(quantities, view.weights)
    caption = f"Posterior intervals, run {tables.latex_escape(view.name)} (SM + NP predictions)."
    paths = tables.write_table(rows, outdir, "posterior_intervals", caption=caption)
    bench = tables.benchmark_table(theory_options(config))
    paths += tables.write_table(bench, outdir, "benchmark_predictions",
                                caption="Predictions (SM + NP) at the benchmark points of the paper's Table II.")
    return paths


def make_plots(run_dirs: Sequence[str | Path], data_set: str | None = None, n_points: int = 3000,
               seed: int = 0, formats: Sequence[str] = plots.FORMATS) -> dict[Path, list[Path]]:
    """Every figure and table of the runs (see the module docstring); returns folder -> files written."""
    from inference.results import read_results

    dirs = [Path(d) for d in run_dirs]
    results = [read_results(d) for d in dirs]
    views = [run_view_from_results(r, WANTED_OBSERVABLES) for r in results]
    written: dict[Path, list[Path]] = {d: [] for d in dirs}
    for d, res, view in zip(dirs, results, views, strict=True):
        t0 = time.monotonic()
        fig_dir = d / "figures"
        written[d] += plots.save_figure(plots.run_corner(view), fig_dir, "corner", formats)
        if view.terms:
            written[d] += plots.save_figure(plots.term_pulls(view.best_terms(), f"{view.name}: likelihood terms "
                                                             "at the best point"), fig_dir, "term_pulls", formats)
        written[d] += run_tables(view, res.config, d)
        log.info("%s: corner plot, term pulls and tables in %.0f s", d, time.monotonic() - t0)
    data = data_set or str((results[0].config.get("likelihood") or {}).get("data", "2023"))
    first = dirs[0] / "figures"
    overlays: list[Path] = []
    for stem, fig in plots.fig2_panels(views, n_points=n_points, seed=seed).items():
        overlays += plots.save_figure(fig, first, f"fig2_{stem}", formats)
    refs = measurement_references(plots.FIG3_OBSERVABLES, data)
    overlays += plots.save_figure(plots.fig3_correlations(views, refs, n_points=n_points, seed=seed), first,
                                  "fig3", formats)
    written[dirs[0]] += overlays
    for d in dirs[1:]:
        (d / "figures").mkdir(parents=True, exist_ok=True)
        for src in overlays:
            _copy_atomic(src, d / "figures" / src.name)
            written[d].append(d / "figures" / src.name)
    return written


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    formats = tuple(f.strip().lower() for f in args.formats.split(",") if f.strip())
    if args.points < 1:
        raise ValueError("--points must be at least 1")
    written = make_plots(args.runs, args.data, args.points, args.seed, formats)
    for d, files in written.items():
        figs = sorted({p.stem for p in files if p.parent.name == "figures"})
        tabs = sorted({p.name for p in files if p.parent == d})
        print(f"{d}: {len(figs)} figures in {d / 'figures'} ({', '.join(figs)})")
        print(f"{' ' * len(str(d))}  tables: {', '.join(tabs)}")
    if len(written) > 1:
        print("Fig. 2 and Fig. 3 overlay all runs and are copied into each run's figures folder.")
    return 0
