"""Scan sampler for the cuts mode: adaptive defensive importance sampling of an indicator likelihood.

Why not nested sampling.  In the cuts mode the likelihood is 1 inside the allowed region and 0 outside
(log L = 0 or -inf).  Nested sampling shrinks the prior volume by always replacing the live point of
lowest L with a point of higher L; on a plateau every live point has the same L, so there is no order
to shrink along.  The volume bookkeeping then assigns arbitrary weights to equal-L points and the
replacement step has nothing above the threshold (dynesty itself warns "You likely have a plateau in the
likelihood" and can fail with "No live points are above loglstar").  MCMC (emcee) can wander inside an
allowed island, but it cannot jump between disconnected islands and gives no evidence.

What this does instead.  The posterior is simply the prior restricted to the allowed region and the
evidence is that region's prior volume fraction, so draws from the prior are already exact posterior
draws and the accepted fraction is an unbiased evidence.  When the region is small, batches are drawn
in the unit cube from the mixture

    q(u) = alpha * Uniform(cube) + (1 - alpha) * sum_k w_k N(u; mu_k, scale * Sigma_k),

refitted to the points accepted so far whenever their number has doubled (k-means clusters, one
Gaussian per cluster, so separate islands get their own component).  The defensive uniform part
(Hesterberg 1995) keeps exploring the whole box for islands not yet found and bounds the weights.

Weights.  The evidence uses each draw's own proposal, Z = mean over all draws of L(u) / q_b(u) (the
prior is uniform in the cube): unbiased, with the standard error of that mean as its error and
batch-bootstrap replicas in `logz_resampled`.  The posterior weights use the deterministic mixture of
all proposals used, L(u) / sum_j (N_j / N) q_j(u) (the balance heuristic of multiple importance
sampling, Veach & Guibas 1995; as in AMIS, Cornuet et al. 2012): with each batch's own q, the few
points found by the first pure-prior batches would carry weights ~1 / Z times larger than the later
ones and the effective sample size would never grow.  Refitting only on doubling keeps the number of
distinct proposals logarithmic in the number of accepted points, so these weights stay cheap.  The
output is the accepted points with normalised weights (a weighted draw from prior x indicator),
acceptance counts, the number of likelihood calls, and ln Z with its error.

Checkpoint: after each batch everything (accepted points, per-batch sums, generator state) is written
to `outdir/scan.npz` through a temporary file and a rename; resume reloads it and continues exactly.
"""

from __future__ import annotations

import json
import logging
import os
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from scipy.cluster.vq import kmeans2
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from inference import interrupt
from inference.checkpoint_auth import CheckpointError
from inference.pool import PoolHandle, map_chunked
from inference.problem import SamplingProblem, evaluate_log_posterior
from inference.progress import Progress
from inference.samplers import SamplerOutput, check_settings

log = logging.getLogger(__name__)

CHECKPOINT = "scan.npz"

DEFAULTS: dict[str, Any] = {
    "batch_size": 4096,
    "n_eff": 2000,  # stop when the Kish effective sample size of the accepted points reaches this
    "max_calls": 10_000_000,
    "alpha": 0.2,  # weight of the defensive uniform component
    "n_components": 8,
    "scale": 2.0,  # covariance inflation of the mixture components
    "min_accepted": 30,  # accepted points before the first fitted proposal (then refit on each doubling)
    "n_resample": 20,
    "progress_every": 10.0,
}

_ARRAYS = ("u", "v", "logl", "logw", "logq", "batch_n", "batch_logs", "prop_n", "prop_frac", "prop_means", "prop_covs")


class _LogLikelihoodChunk:
    """Picklable (N, d) -> (N,) log-likelihood inside the prior support (-inf outside)."""

    def __init__(self, problem: SamplingProblem) -> None:
        self.problem = problem

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return evaluate_log_posterior(self.problem, x)[1]


