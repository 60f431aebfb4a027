"""`darkportal compare RUN_A RUN_B`: evidences, the Bayes factor, its Jeffreys-scale meaning, and a
Savage-Dickey cross-check.

ln B = ln Z_A - ln Z_B (positive favours A), with the runs' quoted ln Z errors in quadrature (for the
importance-refined dynesty runs the standard error of the importance-sampling mean, beside the spread of its
batches as a check). The spread of dynesty's re-simulated runs (`logz_resampled`) is shown as a diagnostic
only: issue 17 measured those runs 0.2-0.5 above ln Z, so it is not an error of ln Z.

The wording follows Jeffreys' scale (Theory of Probability, 3rd ed., 1961, App. B) in the form
tabulated by Kass & Raftery, J. Am. Stat. Assoc. 90 (1995) 773, Sect. 3.2, converted from log10 B to
ln B: |ln B| < 1.15 "not worth more than a bare mention", < 2.30 "substantial", < 3.45 "strong",
< 4.61 "very strong", otherwise "decisive".

Savage-Dickey: when run B is run A with `kappa` fixed to 0 (and the other priors are the same),
B_BA = p(kappa = 0 | d, A) / pi(kappa = 0 | A).  kappa = 0 is the lower edge of the prior [0, 2], where
a density estimate from the kappa samples alone is hard there: the kappa marginal rises tenfold between
kappa = 0 and 0.1 TeV^-1 (S -> gamma gamma opens and R_MiniBooNE follows), and few samples sit below
0.1. The default estimator ("conditional", Gelfand & Smith 1990; Chen 1994) needs no bandwidth: for
each posterior draw of the other parameters theta, the conditional density p(kappa = 0 | theta, d) =
L(0, theta) / int L(kappa, theta) dkappa (uniform kappa prior) is computed by re-evaluating the run's
likelihood on a kappa grid, and p(kappa = 0 | d) is their average; the error is the standard error of
that mean. Two sample-only estimators remain as options: a reflection KDE (samples mirrored about the
edge, Gaussian kernel, Silverman bandwidth with Kish's effective sample size; biased high when the
density rises within a bandwidth of the edge) and a weighted straight-line fit to a histogram of the
first bins extrapolated to the edge ("linear"); their error is the spread of 200 bootstrap replicas.

`compare` returns a frozen `Comparison`; its `as_dict()` is what ``--json`` prints:

    A, B            RunEvidence     run folder, sampler, ln Z and its errors, stop reason, converged, method
    bayes_factor    BayesFactor     ln_B = ln Z_A - ln Z_B, ln_B_err, ln_B_err_resampled (diagnostic), the
                                    Jeffreys-scale words and the scale's source
    incomparable    tuple[str]      the blocking differences of a forced comparison (key only when forced)
    not_converged   tuple[str]      "A" and/or "B" when that run stopped at a cap
    savage_dickey   SavageDickey (ln_B_BA, ln_B_AB, ln_B_err, the posterior and prior densities at the edge,
                    prior_range and its source, method, note, carried_by and warning for the conditional
                    estimator) or SavageDickeySkipped (skipped: why)
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from inference.analysis.comparability import Difference, blocking, comparability, require_comparable
from inference.output.results import Results, ResultsError, read_results

log = logging.getLogger(__name__)

# Jeffreys (1961) thresholds on log10 B as tabulated by Kass & Raftery (1995), Sect. 3.2.
JEFFREYS_LOG10 = ((0.5, "not worth more than a bare mention"), (1.0, "substantial"), (1.5, "strong"),
                  (2.0, "very strong"))
DEFAULT_KAPPA_RANGE = (0.0, 2.0)  # TeV^-1, the paper's scan range (issue 4 / arXiv:2310.15136)


def jeffreys_scale(ln_b: float) -> str:
    """Words for |ln B| on Jeffreys' scale (Kass & Raftery 1995 table, in ln B)."""
    log10_b = abs(ln_b) / np.log(10.0)
    for edge, words in JEFFREYS_LOG10:
        if log10_b < edge:
            return words
    return "decisive"


