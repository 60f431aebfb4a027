"""Best fit and goodness of fit: the maximum-likelihood point of a run by a multi-start optimiser.

The likelihood terms are -chi^2/2 without normalisation constants (``likelihoods.terms``), so
chi^2 = -2 ln L and each term's share is the square of its pull (0 for a passed hard bound). The
optimiser works in the prior's unit cube (x = prior.ppf(u)): the box is [0, 1]^d whatever the priors,
log-uniform parameters are searched in ln x, and the maximum is the maximum of L over the prior's support.
Every start gets a short bounded Nelder-Mead simplex (scipy); the best distinct end points are then polished
by a simplex restarted from its own end point until chi^2 stops improving. The posterior has islands whose
best points sit on the edge of a hard bound (chi^2 jumps to inf there, e.g. at ctau_S = 0.1 mm), along which
the likelihood is nearly flat: ends of different starts then agree to ~1e-3 in chi^2, not to rounding, so
agreement is counted within AGREE_CHI2 = 0.01 (a hundredth of the Delta chi^2 = 1 of one sigma). SLSQP with
the hard bounds as constraints was tried for that polish and did no better at ~10x the cost. Starts are the
best distinct posterior samples of a finished run plus a few posterior draws (other islands), or the best of
a batch of prior draws.

The SM-only point sets every new-physics coupling (kappa, the eta's, g_D, |U_mu4|) to zero; the masses
then do not matter. Delta chi^2 = chi^2(SM) - chi^2(best).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize

from inference.errors import DarkportalError
from inference.samplers.model import RunModel
from physics.params import PARAM_NAMES, ModelParams

log = logging.getLogger(__name__)

FloatArray = np.ndarray
#: the new-physics couplings; all zero is the Standard Model
NP_COUPLINGS = ("kappa", "eta_d", "eta_c", "eta_t", "g_D", "U_mu4")
#: starts whose chi^2 lies within this of the best count as having found it (reproducibility)
AGREE_CHI2 = 0.01
_CHI2_INF = 1e300  # stands for chi^2 = inf inside the simplex (outside a hard bound or the domain)


class FitError(DarkportalError, RuntimeError):
    """No start has a finite likelihood, or the run cannot be fitted."""


@dataclass(frozen=True)
class TermFit:
    """One likelihood term at a point: the value it compares, its pull (gaussian-mode sigma) and chi^2."""

    name: str
    observable: str
    kind: str
    condition: str
    enabled: bool
    value: float
    pull: float | None
    chi2: float
    passed: bool


@dataclass(frozen=True)
class StartResult:
    """One polished optimiser start: where it began and ended (paper units), chi^2 there, the evaluations used
    (screening and polish) and the restarts of the polishing simplex."""

    start: tuple[float, ...]
    start_chi2: float
    point: tuple[float, ...]
    chi2: float
    nfev: int
    restarts: int


@dataclass(frozen=True)
class PointFit:
    """chi^2 and per-term breakdown at one point (all eight parameters, paper units)."""

    params: dict[str, float]
    chi2: float
    terms: tuple[TermFit, ...]
    left_out: tuple[str, ...] = ()  # enabled terms not counted in chi2 (hard bounds at the SM-only point)

    @property
    def n_pulls(self) -> int:
        """Enabled terms with a pull (measurements and limits, not hard bounds)."""
        return sum(1 for t in self.terms if t.enabled and t.pull is not None)


@dataclass(frozen=True)
class BestFit:
    """Everything `darkportal fit` writes to bestfit.json."""

    names: tuple[str, ...]
    best: PointFit
    sm: PointFit
    starts: tuple[StartResult, ...]
    n_agree: int
    best_sample_chi2: float | None
    start_source: str
    n_screened: int = 0

    @property
    def delta_chi2(self) -> float:
        return self.sm.chi2 - self.best.chi2

    def to_dict(self) -> dict[str, Any]:
        def point(p: PointFit) -> dict[str, Any]:
            return {"parameters": p.params, "chi2": _num(p.chi2), "loglike": _num(-0.5 * p.chi2),
                    "n_terms_with_pull": p.n_pulls, "left_out_of_chi2": list(p.left_out),
                    "terms": [{k: _num(v) for k, v in asdict(t).items()} for t in p.terms]}

        return {"free_parameters": list(self.names), "best_fit": point(self.best), "sm_only": point(self.sm),
                "delta_chi2": _num(self.delta_chi2), "best_posterior_sample_chi2": _num(self.best_sample_chi2),
                "starts_in_agreement": self.n_agree, "agreement_tolerance_chi2": AGREE_CHI2,
                "start_source": self.start_source, "starts_screened": self.n_screened,
                "optimiser": "scipy.optimize.minimize Nelder-Mead (bounded, adaptive) in the prior's unit cube: a "
                             "short simplex from every start, then the best distinct end points restarted from "
                             "their end points until chi^2 improves by < 1e-9",
                "starts": [{k: _num(v) for k, v in asdict(s).items()} for s in self.starts]}


def _num(v: Any) -> Any:
    if isinstance(v, tuple | list):
        return [_num(x) for x in v]
    if isinstance(v, float | np.floating):
        v = float(v)
        return v if np.isfinite(v) else ("inf" if v > 0 else ("-inf" if v < 0 else None))
    return v


def minimise_chi2(chi2: Callable[[FloatArray], float], u0: FloatArray, maxfev: int = 20000,
                  max_restarts: int = 6) -> tuple[FloatArray, float, int, int]:
    """Bounded Nelder-Mead on [0, 1]^d from u0, restarted from its end point until chi^2 improves by < 1e-9.

    Returns (u, chi2, evaluations, restarts). chi2 may return inf (it is replaced by a large number)."""
    d = len(u0)

    def f(u: FloatArray) -> float:
        value = chi2(np.clip(u, 0.0, 1.0))
        return value if value < _CHI2_INF else _CHI2_INF

    u, best, nfev, restarts = np.clip(np.asarray(u0, dtype=float), 0.0, 1.0), f(u0), 1, 0
    step = 0.05
    for restarts in range(max_restarts + 1):  # noqa: B007  (restarts is reported)
        simplex = np.repeat(u[None, :], d + 1, axis=0)
        for i in range(d):
            simplex[i + 1, i] = u[i] + step if u[i] + step <= 1.0 else u[i] - step
        res = minimize(f, u, method="Nelder-Mead", bounds=[(0.0, 1.0)] * d,
                       options={"initial_simplex": simplex, "xatol": 1e-8, "fatol": 1e-8, "maxfev": maxfev,
                                "adaptive": True})
        nfev += int(res.nfev)
        improved = best - float(res.fun)
        if float(res.fun) <= best:
            u, best = np.clip(res.x, 0.0, 1.0), float(res.fun)
        if improved < 1e-9:
            break
        step = max(step * 0.5, 1e-3)
    return u, best, nfev, restarts


class Fitter:
    """The likelihood of one run as a chi^2 in the prior's unit cube, with the per-term breakdown."""

    def __init__(self, model: RunModel):
        self.model = model
        self.priors = model.config.priors
        self.names = model.names

    def chi2_u(self, u: FloatArray) -> float:
        x = self.model.point_prior_transform(np.asarray(u, dtype=np.float64))  # PriorSet.ppf is ~30x slower
        return -2.0 * float(self.model.point_log_likelihood(x))

    def to_unit(self, x: FloatArray) -> FloatArray:
        return np.clip(np.asarray(self.priors.cdf(np.atleast_2d(x)), dtype=float), 0.0, 1.0)

    def point_fit(self, params: dict[str, float], hard_bounds: bool = True) -> PointFit:
        """chi^2 and every term (enabled and disabled) at one point given in paper units, all eight parameters.

        hard_bounds=False leaves the enabled hard bounds out of chi^2 (they are listed in ``left_out``): at the
        SM-only point there is no S, and bounds on its lifetime or production have no meaning."""
        lik = self.model.likelihood
        mp = ModelParams.from_paper_units({n: [params[n]] for n in PARAM_NAMES})
        total, _, preds = lik.evaluate(mp, extra=lik.all_observables)
        terms = []
        for r in lik.report(preds):
            ll = float(r.loglike[0])
            pull = float(r.pull[0])
            terms.append(TermFit(r.name, r.observable, r.kind, r.condition, r.enabled, float(r.value[0]),
                                 pull if np.isfinite(pull) else None, -2.0 * ll + 0.0, bool(r.passed[0])))
        if hard_bounds:
            return PointFit(dict(params), -2.0 * float(total[0]), tuple(terms))
        left_out = tuple(t.name for t in terms if t.enabled and t.kind == "hard_bound")
        chi2 = float(sum(t.chi2 for t in terms if t.enabled and t.name not in left_out))
        return PointFit(dict(params), chi2, tuple(terms), left_out)

    def full_params(self, x: FloatArray) -> dict[str, float]:
        values = self.priors.to_dict(np.asarray(x, dtype=float)[None, :])
        return {n: float(values[n][0]) for n in PARAM_NAMES}

    def fit(self, starts_x: FloatArray, start_source: str, best_sample_chi2: float | None = None,
            maxfev: int = 10000, n_polish: int = 4, screen_fev: int = 2000) -> BestFit:
        """Two stages: a short simplex (``screen_fev`` evaluations, no restarts) from every row of ``starts_x``
        (paper units), then the full restarted simplex from the ``n_polish`` best distinct end points. The best
        polished point is the best fit. (The posterior has islands whose best points sit on the edge of an
        allowed region, where chi^2 jumps to inf: many cheap starts find more of them than a few long ones.)"""
        starts_x = np.atleast_2d(np.asarray(starts_x, dtype=float))
        screened = []
        for u0 in self.to_unit(starts_x):
            u, c, nfev, _ = minimise_chi2(self.chi2_u, u0, maxfev=screen_fev, max_restarts=0)
            screened.append((c, u, u0, nfev))
        order = sorted((i for i, r in enumerate(screened) if r[0] < _CHI2_INF), key=lambda i: screened[i][0])
        if not order:
            raise FitError("no optimiser start reached a finite likelihood; every start lies outside a hard "
                           "bound or the physics domain")
        chosen: list[int] = []
        for i in order:  # distinct end points only (two starts that met in one minimum are polished once)
            if all(np.max(np.abs(screened[i][1] - screened[j][1])) > 1e-4 for j in chosen):
                chosen.append(i)
            if len(chosen) == n_polish:
                break
        results = []
        for i in chosen:
            c_screen, u_screen, u0, nfev0 = screened[i]
            u, c, nfev, restarts = minimise_chi2(self.chi2_u, u_screen, maxfev=maxfev)
            x = self.model.point_prior_transform(np.asarray(u, dtype=np.float64))
            results.append(StartResult(tuple(map(float, starts_x[i])), self.chi2_u(u0), tuple(map(float, x)), c,
                                       nfev0 + nfev, restarts))
            log.debug("start chi2 %.4f -> %.4f (screen) -> %.6f (%d evaluations)", results[-1].start_chi2,
                      c_screen, c, nfev0 + nfev)
        best = min(results, key=lambda r: r.chi2)
        n_agree = sum(1 for r in results if r.chi2 - best.chi2 <= AGREE_CHI2)
        best_params = self.full_params(np.asarray(best.point))
        sm_params = {n: (0.0 if n in NP_COUPLINGS else v) for n, v in best_params.items()}
        return BestFit(self.names, self.point_fit(best_params), self.point_fit(sm_params, hard_bounds=False),
                       tuple(results), n_agree, best_sample_chi2, start_source, len(starts_x))