class _Mixture:
    """alpha * uniform(cube) + (1 - alpha) * sum_k frac_k N(mu_k, cov_k); all-zero `frac` is the uniform."""

    def __init__(self, alpha: float, frac: np.ndarray, means: np.ndarray, covs: np.ndarray) -> None:
        keep = frac > 0
        self.alpha = alpha if np.any(keep) else 1.0
        self.frac, self.means, self.covs = frac[keep], means[keep], covs[keep]

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        d = self.means.shape[-1]
        out = rng.random((n, d))
        if not len(self.frac):
            return out
        comp = rng.choice(len(self.frac), size=n, p=self.frac)
        gauss = rng.random(n) >= self.alpha
        for j in range(len(self.frac)):
            sel = gauss & (comp == j)
            out[sel] = rng.multivariate_normal(self.means[j], self.covs[j], size=int(sel.sum()))
        return out

    def logpdf(self, u: np.ndarray) -> np.ndarray:
        if not len(self.frac):
            return np.zeros(len(u))
        parts = [np.log(f) + multivariate_normal.logpdf(u, m, c, allow_singular=True).reshape(len(u))
                 for f, m, c in zip(self.frac, self.means, self.covs, strict=True)]
        return np.logaddexp(np.log(self.alpha), np.log1p(-self.alpha) + logsumexp(parts, axis=0))