@dataclass(frozen=True)
class RunEvidence:
    """ln Z of one run as `compare` uses it (errors None where the sampler gives none)."""

    run: str
    sampler: str | None
    logz: float
    logz_err: float | None
    logz_resampled_std: float | None
    stop_reason: str | None
    converged: bool
    method: str | None
    logz_batch_err: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"run": self.run, "sampler": self.sampler, "logz": self.logz, "logz_err": self.logz_err,
                "logz_resampled_std": self.logz_resampled_std, "stop_reason": self.stop_reason,
                "converged": self.converged, "method": self.method, "logz_batch_err": self.logz_batch_err}


@dataclass(frozen=True)
class BayesFactor:
    """ln B = ln Z_A - ln Z_B, its errors in quadrature and the Jeffreys-scale words."""

    ln_b: float
    ln_b_err: float | None
    ln_b_err_resampled: float | None
    jeffreys: str
    scale: str

    def as_dict(self) -> dict[str, Any]:
        return {"ln_B": self.ln_b, "ln_B_err": self.ln_b_err, "ln_B_err_resampled": self.ln_b_err_resampled,
                "jeffreys": self.jeffreys, "scale": self.scale}


@dataclass(frozen=True)
class SavageDickey:
    """The Savage-Dickey cross-check: ln B from the posterior over the prior density at the prior edge."""

    ln_b_ba: float
    ln_b_ab: float
    ln_b_err: float | None
    posterior_density_at_edge: float
    prior_density_at_edge: float
    prior_range: tuple[float, float]
    method: str
    prior_range_source: str = ""
    note: str = ""
    carried_by: float | None = None  # conditional estimator: how many draws carry the mean
    warning: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {"ln_B_BA": self.ln_b_ba, "ln_B_AB": self.ln_b_ab, "ln_B_err": self.ln_b_err,
               "posterior_density_at_edge": self.posterior_density_at_edge,
               "prior_density_at_edge": self.prior_density_at_edge, "prior_range": list(self.prior_range),
               "method": self.method}
        if self.carried_by is not None:
            out["carried_by"] = self.carried_by
        if self.warning is not None:
            out["warning"] = self.warning
        return {**out, "prior_range_source": self.prior_range_source, "note": self.note}


@dataclass(frozen=True)
class SavageDickeySkipped:
    """The Savage-Dickey cross-check was not computed, and why."""

    skipped: str

    def as_dict(self) -> dict[str, Any]:
        return {"skipped": self.skipped}


@dataclass(frozen=True)
class Comparison:
    """Everything `darkportal compare` reports (module docstring)."""

    a: RunEvidence
    b: RunEvidence
    bayes_factor: BayesFactor
    savage_dickey: SavageDickey | SavageDickeySkipped
    incomparable: tuple[str, ...] = ()
    not_converged: tuple[str, ...] = ()

    def run(self, key: str) -> RunEvidence:
        """Run "A" or "B"."""
        return {"A": self.a, "B": self.b}[key]

    def as_dict(self) -> dict[str, Any]:
        """The JSON of ``darkportal compare --json`` (``incomparable`` only for a forced comparison)."""
        out: dict[str, Any] = {"A": self.a.as_dict(), "B": self.b.as_dict(),
                               "bayes_factor": self.bayes_factor.as_dict()}
        if self.incomparable:
            out["incomparable"] = list(self.incomparable)
        return {**out, "not_converged": list(self.not_converged), "savage_dickey": self.savage_dickey.as_dict()}


