"""The quantitative statements of the paper's text, measured on darkportal's allowed points (issue 18).

Datta, Marfatia, Mukherjee, PRD 109, L031701 (arXiv:2310.15136), section "Analysis and results" and the
Fig. 2 / Fig. 3 discussion, read the allowed points of their scan (every cut of Table I and the text passed)
for kappa != 0 and kappa = 0. darkportal's `scan` runs in cuts mode (runs/paper_scan_kappa_*.yaml) give the
same thing as weighted points of prior x indicator. :func:`paper_claims` measures each statement on those
points and says whether it agrees, by a test written next to it (the paper gives words, not numbers, for most
of them: the tests are our reading, stated in the output). :func:`benchmark_verdicts` adds the cuts-mode
verdict of each benchmark point of Table II under the same theory options.

`tools/paper_claims.py RUN_NONZERO RUN_ZERO` prints both as markdown (the README's "Reproducing the paper").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference.output.plots_data import RunView
from inference.output.tables import weighted_quantiles
from physics import TheoryOptions

#: BR(K+ -> pi+ nu nu) is "predicted to lie in a quite narrow range": read as a 95 % range spanning less than
#: this factor (the other branching fractions of Fig. 3 span one to two decades)
NARROW_FACTOR = 3.0
#: eta_d bins of the gap search (Fig. 2 of the paper shows eta_d on [0, 1])
GAP_BINS = 50


@dataclass(frozen=True)
class Claim:
    """One statement of the paper: its words, what darkportal measures, the test, and the verdict."""

    case: str  # "kappa != 0", "kappa = 0" or "both"
    paper: str
    measured: str
    test: str
    agrees: bool | None  # None: not a statement of the paper for this case (shown for comparison)

    def __post_init__(self) -> None:
        if self.agrees is not None:  # numpy booleans from the comparisons -> bool
            object.__setattr__(self, "agrees", bool(self.agrees))


def _q(view: RunView, name: str, q: tuple[float, ...]) -> np.ndarray:
    source = view.samples if name in view.samples else view.observables
    return weighted_quantiles(np.asarray(source[name], dtype=float), view.weights, q)


def _ratio_eta_c_eta_t(view: RunView) -> np.ndarray:
    eta_t = view.samples["eta_t"]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = view.samples["eta_c"] / eta_t
    return np.where(eta_t > 0, ratio, np.nan)


def weighted_correlation(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Weighted Pearson correlation coefficient."""
    w = w / w.sum()
    mx, my = np.sum(w * x), np.sum(w * y)
    cov = np.sum(w * (x - mx) * (y - my))
    return float(cov / np.sqrt(np.sum(w * (x - mx) ** 2) * np.sum(w * (y - my) ** 2)))


def eta_d_gaps(view: RunView, bins: int = GAP_BINS, lo: float = 0.0, hi: float = 1.0) -> list[tuple[float, float]]:
    """Intervals of eta_d inside the range of the allowed points (1 %-99 % quantiles) where the weighted density
    falls below a tenth of its median over that range: the 'gaps in the allowed regions of eta_d'."""
    x, w = view.samples["eta_d"], view.weights
    dens, edges = np.histogram(x, bins=bins, range=(lo, hi), weights=w)
    q1, q99 = weighted_quantiles(x, w, (0.01, 0.99))
    inside = (edges[:-1] >= q1) & (edges[1:] <= q99)
    if inside.sum() < 3:
        return []
    low = inside & (dens < 0.1 * np.median(dens[inside]))
    gaps, start = [], None
    for i, flag in enumerate(low):
        if flag and start is None:
            start = i
        if not flag and start is not None:
            gaps.append((float(edges[start]), float(edges[i])))
            start = None
    if start is not None:
        gaps.append((float(edges[start]), float(edges[len(low)])))
    return gaps


def _fmt_interval(a: float, b: float, scale: float = 1.0, digits: int = 3) -> str:
    return f"[{a / scale:.{digits}g}, {b / scale:.{digits}g}]"


