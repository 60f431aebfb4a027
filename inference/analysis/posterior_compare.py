"""`darkportal compare-posteriors RUN_A RUN_B`: do two posteriors agree, parameter by parameter?

For each parameter and each probability q in 2.5/16/50/84/97.5 %, the q-quantile x_q of run A is looked
up in run B's distribution: the *miss* is F_B(x_q) - q, a difference of probabilities (0 when the two
agree; the same measure whatever the parameter's units or scale). Its Monte Carlo error, from both runs'
effective sample sizes, is sqrt(q (1 - q) (1 / ESS_A + 1 / ESS_B)) (the binomial error of an empirical CDF
at a point, and of A's quantile propagated through the density, to first order). ESS is the bulk ESS of
each parameter for MCMC runs and Kish's ESS for weighted (nested sampling, scan) runs, as in summary.csv.

`--box NAME=LO:HI ...` also compares the posterior mass inside a box of parameter values (an island), with
binomial errors from the same ESS.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from inference.output.results import Results, read_results
from inference.output.summary import QUANTILES, weighted_quantiles


@dataclass(frozen=True)
class QuantileAgreement:
    """One parameter: A's quantiles, B's quantiles, F_B(A's quantile) - q and its Monte Carlo error."""

    parameter: str
    probabilities: tuple[float, ...]
    quantiles_a: tuple[float, ...]
    quantiles_b: tuple[float, ...]
    miss: tuple[float, ...]
    error: tuple[float, ...]

    @property
    def max_miss(self) -> float:
        return float(np.max(np.abs(self.miss)))

    @property
    def max_sigma(self) -> float:
        return float(np.max(np.abs(np.asarray(self.miss)) / np.asarray(self.error)))


@dataclass(frozen=True)
class BoxMass:
    box: str
    mass_a: float
    error_a: float
    mass_b: float
    error_b: float

    @property
    def sigma(self) -> float:
        return abs(self.mass_a - self.mass_b) / float(np.hypot(self.error_a, self.error_b))


def _weights(n: int, w: np.ndarray | None) -> np.ndarray:
    out = np.full(n, 1.0 / n) if w is None else np.asarray(w, dtype=float)
    return out / out.sum()


def weighted_cdf(x: np.ndarray, w: np.ndarray, at: np.ndarray) -> np.ndarray:
    """P(X <= at) of weighted samples (mid-point convention for ties at a sample, as weighted_quantiles)."""
    order = np.argsort(x)
    xs, ws = x[order], w[order]
    cdf = np.cumsum(ws)
    hi = np.searchsorted(xs, at, side="right")
    lo = np.searchsorted(xs, at, side="left")
    upper = np.where(hi > 0, cdf[np.maximum(hi - 1, 0)], 0.0)
    lower = np.where(lo > 0, cdf[np.maximum(lo - 1, 0)], 0.0)
    return np.asarray(0.5 * (upper + lower))


def quantile_agreement(names: Sequence[str], samples_a: np.ndarray, weights_a: np.ndarray | None,
                       ess_a: float | Sequence[float] | np.ndarray, samples_b: np.ndarray, weights_b: np.ndarray | None,
                       ess_b: float | Sequence[float] | np.ndarray, probabilities: Sequence[float] = QUANTILES
                       ) -> list[QuantileAgreement]:
    """One `QuantileAgreement` per parameter (columns of the samples, in the order of `names`)."""
    q = np.asarray(probabilities, dtype=float)
    wa, wb = _weights(len(samples_a), weights_a), _weights(len(samples_b), weights_b)
    ea = np.broadcast_to(np.asarray(ess_a, dtype=float), (len(names),))
    eb = np.broadcast_to(np.asarray(ess_b, dtype=float), (len(names),))
    rows = []
    for j, name in enumerate(names):
        xa = weighted_quantiles(samples_a[:, j], wa, q)
        xb = weighted_quantiles(samples_b[:, j], wb, q)
        miss = weighted_cdf(samples_b[:, j], wb, xa) - q
        error = np.sqrt(q * (1 - q) * (1.0 / ea[j] + 1.0 / eb[j]))
        rows.append(QuantileAgreement(name, tuple(q.tolist()), tuple(xa.tolist()), tuple(xb.tolist()),
                                      tuple(miss.tolist()), tuple(error.tolist())))
    return rows


def parse_box(items: Sequence[str], names: Sequence[str]) -> dict[str, tuple[float, float]]:
    """``["kappa=0:0.1", "eta_d=0.75:1"]`` -> {"kappa": (0, 0.1), "eta_d": (0.75, 1)} (parameter values)."""
    box = {}
    for item in items:
        name, _, span = item.partition("=")
        lo_text, _, hi_text = span.partition(":")
        if name not in names:
            raise ValueError(f"--box {item}: unknown parameter {name!r}; the runs have {', '.join(names)}")
        try:
            box[name] = (float(lo_text), float(hi_text))
        except ValueError:
            raise ValueError(f"--box {item}: write NAME=LO:HI with numbers, such as kappa=0:0.1") from None
    return box


def box_fraction(names: Sequence[str], samples: np.ndarray, weights: np.ndarray | None, ess: float,
                 box: Mapping[str, tuple[float, float]]) -> tuple[float, float]:
    """(posterior mass inside the box, its binomial error for the effective sample size)."""
    w = _weights(len(samples), weights)
    inside = np.ones(len(samples), dtype=bool)
    for name, (lo, hi) in box.items():
        x = samples[:, list(names).index(name)]
        inside &= (x >= lo) & (x <= hi)
    p = float(np.sum(w[inside]))
    return p, float(np.sqrt(max(p * (1 - p), 1.0 / ess) / ess))


def run_draws(res: Results) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray]:
    """(names, raw samples, weights, ESS per parameter) of a results folder."""
    names = tuple(row.parameter for row in res.summary)
    ws = res.posterior["weighted_samples"].ds
    samples = np.column_stack([np.asarray(ws[n].values, dtype=float) for n in names])
    # MCMC runs: ArviZ's bulk ESS per parameter; weighted runs (nested sampling, scan): Kish's, one for all
    ess = np.array([row.ess for row in res.summary])
    return names, samples, np.asarray(ws["weights"].values, dtype=float), ess