def evidence_of(res: Results) -> RunEvidence:
    """ln Z, dynesty's error and the spread of re-simulated runs from a results folder."""
    ev = res.evidence
    std = ev.logz_resampled_std
    if std is None and len(ev.logz_resampled) > 1:
        std = float(np.std(ev.logz_resampled, ddof=1))
    if not ev.has_logz:
        raise ResultsError(f"{res.outdir} has no evidence (sampler {ev.sampler}); compare needs "
                           "dynesty or scan runs")
    stop = ev.stop
    return RunEvidence(run=str(res.outdir), sampler=ev.sampler, logz=ev.logz, logz_err=ev.logz_err,
                       logz_resampled_std=std, stop_reason=stop.text if stop is not None and stop.text else None,
                       converged=ev.converged, method=ev.evidence_method, logz_batch_err=ev.logz_batch_err)


def bayes_factor(a: RunEvidence, b: RunEvidence) -> BayesFactor:
    """ln B = ln Z_A - ln Z_B with both kinds of error in quadrature and the Jeffreys-scale words."""
    ln_b = a.logz - b.logz

    def quad(x: float | None, y: float | None) -> float | None:
        return None if x is None or y is None else float(np.hypot(x, y))

    favoured = "A" if ln_b > 0 else "B"
    return BayesFactor(ln_b, quad(a.logz_err, b.logz_err), quad(a.logz_resampled_std, b.logz_resampled_std),
                       f"{jeffreys_scale(ln_b)} evidence for {favoured}",
                       "Jeffreys (1961) as tabulated by Kass & Raftery (1995)")


def boundary_density(x: np.ndarray, w: np.ndarray, edge: float, width: float,
                     method: str = "reflection") -> float:
    """Density of weighted samples `x` (all >= edge) at the lower prior edge `edge`."""
    w = w / w.sum()
    y = x - edge
    if method == "reflection":
        n_eff = 1.0 / np.sum(w**2)
        mean = np.sum(w * y)
        sd = np.sqrt(np.sum(w * (y - mean) ** 2))
        q25, q75 = np.interp([0.25, 0.75], np.cumsum(w[np.argsort(y)]), np.sort(y))
        spread = min(sd, (q75 - q25) / 1.34) if q75 > q25 else sd
        h = 0.9 * spread * n_eff ** (-0.2)
        # mirrored kernel sum at the edge: K(y/h) + K(-y/h) = 2 K(y/h)
        return float(2.0 * np.sum(w * np.exp(-0.5 * (y / h) ** 2)) / (h * np.sqrt(2 * np.pi)))
    if method == "linear":
        nbins = 10
        top = float(np.quantile(y, 0.3)) if np.any(y > 0) else width
        edges = np.linspace(0.0, max(top, width * 1e-6), nbins + 1)
        counts, _ = np.histogram(y, edges, weights=w)
        raw, _ = np.histogram(y, edges)
        dens = counts / np.diff(edges)
        centres = 0.5 * (edges[1:] + edges[:-1])
        fit_w = np.sqrt(np.maximum(raw, 1))  # ~1 / sigma for Poisson counts of similar size (near the edge)
        coef = np.polyfit(centres, dens, 1, w=fit_w)
        return max(float(np.polyval(coef, 0.0)), 0.0)
    raise ValueError(f"unknown density method {method!r}; choose reflection or linear")


def savage_dickey(x: np.ndarray, w: np.ndarray, prior_range: tuple[float, float], method: str = "reflection",
                  n_boot: int = 200, seed: int = 0) -> SavageDickey:
    """ln B_{B A} = ln p(kappa=0|d) - ln pi(kappa=0) for a uniform prior on `prior_range`, with a bootstrap error."""
    lo, hi = prior_range
    prior = 1.0 / (hi - lo)
    dens = boundary_density(x, w, lo, hi - lo, method)
    rng = np.random.default_rng(seed)
    p = w / w.sum()
    boots = []
    for _ in range(n_boot):
        idx = rng.choice(len(x), size=len(x), p=p)
        boots.append(boundary_density(x[idx], np.ones(len(idx)), lo, hi - lo, method))
    boots_arr = np.asarray(boots)
    ln_boot = np.log(boots_arr[boots_arr > 0]) if np.any(boots_arr > 0) else np.array([np.nan])
    ln_b01 = float(np.log(dens / prior)) if dens > 0 else -np.inf
    return SavageDickey(ln_b01, -ln_b01, float(np.std(ln_boot, ddof=1)) if len(ln_boot) > 1 else None, dens, prior,
                        (lo, hi), {"reflection": "reflection (boundary-corrected) Gaussian KDE, Silverman bandwidth "
                                   "with Kish ESS", "linear": "straight-line fit to a histogram of the lowest 30 % "
                                   "of samples, extrapolated to the edge"}[method])


