"""Pilot of the scan sampler: find a small allowed region by sequential Monte Carlo on a smooth version of it.

Why.  When the allowed region of a cuts-mode likelihood is a tiny fraction of the prior box (about 5e-7
for the paper's kappa = 0 case), plain prior draws find one point every few million calls and the scan's
adaptive proposal, which is fitted to accepted points, never starts.  The paper's cuts have a smooth
version: softened, a cut missed by a distance d costs -1/2 (d / (w s))^2 instead of -inf (likelihoods.terms),
so with the softening width w = 1 the pilot log-likelihood is l(u) = -D(u)/2, D the summed squared
violations in units of each cut's scale, and l = 0 exactly on the allowed region.  Hardening the cuts in
steps (w -> 0) is tempering: the targets prior x exp(beta l) with beta = 1/w^2 rising from 0 tend to the
prior restricted to the allowed region.

What.  A standard adaptive SMC sampler (Del Moral, Doucet, Jasra 2006; the adaptive schedule of Jasra et al.
2011): N particles from the prior; the next beta is chosen so that the incremental weights keep an
effective sample size of N/2; systematic resampling; random-walk Metropolis moves in the unit cube with the
particles' covariance, the step scale tuned to the acceptance rate.  It stops once the current particles
are a good importance sample of the real target: the effective sample size of the weights
L(u) / exp(beta l(u)) (for an indicator L: the number of allowed particles) reaches N/2.

What it is used for.  Only to place the first fitted proposal of the scan (scan_backend): the particles are
not part of any estimate, so the scan's points and ln Z keep their exact importance weights, whatever the
pilot found.  An island the pilot missed is still found by the defensive uniform part of the proposal, at
the rate of plain prior draws.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

CubeFunction = Callable[[np.ndarray], np.ndarray]  # unit-cube points (n, d) -> log values (n,), -inf allowed


@dataclass(frozen=True)
class PilotResult:
    """Particles u (n, d) in the unit cube, resampled by their target weights; calls made; stages; final beta;
    why the pilot stopped; and whether it reached the target (False: the particles are only a rough guide)."""

    u: np.ndarray
    calls: int
    stages: int
    beta: float
    reason: str
    reached: bool


def _ess(logw: np.ndarray) -> float:
    finite = np.isfinite(logw)
    if not finite.any():
        return 0.0
    w = np.exp(logw[finite] - logw[finite].max())
    return float(w.sum() ** 2 / np.sum(w * w))


def _incremental(ell: np.ndarray, dbeta: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        out = dbeta * ell
    return np.where(np.isfinite(ell), out, -np.inf)


def _next_beta(ell: np.ndarray, beta: float, target_ess: float, beta_max: float) -> float:
    """The largest beta' in (beta, beta_max] whose incremental weights exp((beta' - beta) l) keep ESS >= target
    (bisection in log beta'); beta_max when even that keeps it."""
    if _ess(_incremental(ell, beta_max - beta)) >= target_ess:
        return beta_max
    lo, hi = beta, beta_max
    lo_log, hi_log = np.log(max(beta, 1e-12)), np.log(beta_max)
    for _ in range(60):
        mid = float(np.exp(0.5 * (lo_log + hi_log)))
        if _ess(_incremental(ell, mid - beta)) >= target_ess:
            lo, lo_log = mid, np.log(mid)
        else:
            hi, hi_log = mid, np.log(mid)
        if hi - lo <= 1e-6 * hi:
            break
    return max(lo, beta + 1e-12)


def _systematic(logw: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    w = np.exp(logw - logw.max())
    cdf = np.cumsum(w / w.sum())
    cdf[-1] = 1.0
    positions = (rng.random() + np.arange(len(w))) / len(w)
    return np.searchsorted(cdf, positions)


def _move(u: np.ndarray, ell: np.ndarray, beta: float, pilot: CubeFunction, steps: int, scale: float,
          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float, int]:
    """`steps` random-walk Metropolis moves of every particle under prior x exp(beta l) in the unit cube."""
    n, d = u.shape
    cov = np.cov(u, rowvar=False).reshape(d, d) + np.eye(d) * 1e-12
    chol = np.linalg.cholesky(cov)
    accepted, calls = 0, 0
    for _ in range(steps):
        prop = u + scale * rng.standard_normal((n, d)) @ chol.T
        inside = np.all((prop >= 0.0) & (prop <= 1.0), axis=1)
        new = np.full(n, -np.inf)
        if inside.any():
            new[inside] = pilot(prop[inside])
            calls += int(inside.sum())
        with np.errstate(invalid="ignore"):
            log_ratio = np.where(np.isfinite(new), beta * (new - np.where(np.isfinite(ell), ell, 0.0)), -np.inf)
        take = inside & (np.log(rng.random(n)) < log_ratio)
        u[take], ell[take] = prop[take], new[take]
        accepted += int(take.sum())
    return u, ell, accepted / max(n * steps, 1), calls


def run_pilot(pilot: CubeFunction, target: CubeFunction, d: int, rng: np.random.Generator, n_particles: int,
              steps: int, max_calls: int, step_ess: float = 0.8, beta_max: float = 1e12) -> PilotResult:
    """Adaptive SMC from the prior to prior x exp(beta l), stopping when the particles are a good importance
    sample of prior x L (see the module docstring). `pilot` gives l, `target` gives log L, both on cube points;
    each step in beta keeps a fraction `step_ess` of the particles' effective sample size (small steps let the
    moves keep up, so that islands whose share shrinks on the way are not lost)."""
    u = rng.random((n_particles, d))
    ell = pilot(u)
    calls, beta, stages = n_particles, 0.0, 0
    scale = 2.38 / np.sqrt(d)
    half = 0.5 * n_particles
    while True:
        logl = target(u)
        calls += n_particles
        if np.isfinite(ell).sum() < max(2 * d, 10):
            return PilotResult(u, calls, stages, beta, "the pilot likelihood is -inf almost everywhere", False)
        # importance weights of the real target against the current tempered one
        with np.errstate(invalid="ignore"):
            logw = np.where(np.isfinite(logl), logl - beta * np.where(np.isfinite(ell), ell, 0.0), -np.inf)
        if _ess(logw) >= half:
            idx = _systematic(logw, rng)
            return PilotResult(u[idx], calls, stages, beta, f"target reached at beta = {beta:.3g}", True)
        if calls >= max_calls:
            return PilotResult(u, calls, stages, beta, f"pilot call cap {max_calls} reached at beta = {beta:.3g}",
                               False)
        finite_ell = ell[np.isfinite(ell)]
        if beta >= beta_max or np.ptp(finite_ell) == 0.0:
            return PilotResult(u, calls, stages, beta, "the pilot likelihood is flat: nothing to temper on", False)
        new_beta = _next_beta(ell, beta, step_ess * n_particles, beta_max)
        idx = _systematic(_incremental(ell, new_beta - beta), rng)
        u, ell, beta, stages = u[idx].copy(), ell[idx].copy(), new_beta, stages + 1
        u, ell, rate, used = _move(u, ell, beta, pilot, steps, scale, rng)
        calls += used
        scale *= float(np.exp(np.clip(rate - 0.25, -0.2, 0.2) * 4.0))  # towards a 25 % acceptance rate
        log.debug("pilot stage %d: beta %.3g, acceptance %.2f, scale %.3g, %d calls", stages, beta, rate, scale,
                  calls)

