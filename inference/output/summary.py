"""Posterior summaries of a run: one row per parameter, with the convergence numbers that apply to its sampler.

Weighted runs (nested sampling, scan) have one set of weights for every parameter: their effective sample
size is Kish's, ``ess_kish = 1 / sum(w_i^2)`` for normalised weights, the same for every row, and there is no
R-hat (one run, no chains).  MCMC runs with several chains get ArviZ's rank-normalised split R-hat and bulk /
tail ESS over the chains (Vehtari et al. 2021, arXiv:1903.08008) and no Kish ESS.  The columns of
``summary.csv`` follow: ``MOMENT_COLUMNS`` then ``WEIGHTED_COLUMNS`` or ``MCMC_COLUMNS``; a column that does
not apply is left out rather than filled with NaN. In memory each row is a frozen :class:`SummaryRow`, whose
fields that do not apply are None.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from inference.output.records import Evidence
from inference.samplers import SamplerOutput

QUANTILES = (0.025, 0.16, 0.5, 0.84, 0.975)
MOMENT_COLUMNS = ("parameter", "mean", "sd", "median", "q2.5", "q16", "q84", "q97.5")
WEIGHTED_COLUMNS = ("ess_kish",)
MCMC_COLUMNS = ("r_hat", "ess_bulk", "ess_tail")
#: summary.csv's column of each SummaryRow field whose name differs from it
_CSV_NAMES = {"q2_5": "q2.5", "q97_5": "q97.5"}


@dataclass(frozen=True)
class SummaryRow:
    """One parameter's posterior summary: weighted moments and quantiles, and the ESS / R-hat that apply
    (``ess_kish`` for weighted runs; ``r_hat``, ``ess_bulk``, ``ess_tail`` for MCMC runs; None otherwise)."""

    parameter: str
    mean: float
    sd: float
    median: float
    q2_5: float
    q16: float
    q84: float
    q97_5: float
    ess_kish: float | None = None
    r_hat: float | None = None
    ess_bulk: float | None = None
    ess_tail: float | None = None

    @property
    def mcmc(self) -> bool:
        """Whether the row carries MCMC diagnostics (R-hat, bulk / tail ESS)."""
        return self.r_hat is not None

    @property
    def ess(self) -> float:
        """The effective sample size that applies: bulk ESS for MCMC, Kish's for weighted runs."""
        value = self.ess_bulk if self.mcmc else self.ess_kish
        if value is None:
            raise ValueError(f"summary row of {self.parameter} carries no effective sample size")
        return value

    def columns(self) -> dict[str, str | float]:
        """summary.csv's columns of this row (those that apply), by their CSV names."""
        out: dict[str, str | float] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value is not None:
                out[_CSV_NAMES.get(name, name)] = value
        return out

    @classmethod
    def from_columns(cls, columns: Mapping[str, str | float]) -> SummaryRow:
        """The row of parsed summary.csv columns (CSV names; numbers already floats); KeyError if a moment is
        missing."""
        csv_to_field = {v: k for k, v in _CSV_NAMES.items()}
        values = {csv_to_field.get(k, k): v for k, v in columns.items()}
        return cls(**values)  # type: ignore[arg-type]


Summary = tuple[SummaryRow, ...]

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


def compute_summary(output: SamplerOutput, posterior: xr.DataTree | None = None) -> Summary:
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
        moments = dict(parameter=name, mean=mean, sd=float(np.sqrt(np.sum(w * (x - mean) ** 2))), median=float(q[2]),
                       q2_5=float(q[0]), q16=float(q[1]), q84=float(q[3]), q97_5=float(q[4]))
        if mcmc:
            rows.append(SummaryRow(**moments, r_hat=float(rhat[name]), ess_bulk=float(ess_b[name]),  # type: ignore[arg-type]
                                   ess_tail=float(ess_t[name])))
        else:
            rows.append(SummaryRow(**moments, ess_kish=kish))  # type: ignore[arg-type]
    return tuple(rows)


def summary_columns(summary: Sequence[SummaryRow]) -> tuple[str, ...]:
    """The columns of a summary: the moments, then the ESS / R-hat columns its rows carry."""
    present = summary[0].columns() if summary else {}
    extra = MCMC_COLUMNS if summary and summary[0].mcmc else WEIGHTED_COLUMNS
    return (*MOMENT_COLUMNS, *(c for c in extra if not summary or c in present))


def convergence_verdict(summary: Sequence[SummaryRow], evidence: Evidence) -> tuple[bool, list[str]]:
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
    if summary and summary[0].mcmc:
        worst_rhat = max(float(r.r_hat or np.nan) for r in summary)
        worst_ess = min(min(float(r.ess_bulk or np.nan), float(r.ess_tail or np.nan)) for r in summary)
        ok &= bool(worst_rhat < RHAT_MAX and worst_ess > ESS_MIN)
        reasons.append(f"largest R-hat {worst_rhat:.3f} (needs < {RHAT_MAX}), smallest bulk/tail ESS "
                       f"{worst_ess:.0f} (needs > {ESS_MIN:.0f})")
    elif summary:
        ess = summary[0].ess
        ok &= ess > ESS_MIN
        reasons.append(f"Kish effective sample size {ess:.0f} (needs > {ESS_MIN:.0f})")
    return ok, reasons


def print_summary_table(summary: Sequence[SummaryRow]) -> str:
    """The summary as a fixed-width text table for the CLI (R-hat and ESS columns as they apply)."""
    mcmc = bool(summary) and summary[0].mcmc
    tail = f"{'R-hat':>6} {'ESS bulk':>8} {'ESS tail':>8}" if mcmc else f"{'ESS (Kish)':>10}"
    head = f"{'parameter':<12} {'mean':>11} {'median':>11} {'68% interval':>25} {'95% interval':>25} {tail}"
    lines = [head, "-" * len(head)]
    for r in summary:
        ess = (f"{r.r_hat:>6.3f} {r.ess_bulk:>8.0f} {r.ess_tail:>8.0f}" if mcmc else f"{r.ess_kish:>10.0f}")
        lines.append(f"{r.parameter:<12} {r.mean:>11.4g} {r.median:>11.4g} "
                     f"{'[' + format(r.q16, '.4g') + ', ' + format(r.q84, '.4g') + ']':>25} "
                     f"{'[' + format(r.q2_5, '.4g') + ', ' + format(r.q97_5, '.4g') + ']':>25} {ess}")
    return "\n".join(lines)


def summary_csv(summary: Sequence[SummaryRow]) -> str:
    buf = io.StringIO()
    cols = summary_columns(summary)
    writer = csv.DictWriter(buf, fieldnames=list(cols), lineterminator="\n")
    writer.writeheader()
    for row in summary:
        values = row.columns()
        writer.writerow({k: (values[k] if k == "parameter" else repr(float(values[k]))) for k in cols})
    return buf.getvalue()