def _kappa_range(res: Results, param: str) -> tuple[tuple[float, float], str]:
    """The uniform prior range of `param` from the resolved run file, else the paper's kappa range."""
    def find(node: Any) -> Any:
        if isinstance(node, dict):
            if param in node and isinstance(node[param], dict):
                return node[param]
            for value in node.values():
                hit = find(value)
                if hit is not None:
                    return hit
        return None

    spec = find(res.config) or {}
    spec = spec.get("prior", spec) if isinstance(spec.get("prior"), dict) else spec
    for lo_key, hi_key in (("min", "max"), ("low", "high"), ("lower", "upper")):
        if lo_key in spec and hi_key in spec:
            return (float(spec[lo_key]), float(spec[hi_key])), "run file"
    if isinstance(spec.get("range"), list) and len(spec["range"]) == 2:
        return (float(spec["range"][0]), float(spec["range"][1])), "run file"
    return DEFAULT_KAPPA_RANGE, "default paper range (not found in the run file)"


DENSITY_METHODS = ("conditional", "reflection", "linear")
# fewer draws than this carrying the conditional-density mean: the Savage-Dickey number is flagged unreliable
MIN_CARRIED = 50


@dataclass(frozen=True)
class EdgeDensity:
    """The conditional-density estimate of the posterior density at the prior edge."""

    density: float
    ln_err: float | None  # standard error of the mean, relative (an error of ln density); None if density 0
    n_draws: int
    n_grid: int
    carried_by: float  # Kish's count of the draws that carry the mean


def conditional_edge_density(loglike: Callable[[np.ndarray], np.ndarray], draws: np.ndarray, col: int,
                             prior_range: tuple[float, float], n_grid: int = 401) -> EdgeDensity:
    """p(x_col = lo | d) as the mean over posterior `draws` of the conditional density at the edge,
    L(lo, others) / int L(x, others) dx for a uniform prior on [lo, hi] (module docstring).

    `loglike` is vectorised over rows; the integral uses the trapezoidal rule on `n_grid` points.
    """
    from scipy.special import logsumexp

    lo, hi = prior_range
    grid = np.linspace(lo, hi, n_grid)
    log_trap = np.log(np.full(n_grid, (hi - lo) / (n_grid - 1)))
    log_trap[[0, -1]] -= np.log(2.0)
    cond = np.empty(len(draws))
    for start in range(0, len(draws), 200):
        block = draws[start:start + 200]
        x = np.repeat(block, n_grid, axis=0)
        x[:, col] = np.tile(grid, len(block))
        logl = np.asarray(loglike(x), dtype=float).reshape(len(block), n_grid)
        cond[start:start + len(block)] = np.exp(logl[:, 0] - logsumexp(logl + log_trap, axis=1))
    mean = float(np.mean(cond))
    err = float(np.std(cond, ddof=1) / np.sqrt(len(cond))) if len(cond) > 1 else float("nan")
    # how many draws carry the mean: a few dominant terms mean the draws barely reach the region where the
    # edge value is likely, and the standard error is not to be trusted
    carried = float(cond.sum() ** 2 / np.sum(cond**2)) if np.any(cond > 0) else 0.0
    return EdgeDensity(mean, err / mean if mean > 0 else None, len(draws), n_grid, carried)