def paper_claims(nonzero: RunView, zero: RunView) -> list[Claim]:
    """Each quantitative statement of the paper's text, measured on the allowed points of the two cuts-mode runs
    (kappa != 0, kappa = 0). Quantiles are weighted; '90 %' and '95 %' are central intervals."""
    out = []
    for case, view in (("kappa != 0", nonzero), ("kappa = 0", zero)):
        lo_t = float(view.samples["eta_t"].min())
        q005 = float(_q(view, "eta_t", (0.005,))[0])
        out.append(Claim(case, "eta_t >~ 0.005 is needed (to explain B+ -> K+ nu nu)",
                         f"smallest allowed eta_t {lo_t:.4f}; 0.5 % quantile {q005:.4f}",
                         "smallest eta_t within 0.0035-0.0065", 0.0035 <= lo_t <= 0.0065))
        r = _ratio_eta_c_eta_t(view)
        ok = np.isfinite(r)
        r05, r50, r95 = weighted_quantiles(r[ok], view.weights[ok], (0.05, 0.5, 0.95))
        out.append(Claim(case, "eta_c ~ -27 eta_t (the KOTO cancellation in g_sd)",
                         f"eta_c / eta_t: median {r50:.1f}, 90 % {_fmt_interval(r05, r95)}",
                         "median within 10 % of -27", abs(r50 / -27.0 - 1.0) <= 0.10))
        k_lo, k_hi = _q(view, "BR(K+->pi+nunu)", (0.025, 0.975))
        b_lo, b_hi = _q(view, "BR(B+->K+nunu)", (0.025, 0.975))
        out.append(Claim(case, "BR(K+ -> pi+ nu nu) is predicted to lie in a quite narrow range",
                         f"95 %: {_fmt_interval(k_lo, k_hi, 1e-9)} x 1e-9 (factor {k_hi / k_lo:.2f}); "
                         f"BR(B+ -> K+ nu nu) for comparison: factor {b_hi / b_lo:.2f}",
                         f"95 % range spans less than a factor {NARROW_FACTOR:g}", k_hi / k_lo < NARROW_FACTOR))
    out += _kappa_zero_claims(nonzero, zero)
    gaps = eta_d_gaps(nonzero)
    where = ", ".join(_fmt_interval(a, b, digits=2) for a, b in gaps) or "none"
    out.append(Claim("kappa != 0", "gaps in the allowed regions of eta_d (the scalar-nucleus coupling cancels)",
                     f"eta_d intervals with < 10 % of the median density: {where}",
                     f"at least one such interval ({GAP_BINS} bins on [0, 1])", bool(gaps)))
    for case, view in (("kappa != 0", nonzero), ("kappa = 0", zero)):
        rho = weighted_correlation(view.samples["m_S"], view.samples["m_nu4"], view.weights)
        stated = case == "kappa != 0"
        out.append(Claim(case, "a significant correlation between m_S and m_nu4" if stated else
                         "(m_S - m_nu4 correlation: stated for kappa != 0 only)",
                         f"weighted correlation coefficient {rho:+.2f}", "abs(rho) >= 0.3",
                         abs(rho) >= 0.3 if stated else None))
    return out


def _kappa_zero_claims(nonzero: RunView, zero: RunView) -> list[Claim]:
    out = []
    t_nz, t_z = _q(nonzero, "eta_t", (0.5, 0.95)), _q(zero, "eta_t", (0.5, 0.95))
    out.append(Claim("kappa = 0", "eta_t is restricted to smaller values (by B -> K(*) nu nu)",
                     f"eta_t median / 95 % quantile: {t_z[0]:.4f} / {t_z[1]:.4f} (kappa != 0: "
                     f"{t_nz[0]:.4f} / {t_nz[1]:.4f})", "95 % quantile below that of kappa != 0", t_z[1] < t_nz[1]))
    d_nz, d_z = _q(nonzero, "eta_d", (0.05, 0.5)), _q(zero, "eta_d", (0.05, 0.5))
    out.append(Claim("kappa = 0", "larger values of eta_d are required (MiniBooNE through S -> e+ e- only)",
                     f"eta_d 5 % quantile / median: {d_z[0]:.2f} / {d_z[1]:.2f} (kappa != 0: {d_nz[0]:.2f} / "
                     f"{d_nz[1]:.2f})", "5 % quantile above the kappa != 0 median", d_z[0] > d_nz[1]))
    for name in ("g_D", "U_mu4"):
        nz, z = _q(nonzero, name, (0.05, 0.5)), _q(zero, name, (0.05, 0.5))
        out.append(Claim("kappa = 0", f"smaller values of {name} are disfavoured",
                         f"{name} 5 % quantile / median: {z[0]:.3g} / {z[1]:.3g} (kappa != 0: {nz[0]:.3g} / "
                         f"{nz[1]:.3g})", "5 % quantile and median above those of kappa != 0",
                         bool(z[0] > nz[0] and z[1] > nz[1])))
    return out


@dataclass(frozen=True)
class Verdict:
    """Cuts-mode verdict of one benchmark point: passes all enabled cuts, or the cuts it fails."""

    name: str
    kappa_zero: bool
    passed: bool
    failed: tuple[str, ...]


def benchmark_verdicts(options: TheoryOptions, data_set: str = "2023") -> list[Verdict]:
    """Each benchmark point of Table II under the paper's cuts (enabled terms of `data_set`) and `options`."""
    import physics
    from likelihoods import JointLikelihood

    like = JointLikelihood.from_config(data_set, "cuts", options=options)
    out = []
    for name in physics.BENCHMARK_NAMES:
        params = physics.benchmark(name)
        preds = physics.predict(params, None, options)
        rows = like.report(preds, include_disabled=False)
        failed = tuple(f"{r.name} ({r.value[0]:.4g})" for r in rows if not bool(r.passed[0]))
        out.append(Verdict(name, bool(params.kappa[0] == 0.0), not failed, failed))
    return out


def claims_markdown(claims: list[Claim], verdicts: list[Verdict]) -> str:
    """The claims and the benchmark verdicts as two markdown tables."""
    lines = ["| case | the paper says | darkportal finds | test | agrees |", "| --- | --- | --- | --- | --- |"]
    verdict = {True: "yes", False: "**no**", None: "(not stated)"}
    lines += [f"| {c.case} | {c.paper} | {c.measured} | {c.test} | {verdict[c.agrees]} |" for c in claims]
    lines += ["", "| benchmark | kappa | paper's cuts | failed (value) |", "| --- | --- | --- | --- |"]
    lines += [f"| {v.name} | {'0' if v.kappa_zero else '!= 0'} | {'pass' if v.passed else 'fail'} | "
              f"{'; '.join(v.failed) or '-'} |" for v in verdicts]
    return "\n".join(lines)
