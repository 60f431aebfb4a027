"""`darkportal plot RUN [RUN ...] [--out DIR]`: figures and prediction tables of finished runs.

Where they go: with one RUN and no --out, into that run's folder (RUN/figures/ and the tables beside the
run's files; nothing the run itself wrote is touched).  With several RUNs, --out DIR is required: the
overlays of several runs belong to none of them, so no input folder is ever changed.  --out works with one
RUN too.

Written into the output folder OUT:

* ``figures/corner.{png,pdf}``: the corner plot, all runs overlaid in their colours;
* ``figures/fig2_<panel>``, ``figures/fig2_grid`` and ``figures/fig3`` (the paper's Figs. 2 and 3) with
  all the runs overlaid, each run in its own colour and with its own label;
* ``figures/term_pulls`` (one run) or ``figures/term_pulls_<run>`` (several): the likelihood terms at the
  highest-likelihood draw;
* ``posterior_intervals.{md,csv,tex}`` and ``benchmark_predictions.{md,csv,tex}`` (one run), or the same
  under ``<run>/`` (several): mean, median, 68 % and 95 % intervals of the parameters and predicted
  unmeasured decays (SM + NP), and the Table III-style predictions at BP1-BP7 with the run's theory options.

Measured values and limits in Fig. 3 come from the first run's measurement set (likelihoods database).
"""

from __future__ import annotations

import argparse
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.errors import DarkportalError
from inference.output import plots, tables
from inference.output.plots_data import (
    RunView,
    measurement_references,
    run_view_from_results,
    style_runs,
    theory_options,
)

log = logging.getLogger(__name__)

WANTED_OBSERVABLES: tuple[str, ...] = tuple(dict.fromkeys([*plots.FIG3_OBSERVABLES,
                                                           *tables.TABLE3_OBSERVABLES]))


class PlotUsageError(DarkportalError, ValueError):
    """The command line names no output folder for several runs, or the output folder is a bad choice."""


@dataclass(frozen=True)
class PlotOutput:
    """Where the figures of a set of runs go: OUT/figures, and per-run tables in OUT (one run) or OUT/<slug>."""

    out: Path
    slugs: tuple[str, ...]

    @property
    def figures(self) -> Path:
        return self.out / "figures"

    def table_dir(self, i: int) -> Path:
        return self.out if len(self.slugs) == 1 else self.out / self.slugs[i]

    def pulls_stem(self, i: int) -> str:
        return "term_pulls" if len(self.slugs) == 1 else f"term_pulls_{self.slugs[i]}"


def output_folder(run_dirs: Sequence[Path], out: Path | None, command: str = "plot") -> Path:
    """The output folder: --out, or the run's own folder for a single run; several runs need --out."""
    if out is not None:
        return Path(out)
    if len(run_dirs) == 1:
        return Path(run_dirs[0])
    raise PlotUsageError(
        f"darkportal {command} with {len(run_dirs)} runs needs --out DIR (a new folder for the overlays), so that "
        f"no input folder is changed; e.g. darkportal {command} {' '.join(map(str, run_dirs))} --out "
        "results/comparison")


def slugs_for(views: Sequence[RunView]) -> tuple[str, ...]:
    """File-name-safe, distinct names of the runs (from their labels, numbered if they still collide)."""
    out: list[str] = []
    for v in views:
        base = re.sub(r"[^A-Za-z0-9_.-]+", "_", v.label.split(" ($")[0]).strip("_.") or "run"
        slug, k = base, 2
        while slug in out:
            slug, k = f"{base}_{k}", k + 1
        out.append(slug)
    return tuple(out)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="darkportal plot", description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", metavar="RUN", help="results folder(s) of finished runs")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default: the run's own folder for one RUN; required for several)")
    p.add_argument("--data", default=None, help="measurement set drawn in Fig. 3 (default: the first run's)")
    p.add_argument("--points", type=int, default=3000, help="posterior draws per run in scatter plots")
    p.add_argument("--seed", type=int, default=0, help="seed of the equally weighted resample")
    p.add_argument("--formats", default="png,pdf", help="comma-separated figure formats (default png,pdf)")
    return p


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


def load_views(run_dirs: Sequence[Path]) -> tuple[list[Any], list[RunView]]:
    """The runs' results and their plot views, coloured and labelled by run."""
    from inference.output.results import read_results

    results = [read_results(d) for d in run_dirs]
    views = [run_view_from_results(r, WANTED_OBSERVABLES) for r in results]
    return results, style_runs(views, list(run_dirs))


def make_plots(run_dirs: Sequence[str | Path], data_set: str | None = None, n_points: int = 3000,
               seed: int = 0, formats: Sequence[str] = plots.FORMATS, out: str | Path | None = None) -> PlotOutput:
    """Every figure and table of the runs (see the module docstring); returns where they went."""
    dirs = [Path(d) for d in run_dirs]
    target = output_folder(dirs, Path(out) if out is not None else None)
    if target.resolve() in {d.resolve() for d in dirs} and len(dirs) > 1:
        raise PlotUsageError(f"--out {target} is one of the input runs; choose a new folder for the overlays")
    results, views = load_views(dirs)
    dest = PlotOutput(target, slugs_for(views))
    t0 = time.monotonic()
    plots.save_figure(plots.run_corner(views), dest.figures, "corner", formats)
    for i, (res, view) in enumerate(zip(results, views, strict=True)):
        if view.terms:
            plots.save_figure(plots.term_pulls(view.best_terms(), f"{view.label}: likelihood terms at the "
                                                                  "best point"), dest.figures, dest.pulls_stem(i),
                              formats)
        run_tables(view, res.config, dest.table_dir(i))
    data = data_set or str((results[0].config.get("likelihood") or {}).get("data", "2023"))
    for stem, fig in plots.fig2_panels(views, n_points=n_points, seed=seed).items():
        plots.save_figure(fig, dest.figures, f"fig2_{stem}", formats)
    refs = measurement_references(plots.FIG3_OBSERVABLES, data)
    plots.save_figure(plots.fig3_correlations(views, refs, n_points=n_points, seed=seed), dest.figures, "fig3",
                      formats)
    log.info("figures and tables of %d run(s) in %s (%.0f s)", len(dirs), target, time.monotonic() - t0)
    return dest


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    formats = tuple(f.strip().lower() for f in args.formats.split(",") if f.strip())
    if args.points < 1:
        raise ValueError("--points must be at least 1")
    dest = make_plots(args.runs, args.data, args.points, args.seed, formats, args.out)
    figs = sorted({p.stem for p in dest.figures.glob("*.png")})
    print(f"{len(figs)} figures in {dest.figures} ({', '.join(figs)})")
    for i, slug in enumerate(dest.slugs):
        print(f"tables of {slug}: {dest.table_dir(i)}/posterior_intervals.*, benchmark_predictions.*")
    return 0
