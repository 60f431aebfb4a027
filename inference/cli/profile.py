"""``darkportal profile RESULT [--out DIR]``: profile likelihoods, 1-D per parameter and 2-D for the Fig. 2 pairs.

    darkportal profile results/kappa_nonzero            # -> results/kappa_nonzero/profile/

Writes profile_1d.csv, profile_2d.csv and the figures profile_1d.png / profile_2d.png (PDF beside them), each
atomically. The method is in ``inference.analysis.profiles``; the 2-D profiles come from the samples alone.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from inference.analysis.fit import Fitter
from inference.analysis.profiles import Profile1D, Profile2D, profile_1d, profile_2d
from inference.cli.fit import BESTFIT, load_source
from inference.output.plots import FIG2_PANELS, save_figure
from inference.output.results import atomic_write_text, read_results
from inference.samplers.model import RunModel


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="darkportal profile", description=__doc__.splitlines()[0].split(": ", 1)[1])
    p.add_argument("result", type=Path, help="results folder of a finished run")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: RESULT/profile)")
    p.add_argument("--bins", type=int, default=25, help="bins per parameter of the 1-D profiles (default 25)")
    p.add_argument("--maxfev", type=int, default=600, help="evaluations of each bin's simplex (default 600)")
    return p


def _save(fig: Any, stem: Path) -> list[Path]:
    return save_figure(fig, stem.parent, stem.name, dpi=130)


def figures(p1: list[Profile1D], p2: list[Profile2D], ref: float, samples: np.ndarray, weights: np.ndarray,
            names: list[str], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ncol = 4
    fig, axes = plt.subplots((len(p1) + ncol - 1) // ncol, ncol, figsize=(12, 2.6 * ((len(p1) + ncol - 1) // ncol)),
                             squeeze=False)
    for ax, prof in zip(axes.ravel(), p1, strict=False):
        ok = np.isfinite(prof.chi2)
        order = np.argsort(prof.x[ok])
        ax.plot(prof.x[ok][order], np.exp(-0.5 * (prof.chi2[ok][order] - ref)), "k-", label="profile L / L_max")
        col = names.index(prof.name)
        hist, edges = np.histogram(samples[:, col], bins=30, weights=weights)
        ax.stairs(hist / hist.max() if hist.max() > 0 else hist, edges, color="tab:red", label="marginal posterior")
        ax.set_xlabel(prof.name)
        ax.set_ylim(0, 1.08)
    for ax in axes.ravel()[len(p1):]:
        ax.set_visible(False)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    paths = _save(fig, out / "profile_1d")
    plt.close(fig)
    if p2:
        fig, axes = plt.subplots(1, len(p2), figsize=(3.6 * len(p2), 3.3), squeeze=False)
        for ax, q in zip(axes[0], p2, strict=True):
            delta = np.clip(q.chi2 - ref, 0, 12).T
            xc, yc = 0.5 * (q.x_edges[1:] + q.x_edges[:-1]), 0.5 * (q.y_edges[1:] + q.y_edges[:-1])
            ax.pcolormesh(q.x_edges, q.y_edges, delta, cmap="viridis_r", vmin=0, vmax=12)
            ax.contour(xc, yc, delta, levels=[2.30, 6.18], colors=["w", "k"], linewidths=1)
            ax.set_xlabel(q.names[0])
            ax.set_ylabel(q.names[1])
        fig.suptitle("Delta chi^2 profiles from the samples (white 68 %, black 95 %)", fontsize=9)
        fig.tight_layout()
        paths += _save(fig, out / "profile_2d")
        plt.close(fig)
    return paths


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    config, _ = load_source(args.result)
    res = read_results(args.result)
    model = RunModel(config)
    names = list(model.names)
    ws = res.posterior["weighted_samples"].ds
    samples = np.column_stack([np.asarray(ws[n], dtype=float) for n in names])
    logl, weights = np.asarray(ws["logl"], dtype=float), np.asarray(ws["weights"], dtype=float)
    bounds = [(float(lo), float(hi)) for lo, hi in config.priors.bounds]
    t0 = time.monotonic()
    fitter = Fitter(model)
    p1 = [profile_1d(fitter, samples, logl, j, bounds[j], args.bins, args.maxfev) for j in range(len(names))]
    pairs = [(x, y) for y, x in FIG2_PANELS.values() if x in names and y in names]
    p2 = [profile_2d(samples, logl, (names.index(x), names.index(y)), (x, y), (bounds[names.index(x)],
                     bounds[names.index(y)])) for x, y in pairs]
    best = min(float(np.min(p.chi2)) for p in p1)
    bestfit = args.result / BESTFIT
    ref = min(best, float(json.loads(bestfit.read_text())["best_fit"]["chi2"])) if bestfit.exists() else best
    out = args.out if args.out is not None else args.result / "profile"
    out.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["parameter", "value", "chi2", "delta_chi2", "chi2_best_sample_in_bin"])
    for p in p1:
        for x, c, cs in zip(p.x, p.chi2, p.chi2_samples, strict=True):
            if np.isfinite(c):
                w.writerow([p.name, repr(float(x)), repr(float(c)), repr(float(c - ref)), repr(float(cs))])
    atomic_write_text(out / "profile_1d.csv", buf.getvalue())
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["x", "y", "x_lo", "x_hi", "y_lo", "y_hi", "chi2", "delta_chi2"])
    for q in p2:
        for i in range(len(q.x_edges) - 1):
            for j in range(len(q.y_edges) - 1):
                if np.isfinite(q.chi2[i, j]):
                    w.writerow([*q.names, q.x_edges[i], q.x_edges[i + 1], q.y_edges[j], q.y_edges[j + 1],
                                repr(float(q.chi2[i, j])), repr(float(q.chi2[i, j] - ref))])
    atomic_write_text(out / "profile_2d.csv", buf.getvalue())
    paths = figures(p1, p2, ref, samples, weights, names, out)
    print(f"{'parameter':<8} 68 % profile interval (Delta chi2 < 1)        68 % posterior interval")
    for p, row in zip(p1, res.summary, strict=False):
        ok = np.isfinite(p.chi2) & (p.chi2 - ref < 1.0)
        lo, hi = (float(np.nanmin(p.x[ok])), float(np.nanmax(p.x[ok]))) if np.any(ok) else (np.nan, np.nan)
        print(f"{p.name:<8} [{lo:.4g}, {hi:.4g}] (bin values)        [{row.q16:.4g}, {row.q84:.4g}]")
    print(f"reference chi2 = {ref:.4f}; written {out}/profile_1d.csv, profile_2d.csv, "
          f"{', '.join(path.name for path in paths)} ({time.monotonic() - t0:.0f} s)")
    return 0