def run_edge_density(res: Results, param: str, prior_range: tuple[float, float], n_draws: int = 20000,
                     seed: int = 0) -> EdgeDensity:
    """:func:`conditional_edge_density` for a finished run: its likelihood is rebuilt from the resolved run
    file and the draws are the equally weighted posterior group."""
    from inference.config.runfile import parse_run_config
    from inference.samplers.model import RunModel

    model = RunModel(parse_run_config(res.config, res.outdir / "run.yaml"))
    names = list(model.names)
    post = res.posterior["posterior"].ds
    draws = np.column_stack([np.asarray(post[n]).ravel() for n in names])
    if len(draws) > n_draws:
        draws = draws[np.random.default_rng(seed).choice(len(draws), n_draws, replace=False)]
    return conditional_edge_density(model.log_likelihood, draws, names.index(param), prior_range)


def compare(run_a: Path, run_b: Path, param: str = "kappa", method: str = "conditional",
            prior_range: tuple[float, float] | None = None, force: bool = False) -> Comparison:
    """Everything `darkportal compare` reports, as a `Comparison`.

    Runs that differ in data set, likelihood mode, terms, theory or the prior of a shared parameter
    (:mod:`inference.analysis.comparability`) are refused with IncomparableRunsError unless ``force``; forced, the
    result carries the differences in `incomparable` and no Savage-Dickey estimate."""
    res_a, res_b = read_results(run_a), read_results(run_b)
    if force:
        differences: tuple[Difference, ...] = comparability(res_a.config, res_b.config)
    else:
        differences = require_comparable(res_a.config, res_b.config, (str(run_a), str(run_b)),
                                         "Compare runs that differ only in the parameter being tested, or pass "
                                         "--force to compare anyway (the output then says so)")
    a, b = evidence_of(res_a), evidence_of(res_b)
    forced = tuple(str(d) for d in blocking(differences))

    def result(sd: SavageDickey | SavageDickeySkipped) -> Comparison:
        return Comparison(a, b, bayes_factor(a, b), sd, forced,
                          tuple(key for key, r in (("A", a), ("B", b)) if not r.converged))

    ws = res_a.posterior["weighted_samples"].ds
    free_b = set(res_b.posterior["posterior"].ds.data_vars)
    if forced:
        return result(SavageDickeySkipped("the runs are not comparable (see above)"))
    if param not in ws or param in free_b:
        return result(SavageDickeySkipped(f"needs {param!r} free in A and fixed in B"))
    others = [d for d in differences if d.key != f"parameters.{param}"]
    if others:
        return result(SavageDickeySkipped(f"B must be A with {param} fixed, but they also differ in "
                                          + "; ".join(str(d) for d in others)))
    rng_used, source = (prior_range, "command line") if prior_range else _kappa_range(res_a, param)
    fallback = ""
    if method == "conditional":
        try:
            cd = run_edge_density(res_a, param, rng_used)
        except (ValueError, KeyError) as exc:  # run file not rebuildable here (e.g. other version)
            fallback = f"conditional estimator unavailable ({str(exc).splitlines()[0]}); "
            method = "reflection"
    if method == "conditional":
        prior = 1.0 / (rng_used[1] - rng_used[0])
        ln_b01 = float(np.log(cd.density / prior)) if cd.density > 0 else -np.inf
        warning = None
        if cd.carried_by < MIN_CARRIED:
            warning = (f"UNRELIABLE: only ~{cd.carried_by:.0f} draws carry the estimate; the posterior "
                       f"of A barely reaches the region where {param} = {rng_used[0]} fits, so this "
                       "cross-check cannot test the nested-sampling Bayes factor")
        sd = SavageDickey(ln_b01, -ln_b01, cd.ln_err, cd.density, prior, (rng_used[0], rng_used[1]),
                          f"posterior mean of the conditional density p({param}=edge | others, d) over "
                          f"{cd.n_draws} draws, likelihood re-evaluated on {cd.n_grid} {param} values; "
                          f"the mean is carried by ~{cd.carried_by:.0f} draws",
                          carried_by=cd.carried_by, warning=warning)
    else:
        sd = savage_dickey(np.asarray(ws[param]), np.asarray(ws["weights"]), rng_used, method)
        sd = replace(sd, method=fallback + sd.method)
    note = (f"assumes a uniform prior on {param} in A; valid if B is A with {param} = {rng_used[0]} "
            "and the same priors on the other parameters")
    return result(replace(sd, prior_range_source=source, note=note))