def _fit(u: np.ndarray, w: np.ndarray, opts: dict[str, Any],
         rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frac, means, covs) padded to n_components: k-means clusters of a weighted resample of `u`."""
    n, d = u.shape
    kmax = int(opts["n_components"])
    frac, means, covs = np.zeros(kmax), np.zeros((kmax, d)), np.tile(np.eye(d), (kmax, 1, 1))
    pts = u[rng.choice(n, size=min(n, 4000), p=w / w.sum())]
    k = int(max(1, min(kmax, len(pts) // (5 * (d + 1)))))
    with warnings.catch_warnings():  # an empty cluster is harmless here: it is skipped below
        warnings.simplefilter("ignore")
        _, labels = kmeans2(pts, k, minit="++", rng=rng)
    for j in range(k):
        member = pts[labels == j]
        if len(member) > d:
            frac[j] = len(member)
            means[j] = member.mean(axis=0)
            covs[j] = np.cov(member, rowvar=False).reshape(d, d) * float(opts["scale"]) + np.eye(d) * 1e-10
    return frac / max(frac.sum(), 1.0), means, covs


def _proposals(state: dict[str, Any], opts: dict[str, Any]) -> list[_Mixture]:
    return [_Mixture(float(opts["alpha"]), f, m, c)
            for f, m, c in zip(state["prop_frac"], state["prop_means"], state["prop_covs"], strict=True)]


def _posterior_logw(state: dict[str, Any], opts: dict[str, Any]) -> np.ndarray:
    """Balance-heuristic log-weights: log L - log sum_j (N_j / N) q_j(u) over all proposals used.

    `logq` caches log q_j(u_i) for every accepted point i and proposal j (rows and columns are added
    as points and proposals arrive), so this costs O(points x proposals) additions, no density calls.
    """
    n_j = state["prop_n"].astype(float)
    if len(state["logl"]) == 0:
        return np.empty(0)
    used = n_j > 0
    mix_logq = logsumexp(state["logq"][:, used] + np.log(n_j[used] / n_j.sum()), axis=1)
    return np.asarray(state["logl"] - mix_logq)


def run(problem: SamplingProblem, settings: dict[str, Any], outdir: Path, seed: int,
        pool: PoolHandle | None, resume: bool) -> SamplerOutput:
    """Run (or resume) the scan; see the module docstring."""
    opts = check_settings("scan", settings, DEFAULTS)
    path = outdir / CHECKPOINT
    t0 = time.monotonic()
    if resume and path.exists():
        state, rng = _load(path)
        log.info("scan: resuming from %s after %d batches", path, len(state["batch_n"]))
    else:
        state, rng = _new_state(problem.ndim, opts), np.random.default_rng(np.random.SeedSequence([seed, 4]))
    fn = _LogLikelihoodChunk(problem)
    progress = Progress("scan", total=float(opts["n_eff"]), unit="ESS", every=float(opts["progress_every"]))
    while True:
        ess = _kish(_posterior_logw(state, opts))
        if ess >= float(opts["n_eff"]):
            reason = f"effective sample size {ess:.0f} >= n_eff = {opts['n_eff']}"
            break
        if state["ncall"] >= int(opts["max_calls"]):
            reason = f"stopped at max_calls = {opts['max_calls']} with effective sample size {ess:.0f}"
            break
        progress.update(ess, f"{int(state['batch_n'].sum()):,} draws, {state['ncall']:,} likelihood calls, "
                        f"{len(state['logl']):,} accepted, {len(state['prop_n'])} proposals")
        with interrupt.deferred():
            _batch(state, problem, fn, opts, rng, pool)
            _save(path, state, rng)
            interrupt.checkpoint_point(lambda: None)  # Ctrl-C / SIGTERM: the batch is saved; stop here
    if len(state["logl"]) == 0:
        raise RuntimeError(f"scan: no allowed point in {state['ncall']} likelihood calls; the allowed region "
                           "is empty or below the resolution of the prior draws")
    progress.close(reason)
    return _output(problem, state, opts, seed, reason, time.monotonic() - t0)


def _new_state(d: int, opts: dict[str, Any]) -> dict[str, Any]:
    k = int(opts["n_components"])
    return {"u": np.empty((0, d)), "v": np.empty((0, d)), "logl": np.empty(0), "logw": np.empty(0),
            "logq": np.empty((0, 1)), "batch_n": np.empty(0, dtype=np.int64), "batch_logs": np.empty(0), "ncall": 0,
            # proposal 0 is the prior (uniform in the cube): all-zero component fractions
            "prop_n": np.zeros(1, dtype=np.int64), "prop_frac": np.zeros((1, k)),
            "prop_means": np.zeros((1, k, d)), "prop_covs": np.tile(np.eye(d), (1, k, 1, 1))}


def _maybe_refit(state: dict[str, Any], opts: dict[str, Any], rng: np.random.Generator) -> None:
    """Add a new proposal once the accepted points reach min_accepted and then each time they double."""
    n_acc, n_prop = len(state["logl"]), len(state["prop_n"])
    needed = int(opts["min_accepted"]) * 2 ** (n_prop - 1)
    if n_acc < needed or float(opts["alpha"]) >= 1.0:
        return
    logw = _posterior_logw(state, opts)
    frac, means, covs = _fit(state["u"], np.exp(logw - logw.max()), opts, rng)
    state["prop_n"] = np.append(state["prop_n"], 0)
    state["prop_frac"] = np.concatenate([state["prop_frac"], frac[None]])
    state["prop_means"] = np.concatenate([state["prop_means"], means[None]])
    state["prop_covs"] = np.concatenate([state["prop_covs"], covs[None]])
    column = _proposals(state, opts)[-1].logpdf(state["u"])
    state["logq"] = np.column_stack([state["logq"], column])


def _batch(state: dict[str, Any], problem: SamplingProblem, fn: _LogLikelihoodChunk, opts: dict[str, Any],
           rng: np.random.Generator, pool: PoolHandle | None) -> None:
    n = int(opts["batch_size"])
    _maybe_refit(state, opts, rng)
    mix = _proposals(state, opts)[-1]
    u = mix.sample(n, rng)
    inside = np.all((u >= 0.0) & (u <= 1.0), axis=1)
    logq = mix.logpdf(u)
    logl = np.full(n, -np.inf)
    v = np.asarray(problem.prior_transform(u[inside]), dtype=float)
    if len(v):
        logl[inside] = map_chunked(pool, fn, v)
    logw = logl - logq
    state["ncall"] += int(inside.sum())
    state["prop_n"][-1] += n
    state["batch_n"] = np.append(state["batch_n"], n)
    state["batch_logs"] = np.append(state["batch_logs"], logsumexp(logw) if np.any(logw > -np.inf) else -np.inf)
    keep = np.isfinite(logl)
    vfull = np.empty((n, problem.ndim))
    vfull[inside] = v
    rows = np.column_stack([mix.logpdf(u[keep]) for mix in _proposals(state, opts)])
    for key, new in (("u", u[keep]), ("v", vfull[keep]), ("logl", logl[keep]), ("logw", logw[keep]),
                     ("logq", rows)):
        state[key] = np.concatenate([state[key], new])


def _kish(logw: np.ndarray) -> float:
    if len(logw) == 0:
        return 0.0
    w = np.exp(logw - logw.max())
    return float(w.sum() ** 2 / np.sum(w**2))


def _logz(batch_n: np.ndarray, batch_logs: np.ndarray) -> float:
    return float(logsumexp(batch_logs) - np.log(batch_n.sum())) if np.any(batch_logs > -np.inf) else -np.inf


def _output(problem: SamplingProblem, state: dict[str, Any], opts: dict[str, Any], seed: int, reason: str,
            wall: float) -> SamplerOutput:
    logw, bn, bls = state["logw"], state["batch_n"], state["batch_logs"]
    ndraw = int(bn.sum())
    logz = _logz(bn, bls)
    # Standard error of the mean own-proposal weight over all draws (rejected draws have weight 0).
    mean_w2 = np.exp(logsumexp(2 * logw) - np.log(ndraw))
    var = max(mean_w2 - np.exp(2 * logz), 0.0) / max(ndraw - 1, 1)
    logz_err = float(np.sqrt(var) / np.exp(logz))
    rng = np.random.default_rng(np.random.SeedSequence([seed, 5]))
    replicas = [_logz(bn[i], bls[i]) for i in (rng.integers(0, len(bn), len(bn)) for _ in range(int(
        opts["n_resample"])))] if len(bn) > 1 else []
    post = _posterior_logw(state, opts)
    weights = np.exp(post - post.max())
    weights /= weights.sum()
    info = {"ncall": int(state["ncall"]), "ndraw": ndraw, "niter": len(bn), "n_accepted": len(logw),
            "n_proposals": len(state["prop_n"]), "efficiency": len(logw) / max(int(state["ncall"]), 1),
            "kish_ess": _kish(post), "stop_reason": reason, "wall_time": wall, "settings": opts,
            "logz_resampled_std": float(np.std(replicas, ddof=1)) if len(replicas) > 1 else None}
    return SamplerOutput(names=problem.names, samples=state["v"], weights=weights, logl=state["logl"],
                         logz=logz, logz_err=logz_err, info=info, logz_resampled=replicas)


def _save(path: Path, state: dict[str, Any], rng: np.random.Generator) -> None:
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, ncall=state["ncall"], rng=json.dumps(rng.bit_generator.state),
             **{k: state[k] for k in _ARRAYS})
    os.replace(tmp, path)


def _load(path: Path) -> tuple[dict[str, Any], np.random.Generator]:
    try:
        return _load_arrays(path)
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):  # np.load never unpickles here
        why = "it is empty" if path.stat().st_size == 0 else "damaged, truncated or not a scan checkpoint"
        raise CheckpointError(path, f"the scan checkpoint cannot be read ({why})",
                              "Start the run again with 'darkportal run RUN.yaml --force' (without --resume)") from None


def _load_arrays(path: Path) -> tuple[dict[str, Any], np.random.Generator]:
    with np.load(path, allow_pickle=False) as data:
        state: dict[str, Any] = {k: data[k] for k in _ARRAYS}
        state["ncall"] = int(data["ncall"])
        rng = np.random.default_rng()
        rng.bit_generator.state = json.loads(str(data["rng"]))
    return state, rng
