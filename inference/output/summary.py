"""Posterior summaries of a run: one row per parameter, with the convergence numbers that apply to its sampler.

Weighted runs (nested sampling, scan) have one set of weights for every parameter: their effective sample
size is Kish's, ``ess_kish = 1 / sum(w_i^2)`` for normalised weights, the same for every row, and there is no
R-hat (one run, no chains).  MCMC runs with several chains get ArviZ's rank-normalised split R-hat and bulk /
tail ESS over the chains (Vehtari et al. 2021, arXiv:1903.08008) and no Kish ESS.  The columns of
``summary.csv`` follow: ``MOMENT_COLUMNS`` then ``WEIGHTED_COLUMNS`` or ``MCMC_COLUMNS``; a column that does
not apply is left out rather than filled with NaN.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import xarray as xr

from inference.output.records import Evidence
from inference.samplers import SamplerOutput

QUANTILES = (0.025, 0.16, 0.5, 0.84, 0.975)
MOMENT_COLUMNS = ("parameter", "mean", "sd", "median", "q2.5", "q16", "q84", "q97.5")
WEIGHTED_COLUMNS = ("ess_kish",)
MCMC_COLUMNS = ("r_hat", "ess_bulk", "ess_tail")
#: thresholds of the MCMC convergence verdict (Vehtari et al. 2021, arXiv:1903.08008, sec. 4: R-hat < 1.01
#: and bulk / tail ESS > 100 per chain, at least 400 in all)
RHAT_MAX = 1.01
ESS_MIN = 400.0


def weighted_quantiles(x: np.ndarray, weights: np.ndarray, q: tuple[float, ...] | np.ndarray) -> np.ndarray:
    """Quantiles of weighted samples: linear interpolation of the mid-point weighted CDF."""
    order = np.argsort(x)
    xs, ws = x[order], weights[order] / np.sum(weights)
    cdf = np.cumsum(ws) - 0.5 * ws
    return np.interp(q, cdf, xs)


def kish_ess(weights: np.ndarray) -> float:
    """Kish's effective sample size of a set of weights (normalised here)."""
    w = np.asarray(weights, dtype=float)
    w = w / np.sum(w)
    return float(1.0 / np.sum(w**2))


def compute_summary(output: SamplerOutput, posterior: xr.DataTree | None = None) -> list[dict[str, Any]]:
    """One row per parameter: mean, sd, median, 68 % and 95 % intervals, and the ESS / R-hat that apply.

    Moments and quantiles are weighted moments of the raw samples.  `posterior` (the DataTree of
    posterior.nc) is needed for the MCMC columns.
    """
    w = output.weights / np.sum(output.weights)
    mcmc = output.chains > 1 and posterior is not None
    if mcmc:
        import arviz as az

        assert posterior is not None
        rhat = az.rhat(posterior["posterior"])
        ess_b = az.ess(posterior["posterior"], method="bulk")
        ess_t = az.ess(posterior["posterior"], method="tail")
    kish = kish_ess(w)
    rows = []
    for j, name in enumerate(output.names):
        x = output.samples[:, j]
        mean = float(np.sum(w * x))
        q = weighted_quantiles(x, w, QUANTILES)
        row: dict[str, Any] = {"parameter": name, "mean": mean, "sd": float(np.sqrt(np.sum(w * (x - mean) ** 2))),
                               "median": q[2], "q2.5": q[0], "q16": q[1], "q84": q[3], "q97.5": q[4]}
        if mcmc:
            row.update(r_hat=float(rhat[name]), ess_bulk=float(ess_b[name]), ess_tail=float(ess_t[name]))
        else:
            row["ess_kish"] = kish
        rows.append({k: (float(v) if k != "parameter" else v) for k, v in row.items()})
    return rows


def summary_columns(summary: list[dict[str, Any]]) -> tuple[str, ...]:
    """The columns of a summary: the moments, then the ESS / R-hat columns its rows carry."""
    extra = MCMC_COLUMNS if summary and "r_hat" in summary[0] else WEIGHTED_COLUMNS
    return (*MOMENT_COLUMNS, *(c for c in extra if not summary or c in summary[0]))


def convergence_verdict(summary: list[dict[str, Any]], evidence: Evidence) -> tuple[bool, list[str]]:
    """(converged, reasons): the sampler's stopping rule and the ESS / R-hat thresholds above.

    Nested and scan runs: the stop reason must not be a call / iteration cap and Kish's ESS must reach
    ESS_MIN.  MCMC runs: every R-hat below RHAT_MAX and every bulk and tail ESS above ESS_MIN.
    """
    reasons: list[str] = []
    ok = True
    stop = evidence.stop
    if stop is not None and stop.text:
        ok &= stop.converged
        reasons.append(f"stopping rule: {stop.text}")
    if summary and "r_hat" in summary[0]:
        worst_rhat = max(float(r["r_hat"]) for r in summary)
        worst_ess = min(min(float(r["ess_bulk"]), float(r["ess_tail"])) for r in summary)
        ok &= bool(worst_rhat < RHAT_MAX and worst_ess > ESS_MIN)
        reasons.append(f"largest R-hat {worst_rhat:.3f} (needs < {RHAT_MAX}), smallest bulk/tail ESS "
                       f"{worst_ess:.0f} (needs > {ESS_MIN:.0f})")
    elif summary:
        ess = float(summary[0]["ess_kish"])
        ok &= ess > ESS_MIN
        reasons.append(f"Kish effective sample size {ess:.0f} (needs > {ESS_MIN:.0f})")
    return ok, reasons


def print_summary_table(summary: list[dict[str, Any]]) -> str:
    """The summary as a fixed-width text table for the CLI (R-hat and ESS columns as they apply)."""
    mcmc = bool(summary) and "r_hat" in summary[0]
    tail = f"{'R-hat':>6} {'ESS bulk':>8} {'ESS tail':>8}" if mcmc else f"{'ESS (Kish)':>10}"
    head = f"{'parameter':<12} {'mean':>11} {'median':>11} {'68% interval':>25} {'95% interval':>25} {tail}"
    lines = [head, "-" * len(head)]
    for r in summary:
        ess = (f"{r['r_hat']:>6.3f} {r['ess_bulk']:>8.0f} {r['ess_tail']:>8.0f}" if mcmc
               else f"{r['ess_kish']:>10.0f}")
        lines.append(f"{r['parameter']:<12} {r['mean']:>11.4g} {r['median']:>11.4g} "
                     f"{'[' + format(r['q16'], '.4g') + ', ' + format(r['q84'], '.4g') + ']':>25} "
                     f"{'[' + format(r['q2.5'], '.4g') + ', ' + format(r['q97.5'], '.4g') + ']':>25} {ess}")
    return "\n".join(lines)


def summary_csv(summary: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    cols = summary_columns(summary)
    writer = csv.DictWriter(buf, fieldnames=list(cols), lineterminator="\n")
    writer.writeheader()
    for row in summary:
        writer.writerow({k: (row[k] if k == "parameter" else repr(float(row[k]))) for k in cols})
    return buf.getvalue()
