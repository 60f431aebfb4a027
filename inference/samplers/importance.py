"""Importance-sampling refinement of a nested-sampling run: an unbiased ln Z and posterior from batched draws.

Why.  dynesty's ln Z error shrinks as 1/sqrt(nlive) while its cost grows as nlive, and its random-walk
proposals leave a bias in the posterior (issue 17: quantiles of the kappa runs off by up to 0.08 in
probability). The likelihood, however, costs ~0.4 us per point in a batch, so after a short nested run has
located the posterior, independent draws from a proposal fitted to it are far cheaper per unit of
precision, and their estimate is unbiased whatever the nested run got wrong.

Proposal (in the unit cube, where the prior is uniform): the defensive mixture (Hesterberg 1995)

    q(u) = alpha * Uniform(cube) + (1 - alpha) * sum_k f_k t_df(u; mu_k, scale * Sigma_k),

with Student-t components (heavier tails than Gaussians) on k-means clusters of the weighted posterior
points. Since q >= alpha everywhere, every weight L(u) / q(u) is at most L(u) / alpha: the variance is
finite and never more than 1/alpha times that of plain prior Monte Carlo, so the central limit theorem and
with it the standard error hold. A nested run under-represents thin, high-likelihood islands (the
kappa -> 0 corner of kappa != 0); so the mixture is adapted: `adapt` stages of `adapt_draws` draws, each
refitted to all weighted points so far (the nested posterior and every stage, each set carrying equal
total weight), which moves components onto the heavy-weight draws the previous proposal missed.

Estimate.  Only the final stage enters the results, from a proposal fixed before it starts (so its mean
is unbiased; the number of its draws is set in advance from the last adaptation stage's efficiency, never
by watching the estimate): Z = mean of w_i = L(u_i) / q(u_i) over all draws (outside the cube w = 0),
error = standard error of that mean / Z. The draws are split into `n_batches` equal batches; the spread of
their ln Z divided by sqrt(n_batches) (`batch_err`) is the check that the weights are not heavy-tailed.

Both see only the final proposal. Its estimate is unbiased for any proposal, but where the weights have a
tail (a thin island the proposal under-covers: kappa != 0's kappa -> 0 corner) the typical estimate sits low
by an amount that depends on the proposal, and so on the nested run it was fitted from; a spread over
seeds (new nested runs) then exceeds the error seen from one proposal (measured: 1.4x for kappa != 0 over
5 nested runs x 2 refinements, benchmarks/README.md). Every adaptation stage is itself an unbiased estimate
from a different proposal (the first fitted to the nested run alone), so their scatter measures that
dependence: with chi^2 of the stages' and the final ln Z about their weighted mean (each with its own
error), the scale factor S = max(1, sqrt(chi^2 / (K - 1))) over the K estimates (the Particle Data
Group's scale factor for inconsistent measurements) multiplies the error, and the quoted error is
S x max(standard error, batch_err). S stays 1 where the stages agree (kappa = 0). The posterior is the
weighted final
draws, thinned to at most `max_samples` by Poisson sampling with probability min(1, c w_i) and weight
w_i / p_i (unbiased; every heavy point is kept).
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.cluster.vq import kmeans2
from scipy.special import gammaln, logsumexp

from inference.errors import DarkportalError
from inference.samplers.pool import PoolHandle, map_chunked
from inference.samplers.problem import FloatArray, SamplingProblem, VectorLogLikelihood

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "components": 16,
    "scale": 2.0,  # covariance inflation of each component
    "df": 5.0,  # Student-t degrees of freedom of the components
    "alpha": 0.3,  # weight of the defensive uniform component
    "adapt": 5,
    "adapt_draws": 100_000,
    "target_err": 0.02,  # ln Z error the final stage is sized for
    "n_eff": 5000,  # and its Kish effective sample size (the posterior's)
    "min_draws": 200_000,
    "max_draws": 5_000_000,
    "n_batches": 20,
    "batch_size": 100_000,  # draws per likelihood call (memory)
    "max_samples": 20_000,
}


class ImportanceError(DarkportalError, RuntimeError):
    """The refinement cannot run: no posterior points to fit, or no draw with a finite likelihood."""


@dataclass(frozen=True)
class StudentMixture:
    """alpha * Uniform(cube) + (1 - alpha) * sum_k frac_k t_df(mu_k, chol_k chol_k^T) in d dimensions."""

    alpha: float
    df: float
    frac: FloatArray  # (k,)
    means: FloatArray  # (k, d)
    chols: FloatArray  # (k, d, d) lower Cholesky factors

    def sample(self, n: int, rng: np.random.Generator) -> FloatArray:
        d = self.means.shape[1]
        out = rng.random((n, d))
        comp = rng.choice(len(self.frac), size=n, p=self.frac)
        fitted = rng.random(n) >= self.alpha
        for j in range(len(self.frac)):
            sel = fitted & (comp == j)
            k = int(sel.sum())
            z = rng.standard_normal((k, d)) @ self.chols[j].T
            out[sel] = self.means[j] + z * np.sqrt(self.df / rng.chisquare(self.df, k))[:, None]
        return out

    def logpdf(self, u: FloatArray) -> FloatArray:
        d = self.means.shape[1]
        const = gammaln((self.df + d) / 2) - gammaln(self.df / 2) - 0.5 * d * np.log(self.df * np.pi)
        parts = []
        for f, mu, chol in zip(self.frac, self.means, self.chols, strict=True):
            z = (u - mu) @ np.linalg.inv(chol).T
            m2 = np.einsum("ij,ij->i", z, z)
            parts.append(np.log(f) + const - np.sum(np.log(np.diag(chol)))
                         - 0.5 * (self.df + d) * np.log1p(m2 / self.df))
        return np.asarray(np.logaddexp(np.log(self.alpha), np.log1p(-self.alpha) + logsumexp(parts, axis=0)))


def fit_mixture(u: FloatArray, w: FloatArray, opts: dict[str, Any], rng: np.random.Generator) -> StudentMixture:
    """A `StudentMixture` on k-means clusters of 20 000 draws resampled from the weighted points (u, w)."""
    n, d = u.shape
    if n == 0 or not np.any(w > 0):
        raise ImportanceError("importance refinement: no weighted posterior points to fit a proposal to")
    pts = u[rng.choice(n, size=20_000, p=w / w.sum())]
    k = int(max(1, min(int(opts["components"]), len(np.unique(pts, axis=0)) // (2 * (d + 1)))))
    with warnings.catch_warnings():  # an empty cluster is harmless: it is skipped below
        warnings.simplefilter("ignore")
        _, labels = kmeans2(pts, k, minit="++", rng=rng)
    frac: list[float] = []
    means: list[FloatArray] = []
    chols: list[FloatArray] = []
    for j in range(k):
        member = pts[labels == j]
        if len(np.unique(member, axis=0)) <= d + 1:
            continue
        cov = np.cov(member, rowvar=False).reshape(d, d) * float(opts["scale"]) + np.eye(d) * 1e-8
        frac.append(float(len(member)))
        means.append(member.mean(axis=0))
        chols.append(np.linalg.cholesky(cov))
    if not frac:  # too few distinct points for any covariance: one component on all of them
        cov = np.cov(pts, rowvar=False).reshape(d, d) * float(opts["scale"]) + np.eye(d) * 1e-4
        frac, means, chols = [1.0], [pts.mean(axis=0)], [np.linalg.cholesky(cov)]
    f = np.asarray(frac, dtype=float)
    return StudentMixture(float(opts["alpha"]), float(opts["df"]), f / f.sum(), np.asarray(means),
                          np.asarray(chols))


@dataclass
class Draws:
    """Draws of one stage: unit-cube points, log L, log q (as many rows as draws)."""

    u: FloatArray
    logl: FloatArray
    logq: FloatArray
    ncall: int  # likelihood calls (draws inside the cube)

    @property
    def logw(self) -> FloatArray:
        return np.asarray(self.logl - self.logq)


def draw(problem: SamplingProblem, mix: StudentMixture, n: int, opts: dict[str, Any], rng: np.random.Generator,
         pool: PoolHandle | None) -> Draws:
    """n draws from `mix` with their log-likelihood (-inf outside the cube), in batches of batch_size."""
    parts = []
    fn = VectorLogLikelihood(problem)
    for start in range(0, n, int(opts["batch_size"])):
        u = mix.sample(min(int(opts["batch_size"]), n - start), rng)
        inside = np.all((u >= 0.0) & (u <= 1.0), axis=1)
        logl = np.full(len(u), -np.inf)
        if np.any(inside):
            logl[inside] = map_chunked(pool, fn, np.asarray(problem.prior_transform(u[inside]), dtype=float))
        parts.append(Draws(u, logl, mix.logpdf(u), int(inside.sum())))
    return Draws(np.concatenate([p.u for p in parts]), np.concatenate([p.logl for p in parts]),
                 np.concatenate([p.logq for p in parts]), sum(p.ncall for p in parts))


def kish(logw: FloatArray) -> float:
    """Kish effective sample size of log-weights."""
    finite = logw[np.isfinite(logw)]
    if len(finite) == 0:
        return 0.0
    w = np.exp(finite - finite.max())
    return float(w.sum() ** 2 / np.sum(w**2))


def log_mean_and_err(logw: FloatArray) -> tuple[float, float]:
    """ln of the mean weight and its standard error relative to the mean (delta method)."""
    if not np.any(np.isfinite(logw)):
        return -np.inf, np.inf
    top = float(np.max(logw))
    w = np.exp(logw - top)
    mean = float(np.mean(w))
    return top + np.log(mean), float(np.std(w, ddof=1) / np.sqrt(len(w)) / mean)


@dataclass
class Refinement:
    """The result of `refine`: ln Z of the final stage, its error, the batch check, the thinned posterior."""

    logz: float
    logz_err: float  # the quoted error: stage_scale x max(standard_error, batch_err)
    standard_error: float
    batch_logz: list[float]
    batch_err: float  # spread of batch_logz / sqrt(n_batches): should agree with standard_error
    stage_scale: float  # S >= 1 from the scatter of the stages' estimates (module docstring)
    ess: float
    ndraw: int
    ncall: int
    u: FloatArray
    logl: FloatArray
    weights: FloatArray
    stages: list[dict[str, float]] = field(default_factory=list)
    wall_time: float = 0.0

    def info(self) -> dict[str, Any]:
        return {"logz": self.logz, "logz_err": self.logz_err, "standard_error": self.standard_error,
                "batch_err": self.batch_err, "stage_scale": self.stage_scale,
                "batch_logz": self.batch_logz, "kish_ess": self.ess, "ndraw": self.ndraw, "ncall": self.ncall,
                "stages": self.stages, "wall_time": self.wall_time}


def refine(problem: SamplingProblem, u_post: FloatArray, w_post: FloatArray, settings: dict[str, Any],
           rng: np.random.Generator, pool: PoolHandle | None = None) -> Refinement:
    """Adapt a defensive mixture to the weighted posterior (u_post, w_post), then the final stage (module doc)."""
    opts = {**DEFAULTS, **settings}
    t0 = time.monotonic()
    u_all, w_all = u_post, w_post / np.sum(w_post)
    mix = fit_mixture(u_all, w_all, opts, rng)
    stages: list[dict[str, float]] = []
    ncall = 0
    per_draw_err2, per_draw_ess = [np.inf], [0.0]
    for stage in range(int(opts["adapt"])):
        got = draw(problem, mix, int(opts["adapt_draws"]), opts, rng, pool)
        ncall += got.ncall
        logz, err = log_mean_and_err(got.logw)
        per_draw_err2.append(err**2 * len(got.logw))
        per_draw_ess.append(kish(got.logw) / len(got.logw))
        stages.append({"stage": stage, "components": len(mix.frac), "draws": len(got.logw), "logz": logz,
                       "logz_err": err, "kish_ess": kish(got.logw)})
        log.info("importance refinement: adaptation stage %d (%d components): ln Z %.3f +/- %.3f, ESS %.0f of %d",
                 stage, len(mix.frac), logz, err, stages[-1]["kish_ess"], len(got.logw))
        keep = np.isfinite(got.logw)
        if np.any(keep):
            w = np.exp(got.logw[keep] - np.max(got.logw[keep]))
            u_all = np.concatenate([u_all, got.u[keep]])
            w_all = np.concatenate([w_all * (stage + 1) / (stage + 2), w / w.sum() / (stage + 2)])
            mix = fit_mixture(u_all, w_all, opts, rng)
    # Size the final stage in advance (never by watching its own estimate) from the worse of the last two
    # adaptation stages: efficiencies measured on 1e5 draws come out optimistic when the weights have a tail.
    err2, ess = max(per_draw_err2[-2:]), min(per_draw_ess[-2:])
    wanted = max(err2 / float(opts["target_err"]) ** 2, float(opts["n_eff"]) / ess if ess > 0 else np.inf)
    nb = int(opts["n_batches"])
    n = int(np.clip(wanted, float(opts["min_draws"]), float(opts["max_draws"])))
    n = max(nb, n - n % nb)
    got = draw(problem, mix, n, opts, rng, pool)
    ncall += got.ncall
    logz, err = log_mean_and_err(got.logw)
    if not np.isfinite(logz):
        raise ImportanceError(f"importance refinement: none of {n} draws has a finite likelihood")
    batch = [log_mean_and_err(b)[0] for b in np.split(got.logw, nb)]
    rel = np.exp(np.asarray(batch) - logz)
    batch_err = float(np.std(rel, ddof=1) / np.sqrt(nb))
    u, logl, weights = thin(got, int(opts["max_samples"]), rng)
    stages.append({"stage": len(stages), "components": len(mix.frac), "draws": n, "logz": logz, "logz_err": err,
                   "kish_ess": kish(got.logw), "final": 1.0})
    # the larger of the two (a tail of rare large weights shows first in the batch spread), scaled by the
    # stages' disagreement (the proposal's dependence on the nested run, module docstring)
    scale = stage_scale([(s["logz"], s["logz_err"]) for s in stages])
    return Refinement(logz=logz, logz_err=scale * max(err, batch_err), standard_error=err,
                      batch_logz=[float(b) for b in batch], batch_err=batch_err, stage_scale=scale,
                      ess=kish(got.logw), ndraw=n, ncall=ncall, u=u, logl=logl, weights=weights, stages=stages,
                      wall_time=time.monotonic() - t0)


def stage_scale(estimates: list[tuple[float, float]]) -> float:
    """The scale factor S = max(1, sqrt(chi^2 / (K - 1))) of K estimates (ln Z, error) about their
    inverse-variance weighted mean; estimates with a non-finite value or error are left out (1 if fewer
    than two remain)."""
    vals = np.array([(z, e) for z, e in estimates if np.isfinite(z) and np.isfinite(e) and e > 0], dtype=float)
    if len(vals) < 2:
        return 1.0
    w = 1.0 / vals[:, 1] ** 2
    mean = float(np.sum(w * vals[:, 0]) / np.sum(w))
    chi2 = float(np.sum(w * (vals[:, 0] - mean) ** 2))
    return max(1.0, float(np.sqrt(chi2 / (len(vals) - 1))))


def thin(got: Draws, max_samples: int, rng: np.random.Generator) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(u, logl, normalised weights) of the finite-weight draws, Poisson-thinned to about max_samples."""
    keep = np.isfinite(got.logw)
    u, logl, logw = got.u[keep], got.logl[keep], got.logw[keep]
    w = np.exp(logw - logw.max())
    if len(w) > max_samples:
        # c such that sum min(1, c w) = max_samples (bisection on log c)
        lo, hi = np.log(max_samples / w.sum()), np.log(max_samples / w.min()) if w.min() > 0 else 50.0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if np.minimum(1.0, np.exp(mid) * w).sum() < max_samples else (lo, mid)
        p = np.minimum(1.0, np.exp(lo) * w)
        sel = rng.random(len(w)) < p
        u, logl, w = u[sel], logl[sel], w[sel] / p[sel]
    return u, logl, w / w.sum()
