"""``darkportal fit RUNFILE|RESULT [--out DIR]``: maximum-likelihood point, chi^2 with pulls, SM-only chi^2.

    darkportal fit results/kappa_nonzero            # starts from the best posterior samples; writes bestfit.json there
    darkportal fit runs/kappa_nonzero.yaml --out results/fit  # starts from the best of 20000 prior draws

The method is in ``inference.analysis.fit``. bestfit.json is written atomically (a temporary file renamed over it).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

from inference.analysis.fit import AGREE_CHI2, BestFit, FitError, Fitter, starts_from_prior, starts_from_samples
from inference.config.runfile import RunConfig, load_run_config, parse_run_config
from inference.output.results import _jsonable, atomic_write_text, git_revision, read_results
from inference.samplers.model import RunModel

log = logging.getLogger(__name__)

BESTFIT = "bestfit.json"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="darkportal fit", description=__doc__.splitlines()[0].split(": ", 1)[1])
    p.add_argument("source", type=Path, help="a results folder (starts from its best samples) or a run file")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for bestfit.json (default: the results folder, or the run file's output)")
    p.add_argument("--starts", type=int, default=40,
                   help="optimiser starts screened (default 40; the best 4 distinct are polished)")
    p.add_argument("--seed", type=int, default=None, help="seed for the starts (default: the run's seed)")
    p.add_argument("--maxfev", type=int, default=10000,
                   help="likelihood evaluations per polishing simplex (default 10000)")
    return p


def load_source(source: Path) -> tuple[RunConfig, Path | None]:
    """(run configuration, results folder or None) from a results folder or a run file."""
    if source.is_dir():
        res = read_results(source)
        return parse_run_config(res.config, source / "run.yaml"), source
    return load_run_config(source), None


def run_fit(source: Path, n_starts: int = 40, seed: int | None = None,
            maxfev: int = 10000) -> tuple[BestFit, RunConfig]:
    """The best fit of a results folder or run file (no file written)."""
    if n_starts < 1:
        raise FitError(f"--starts must be at least 1, got {n_starts}")
    config, result_dir = load_source(source)
    if config.likelihood.mode == "cuts" and not config.likelihood.softening:
        raise FitError(f"{source}: the likelihood is in 'cuts' mode without softening, so log L is 0 or -inf and "
                       "has no maximum to find; fit the run in gaussian mode (likelihood.mode: gaussian) or "
                       "with likelihood.softening > 0")
    model = RunModel(config)
    rng = np.random.default_rng(np.random.SeedSequence([config.seed if seed is None else seed, 16]))
    best_sample = None
    if result_dir is not None:
        ws = read_results(result_dir).posterior["weighted_samples"].ds
        samples = np.column_stack([np.asarray(ws[n], dtype=float) for n in model.names])
        logl, w = np.asarray(ws["logl"], dtype=float), np.asarray(ws["weights"], dtype=float)
        starts = starts_from_samples(samples, logl, w, n_starts, rng)
        best_sample = float(-2.0 * np.max(logl))
        source_text = f"the best distinct samples and posterior draws of {result_dir}"
    else:
        starts = starts_from_prior(model, n_starts, rng)
        source_text = "the best of 20000 prior draws"
    return Fitter(model).fit(starts, source_text, best_sample, maxfev=maxfev), config


def format_fit(fit: BestFit) -> str:
    def num(v: float | None) -> str:
        return "-" if v is None else f"{v:+.2f}"

    lines = ["best fit (paper units): " + ", ".join(f"{k} = {v:.6g}" for k, v in fit.best.params.items()), "",
             f"{'term':<30} {'value':>11} {'pull':>7} {'chi2':>9}   {'SM pull':>7} {'SM chi2':>9}"]
    sm = {t.name: t for t in fit.sm.terms}
    for t in fit.best.terms:
        if not t.enabled:
            continue
        s = sm[t.name]
        lines.append(f"{t.name:<30} {t.value:>11.4g} {num(t.pull):>7} {t.chi2:>9.3f}   {num(s.pull):>7} "
                     f"{s.chi2:>9.3f}" + ("  (left out)" if t.name in fit.sm.left_out else ""))
    lines += ["", f"chi2(best fit) = {fit.best.chi2:.4f} over {fit.best.n_pulls} terms with a pull, "
                  f"{len(fit.names)} free parameters",
              f"chi2(SM only: all couplings zero) = {fit.sm.chi2:.4f}"
              + (f" (hard bounds on S left out: {', '.join(fit.sm.left_out)})" if fit.sm.left_out else ""),
              f"Delta chi2 = {fit.delta_chi2:.4f}",
              f"{fit.n_agree} of the {len(fit.starts)} polished starts (best distinct of {fit.n_screened} screened) "
              f"reach chi2 within {AGREE_CHI2:g} of the best"
              + (f"; the best posterior sample has chi2 = {fit.best_sample_chi2:.4f}"
                 if fit.best_sample_chi2 is not None else "")]
    return "\n".join(lines)


def write_bestfit(outdir: Path, fit: BestFit, config: RunConfig, source: Path, wall: float) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    doc = {"run": config.name, "source": str(source), "data_set": config.likelihood.data,
           "likelihood_mode": config.likelihood.mode, "theory_options": config.theory.theory_options().as_dict(),
           **fit.to_dict(), "git_revision": git_revision(), "wall_time_s": wall}
    path = outdir / BESTFIT
    atomic_write_text(path, json.dumps(_jsonable(doc), indent=2) + "\n")
    return path


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    t0 = time.monotonic()
    fit, config = run_fit(args.source, args.starts, args.seed, args.maxfev)
    wall = time.monotonic() - t0
    outdir = args.out if args.out is not None else (args.source if args.source.is_dir() else Path(config.output))
    print(format_fit(fit))
    path = write_bestfit(outdir, fit, config, args.source, wall)
    print(f"written {path} ({wall:.1f} s)")
    return 0