def compare_runs(a: Results, b: Results, box_items: Sequence[str] = ()) -> dict[str, object]:
    names_a, sa, wa, ea = run_draws(a)
    names_b, sb, wb, eb = run_draws(b)
    common = [n for n in names_a if n in names_b]
    if not common:
        raise ValueError(f"{a.outdir} and {b.outdir} share no free parameter")
    ia, ib = [names_a.index(n) for n in common], [names_b.index(n) for n in common]
    rows = quantile_agreement(common, sa[:, ia], wa, ea[ia], sb[:, ib], wb, eb[ib])
    out: dict[str, object] = {"run_a": str(a.outdir), "run_b": str(b.outdir),
                              "parameters": [asdict(r) | {"max_miss": r.max_miss, "max_sigma": r.max_sigma}
                                             for r in rows]}
    if box_items:
        box = parse_box(box_items, common)
        pa, da = box_fraction(common, sa[:, ia], wa, float(np.min(ea[ia])), box)
        pb, db = box_fraction(common, sb[:, ib], wb, float(np.min(eb[ib])), box)
        out["box"] = asdict(BoxMass(" ".join(box_items), pa, da, pb, db))
    return out


def format_report(report: Mapping[str, object]) -> str:
    lines = [f"A = {report['run_a']}", f"B = {report['run_b']}",
             "miss = P_B(x <= A's quantile) - q, in probability; error from both runs' ESS", "",
             f"{'parameter':<10} {'q':>6} {'A':>11} {'B':>11} {'miss':>8} {'error':>7} {'miss/error':>10}"]
    params = report["parameters"]
    assert isinstance(params, list)
    for row in params:
        for k, q in enumerate(row["probabilities"]):
            lines.append(f"{row['parameter'] if k == 0 else '':<10} {q:>6.3f} {row['quantiles_a'][k]:>11.4g} "
                         f"{row['quantiles_b'][k]:>11.4g} {row['miss'][k]:>+8.4f} {row['error'][k]:>7.4f} "
                         f"{row['miss'][k] / row['error'][k]:>+10.1f}")
    worst = max(params, key=lambda r: r["max_sigma"])
    lines.append(f"\nlargest miss {max(r['max_miss'] for r in params):.4f} in probability; largest in units of "
                 f"the error {worst['max_sigma']:.1f} ({worst['parameter']})")
    box = report.get("box")
    if isinstance(box, dict):
        sigma = abs(box["mass_a"] - box["mass_b"]) / float(np.hypot(box["error_a"], box["error_b"]))
        lines.append(f"mass in {box['box']}: A {box['mass_a']:.4f} +- {box['error_a']:.4f}, B {box['mass_b']:.4f} "
                     f"+- {box['error_b']:.4f} ({sigma:.1f} sigma apart)")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="darkportal compare-posteriors", description=__doc__.splitlines()[0])
    ap.add_argument("run_a", type=Path)
    ap.add_argument("run_b", type=Path)
    ap.add_argument("--box", nargs="*", default=[], metavar="NAME=LO:HI",
                    help="also compare the mass inside this box of parameter values")
    ap.add_argument("--json", action="store_true", help="print the comparison as JSON")
    args = ap.parse_args(argv)
    report = compare_runs(read_results(args.run_a), read_results(args.run_b), args.box)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
    else:
        print(format_report(report))
    return 0