def starts_from_samples(samples: FloatArray, logl: FloatArray, weights: FloatArray, n: int,
                        rng: np.random.Generator) -> FloatArray:
    """The best ~2n/3 distinct samples by log L, plus posterior draws for the rest (other islands)."""
    order = np.argsort(-logl)
    _, first = np.unique(samples[order], axis=0, return_index=True)
    distinct = order[np.sort(first)]
    distinct = distinct[np.isfinite(logl[distinct])]
    n_best = min(len(distinct), max(1, (2 * n + 2) // 3))
    picks = list(distinct[:n_best])
    w = np.where(np.isfinite(logl), weights, 0.0)
    if n > n_best and w.sum() > 0:
        picks += list(rng.choice(len(samples), size=n - n_best, p=w / w.sum()))
    return samples[np.asarray(picks)]


def starts_from_prior(model: RunModel, n: int, rng: np.random.Generator, n_draws: int = 20000) -> FloatArray:
    """The n best of ``n_draws`` prior draws (by log L)."""
    x = model.config.priors.sample(rng, n_draws)
    logl = np.asarray(model.log_likelihood(x), dtype=float)
    order = np.argsort(-np.where(np.isfinite(logl), logl, -np.inf))
    good = order[np.isfinite(logl[order])][:n]
    if len(good) == 0:
        raise FitError(f"none of {n_draws} prior draws has a finite likelihood; start from a finished run instead")
    return x[good]
