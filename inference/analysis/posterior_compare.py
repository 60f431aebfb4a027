"""`darkportal compare-posteriors RUN_A RUN_B`: do two posteriors agree, parameter by parameter?

For each parameter and each probability q in 2.5/16/50/84/97.5 %, the q-quantile x_q of run A is looked
up in run B's distribution: the *miss* is F_B(x_q) - q, a difference of probabilities (0 when the two
agree; the same measure whatever the parameter's units or scale). Its Monte Carlo error is
sqrt(q (1 - q) (1 / ESS_A + 1 / ESS_B)) (the binomial error of an empirical CDF at a point, and of A's
quantile propagated through the density, to first order), where each ESS is the effective sample size *of
the indicator I(x <= x_q)*, per parameter and per q, not one number per run:

- MCMC runs (several chains): ArviZ's quantile ESS, the ESS of the mean of that indicator over split chains
  (`arviz.ess(method="mean")` of the indicator; at a run's own quantile, with each walker a chain, this is
  `arviz.ess(method="quantile", prob=q)`). In the tails it can differ from the bulk ESS by ~2x: for an
  AR(1) chain the bulk ESS overstates the error at q = 2.5 % (miss / error spread ~0.6 instead of 1).
  The walkers of one emcee ensemble are not independent (a move uses the other walkers' positions), so
  when the run has independent ensembles (`sampler_info.ensembles` in provenance.json) the chains are the
  ensembles and each draw is the indicator averaged over the ensemble's walkers; its variance over the
  ensemble-mean series, divided by the ESS of that series, is the variance of the pooled estimate. On the
  kappa != 0 chain this ESS is ~15 % (median) below the one that counts every walker as a chain.
- Weighted runs (nested sampling, prior draws weighted by the likelihood): the delta-method variance of the
  self-normalised weighted CDF, sum_i w_i^2 (I_i - F)^2 for normalised weights, as an ESS
  F (1 - F) / that. Kish's ESS 1 / sum w_i^2 (one number for all q, printed beside it) is only right
  where the weights do not depend on the indicator: for prior draws weighted by a peaked likelihood it
  overstates the tail error ~2x (measured in `tests/inference/test_compare_errors.py`). For nested
  sampling the variance of the volume estimates is not included.
- Equally weighted independent draws (an exact sample): the number of draws.

The result records, per parameter, each side's ESS per q and which estimator gave it (`EssKind`).

`--box NAME=LO:HI ...` also compares the posterior mass inside a box of parameter values (an island), with
binomial errors from the ESS of the box's indicator, computed in the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

from inference.output.results import Results, read_results
from inference.output.summary import QUANTILES, kish_ess, weighted_quantiles


class EssKind(StrEnum):
    """Which effective sample size a side of a comparison used (the value is written to JSON)."""

    CHAINS = "quantile ESS of the chains (ArviZ)"
    ENSEMBLES = "quantile ESS of the ensemble-averaged indicator (ArviZ)"
    WEIGHTED = "weighted indicator ESS (delta method)"
    INDEPENDENT = "independent draws"


@dataclass(frozen=True, eq=False)
class Draws:
    """One posterior as the comparison reads it: samples (n, d), their normalised weights, how many chains the
    rows hold (chain-major: chain 0's draws first) when it is an MCMC run, and into how many independent
    ensembles of consecutive chains those fall (``ensembles == chains``: the chains are independent)."""

    samples: np.ndarray
    weights: np.ndarray
    chains: int
    kind: EssKind
    ensembles: int = 1

    @classmethod
    def mcmc(cls, samples: np.ndarray, chains: int, ensembles: int | None = None) -> Draws:
        """Chains of an MCMC run; ``ensembles``: the chains are walkers of that many independent ensembles
        (consecutive blocks of equal size), None: every chain is independent."""
        samples = np.asarray(samples, dtype=float)
        if chains < 1 or len(samples) % chains:
            raise ValueError(f"{len(samples)} draws do not split into {chains} chains of equal length")
        groups = chains if ensembles is None else int(ensembles)
        if groups < 1 or chains % groups:
            raise ValueError(f"{chains} chains do not split into {ensembles} ensembles of equal size")
        kind = EssKind.CHAINS if groups == chains else EssKind.ENSEMBLES
        return cls(samples, np.full(len(samples), 1.0 / len(samples)), chains, kind, groups)

    @classmethod
    def weighted(cls, samples: np.ndarray, weights: np.ndarray) -> Draws:
        w = np.asarray(weights, dtype=float)
        return cls(np.asarray(samples, dtype=float), w / w.sum(), 1, EssKind.WEIGHTED)

    @classmethod
    def independent(cls, samples: np.ndarray) -> Draws:
        samples = np.asarray(samples, dtype=float)
        return cls(samples, np.full(len(samples), 1.0 / len(samples)), 1, EssKind.INDEPENDENT)

    @property
    def kish(self) -> float:
        return kish_ess(self.weights)

    def select(self, columns: Sequence[int]) -> Draws:
        return Draws(self.samples[:, list(columns)], self.weights, self.chains, self.kind, self.ensembles)

    def indicator_ess(self, inside: np.ndarray) -> np.ndarray:
        """ESS of the posterior mean of each column of the boolean array ``inside`` (n, k): the number of
        independent draws that would estimate P(inside) as precisely. NaN-free: a column that is constant
        (no draw inside, or all) gets the number of draws."""
        inside = np.asarray(inside, dtype=bool).reshape(len(self.samples), -1)
        n = len(self.samples)
        if self.kind is EssKind.INDEPENDENT:
            return np.full(inside.shape[1], float(n))
        if self.kind is EssKind.WEIGHTED:
            p = self.weights @ inside
            var = (self.weights**2) @ (inside - p) ** 2
            with np.errstate(divide="ignore", invalid="ignore"):
                ess = p * (1 - p) / var
            return np.where(var > 0, ess, float(n))
        import arviz as az

        out = np.empty(inside.shape[1])
        for k in range(inside.shape[1]):
            col = inside[:, k]
            if col.all() or not col.any():
                out[k] = n
                continue
            series = col.astype(float).reshape(self.chains, -1)
            if self.kind is EssKind.CHAINS:
                out[k] = float(az.ess(series, method="mean"))
                continue
            # each ensemble's walkers averaged: independent series whose pooled mean is the estimate
            series = series.reshape(self.ensembles, self.chains // self.ensembles, -1).mean(axis=1)
            var = float(np.var(series, ddof=1))
            p = float(col.mean())
            out[k] = p * (1 - p) * float(az.ess(series, method="mean")) / var if var > 0 else float(n)
        return np.where(np.isfinite(out), out, float(n))


@dataclass(frozen=True)
class QuantileAgreement:
    """One parameter: A's quantiles, B's quantiles, F_B(A's quantile) - q, its Monte Carlo error, and the ESS
    of each side at each q (of the indicator x <= A's quantile) with the estimator that gave it."""

    parameter: str
    probabilities: tuple[float, ...]
    quantiles_a: tuple[float, ...]
    quantiles_b: tuple[float, ...]
    miss: tuple[float, ...]
    error: tuple[float, ...]
    ess_a: tuple[float, ...]
    ess_b: tuple[float, ...]
    ess_kind_a: EssKind
    ess_kind_b: EssKind

    @property
    def z(self) -> np.ndarray:
        """miss / error per q."""
        return np.asarray(self.miss) / np.asarray(self.error)

    @property
    def max_miss(self) -> float:
        return float(np.max(np.abs(self.miss)))

    @property
    def max_sigma(self) -> float:
        return float(np.max(np.abs(self.z)))


@dataclass(frozen=True)
class BoxMass:
    box: str
    mass_a: float
    error_a: float
    ess_a: float
    mass_b: float
    error_b: float
    ess_b: float

    @property
    def sigma(self) -> float:
        return abs(self.mass_a - self.mass_b) / float(np.hypot(self.error_a, self.error_b))


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


def quantile_agreement(names: Sequence[str], a: Draws, b: Draws, probabilities: Sequence[float] = QUANTILES
                       ) -> list[QuantileAgreement]:
    """One `QuantileAgreement` per parameter (columns of the samples, in the order of `names`)."""
    q = np.asarray(probabilities, dtype=float)
    rows = []
    for j, name in enumerate(names):
        xa = weighted_quantiles(a.samples[:, j], a.weights, q)
        xb = weighted_quantiles(b.samples[:, j], b.weights, q)
        miss = weighted_cdf(b.samples[:, j], b.weights, xa) - q
        ess_a = a.indicator_ess(a.samples[:, j, None] <= xa[None, :])
        ess_b = b.indicator_ess(b.samples[:, j, None] <= xa[None, :])
        error = np.sqrt(q * (1 - q) * (1.0 / ess_a + 1.0 / ess_b))
        rows.append(QuantileAgreement(name, tuple(q.tolist()), tuple(xa.tolist()), tuple(xb.tolist()),
                                      tuple(miss.tolist()), tuple(error.tolist()), tuple(ess_a.tolist()),
                                      tuple(ess_b.tolist()), a.kind, b.kind))
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


def box_fraction(names: Sequence[str], draws: Draws, box: Mapping[str, tuple[float, float]]
                 ) -> tuple[float, float, float]:
    """(posterior mass inside the box, its binomial error, the ESS of the box's indicator it used)."""
    inside = np.ones(len(draws.samples), dtype=bool)
    for name, (lo, hi) in box.items():
        x = draws.samples[:, list(names).index(name)]
        inside &= (x >= lo) & (x <= hi)
    p = float(draws.weights @ inside)
    ess = float(draws.indicator_ess(inside[:, None])[0])
    return p, float(np.sqrt(max(p * (1 - p), 1.0 / ess) / ess)), ess


def run_draws(res: Results) -> tuple[tuple[str, ...], Draws]:
    """(names, draws) of a results folder: MCMC runs (more than one chain in posterior.nc) as their chains,
    weighted runs (nested sampling, scan) as their raw weighted samples."""
    names = tuple(row.parameter for row in res.summary)
    post = res.posterior["posterior"].ds
    if int(post.sizes.get("chain", 1)) > 1:
        samples = np.column_stack([np.asarray(post[n].values, dtype=float).reshape(-1) for n in names])
        ensembles = res.provenance.sampler_info.get("ensembles")
        return names, Draws.mcmc(samples, int(post.sizes["chain"]), None if ensembles is None else int(ensembles))
    ws = res.posterior["weighted_samples"].ds
    samples = np.column_stack([np.asarray(ws[n].values, dtype=float) for n in names])
    return names, Draws.weighted(samples, np.asarray(ws["weights"].values, dtype=float))


def describe(draws: Draws) -> str:
    """One line: which ESS a side uses, with its size."""
    if draws.kind is EssKind.CHAINS:
        return f"{draws.kind} over {draws.chains} chains of {len(draws.samples) // draws.chains} draws"
    if draws.kind is EssKind.ENSEMBLES:
        return (f"{draws.kind}: {draws.ensembles} ensembles of {draws.chains // draws.ensembles} walkers, "
                f"{len(draws.samples) // draws.chains} draws each")
    if draws.kind is EssKind.WEIGHTED:
        return f"{draws.kind} of {len(draws.samples)} weighted samples (Kish ESS {draws.kish:.0f})"
    return f"{draws.kind}: {len(draws.samples)}"


def agreement_report(names: Sequence[str], a: Draws, b: Draws, label_a: str, label_b: str,
                     box_items: Sequence[str] = ()) -> dict[str, object]:
    """The comparison as a JSON-ready dict (what `--json` prints and `format_report` formats)."""
    rows = quantile_agreement(names, a, b)
    z = np.concatenate([r.z for r in rows])
    out: dict[str, object] = {
        "run_a": label_a, "run_b": label_b, "ess_a": describe(a), "ess_b": describe(b),
        "parameters": [asdict(r) | {"max_miss": r.max_miss, "max_sigma": r.max_sigma} for r in rows],
        "z": {"count": int(z.size), "max_abs": float(np.max(np.abs(z))), "rms": float(np.sqrt(np.mean(z**2))),
              "beyond_2": int(np.sum(np.abs(z) > 2.0)), "beyond_3": int(np.sum(np.abs(z) > 3.0))}}
    if box_items:
        box = parse_box(box_items, names)
        pa, da, ea = box_fraction(names, a, box)
        pb, db, eb = box_fraction(names, b, box)
        out["box"] = asdict(BoxMass(" ".join(box_items), pa, da, ea, pb, db, eb))
    return out


def compare_runs(a: Results, b: Results, box_items: Sequence[str] = ()) -> dict[str, object]:
    names_a, da = run_draws(a)
    names_b, db = run_draws(b)
    common = [n for n in names_a if n in names_b]
    if not common:
        raise ValueError(f"{a.outdir} and {b.outdir} share no free parameter")
    ia, ib = [names_a.index(n) for n in common], [names_b.index(n) for n in common]
    return agreement_report(common, da.select(ia), db.select(ib), str(a.outdir), str(b.outdir), box_items)


def format_report(report: Mapping[str, object]) -> str:
    lines = [f"A = {report['run_a']}", f"    ESS: {report['ess_a']}", f"B = {report['run_b']}",
             f"    ESS: {report['ess_b']}",
             "miss = P_B(x <= A's quantile) - q, in probability; error sqrt(q (1 - q) (1/ESS_A + 1/ESS_B)), each "
             "ESS that of the indicator x <= A's quantile", "",
             f"{'parameter':<10} {'q':>6} {'A':>11} {'B':>11} {'miss':>8} {'error':>7} {'miss/error':>10} "
             f"{'ESS_A':>8} {'ESS_B':>8}"]
    params = report["parameters"]
    assert isinstance(params, list)
    for row in params:
        for k, q in enumerate(row["probabilities"]):
            lines.append(f"{row['parameter'] if k == 0 else '':<10} {q:>6.3f} {row['quantiles_a'][k]:>11.4g} "
                         f"{row['quantiles_b'][k]:>11.4g} {row['miss'][k]:>+8.4f} {row['error'][k]:>7.4f} "
                         f"{row['miss'][k] / row['error'][k]:>+10.2f} {row['ess_a'][k]:>8.0f} {row['ess_b'][k]:>8.0f}")
    worst = max(params, key=lambda r: r["max_sigma"])
    z = report["z"]
    assert isinstance(z, dict)
    lines.append(f"\nlargest miss {max(r['max_miss'] for r in params):.4f} in probability; largest in units of "
                 f"the error {worst['max_sigma']:.2f} ({worst['parameter']}); over the {z['count']} comparisons "
                 f"rms(miss/error) {z['rms']:.2f}, {z['beyond_2']} beyond 2, {z['beyond_3']} beyond 3 (a unit "
                 f"normal: rms 1, {0.0455 * z['count']:.1f} beyond 2)")
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