def format_table(result: Comparison) -> str:
    """Human-readable table of a `compare` result."""
    def num(v: Any, fmt: str = ".3f") -> str:
        return "-" if v is None or (isinstance(v, float) and not np.isfinite(v)) else format(v, fmt)

    lines: list[str] = []
    if result.incomparable:
        bar = "!" * 100
        lines += [bar, "WARNING: THESE RUNS ARE NOT COMPARABLE; compared anyway because of --force. They differ in:"]
        lines += [f"  - {d}" for d in result.incomparable]
        lines += ["The Bayes factor below does not test one model against the other.", bar, ""]
    lines.append(f"{'run':<4} {'ln Z':>10} {'+/-':>8} {'batch check':>12}  folder (method)")
    for key in ("A", "B"):
        r = result.run(key)
        lines.append(f"{key:<4} {num(r.logz):>10} {num(r.logz_err):>8} {num(r.logz_batch_err):>12}  "
                     f"{r.run} ({r.method or r.sampler})")
    bf = result.bayes_factor
    lines += ["", f"ln B (A vs B) = {num(bf.ln_b)} +/- {num(bf.ln_b_err)}",
              f"meaning: {bf.jeffreys} (scale: {bf.scale})"]
    if bf.ln_b_err_resampled is not None:
        lines.append(f"(diagnostic, not an error: spread of dynesty's re-simulated runs "
                     f"{num(bf.ln_b_err_resampled)})")
    for key in result.not_converged:
        lines.append(f"WARNING: run {key} did not converge ({result.run(key).stop_reason}); its ln Z and this ln B "
                     "are preliminary: resume or rerun it with a higher cap")
    sd = result.savage_dickey
    if isinstance(sd, SavageDickeySkipped):
        lines.append(f"Savage-Dickey: skipped ({sd.skipped})")
    else:
        lines += [f"Savage-Dickey cross-check: ln B (A vs B) = {num(sd.ln_b_ab)} +/- {num(sd.ln_b_err)}",
                  f"  posterior density at the prior edge {num(sd.posterior_density_at_edge, '.4g')}, "
                  f"prior density {num(sd.prior_density_at_edge, '.4g')} "
                  f"(range {list(sd.prior_range)} from the {sd.prior_range_source})",
                  f"  edge density by {sd.method}", f"  {sd.note}"]
        if sd.warning is not None:
            lines.append(f"  {sd.warning}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `darkportal compare RUN_A RUN_B [--json] [--param kappa] [--method ...]`."""
    parser = argparse.ArgumentParser(prog="darkportal compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("run_a", type=Path, help="results folder of model A (e.g. results/kappa_nonzero)")
    parser.add_argument("run_b", type=Path, help="results folder of model B (e.g. results/kappa_zero)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--param", default="kappa", help="parameter fixed in B for Savage-Dickey")
    parser.add_argument("--method", choices=DENSITY_METHODS, default="conditional",
                        help="how the posterior density at the prior edge is estimated")
    parser.add_argument("--prior-range", nargs=2, type=float, metavar=("LO", "HI"),
                        help="uniform prior range of --param in A (default: from A's run file)")
    parser.add_argument("--force", action="store_true",
                        help="compare runs with different data, likelihood, theory or priors anyway (said loudly)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    args = parser.parse_args(argv)
    try:
        result = compare(args.run_a, args.run_b, args.param, args.method,
                         tuple(args.prior_range) if args.prior_range else None, force=args.force)
    except (ResultsError, OSError, KeyError, ValueError) as exc:
        if args.debug:
            raise
        print(f"darkportal compare: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result.as_dict(), indent=2, default=float) if args.json else format_table(result))
    return 0
