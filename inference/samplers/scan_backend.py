"""Scan sampler for the cuts mode: adaptive defensive importance sampling of an indicator likelihood.

Why not nested sampling.  In the cuts mode the likelihood is 1 inside the allowed region and 0 outside
(log L = 0 or -inf).  Nested sampling shrinks the prior volume by always replacing the live point of
lowest L with a point of higher L; on a plateau every live point has the same L, so there is no order
to shrink along.  The volume bookkeeping then assigns arbitrary weights to equal-L points and the
replacement step has nothing above the threshold (dynesty itself warns "You likely have a plateau in the
likelihood" and can fail with "No live points are above loglstar").  MCMC (emcee) can wander inside an
allowed island, but it cannot jump between disconnected islands and gives no evidence.

What this does instead.  The posterior is simply the prior restricted to the allowed region and the
evidence is that region's prior volume fraction.  Batches are drawn in the unit cube from defensive
mixtures (scan_proposal): alpha x the uniform cube + Gaussian clusters fitted to the points accepted so far,
refitted whenever their number has doubled.  The first fitted proposal comes from one of two starts:

* a pilot (scan_pilot): sequential Monte Carlo on a smooth version of the problem
  (`SamplingProblem.pilot_log_likelihood`: the cuts softened, then hardened in steps; without one, the
  likelihood itself is tempered), for allowed regions too small for prior draws to find;
* otherwise, plain prior draws until `min_accepted` points are in.

Weights.  The evidence uses each draw's own proposal, Z = mean over all draws of L(u) / q_b(u) (the
prior is uniform in the cube): unbiased whatever the proposals were (each is fixed before its batch is
drawn; the pilot's particles are never part of the estimate), with the standard error of that mean as its
error and batch-bootstrap replicas in `logz_resampled`.  The posterior weights use the deterministic mixture
of all proposals used, L(u) / sum_j (N_j / N) q_j(u) (the balance heuristic of multiple importance
sampling, Veach & Guibas 1995; as in AMIS, Cornuet et al. 2012): with each batch's own q, the few points
found by the first pure-prior batches would carry weights ~1 / Z times larger than the later ones and the
effective sample size would never grow.

Memory and checkpoint.  The estimator is kept as running per-batch sums (draws, sum of weights, sum of
squared weights); the accepted points as a uniform reservoir of at most `max_points` (Vitter's algorithm R:
every accepted point is kept with the same probability, so the reservoir is an unbiased thinning and its
balance-heuristic weights stay right).  Every `checkpoint_every` seconds and at the end the state (sums,
reservoir, proposals, generator state) is written to `outdir/scan.npz` through a temporary file and a
rename; resume reloads it and continues exactly.
"""

from __future__ import annotations

import json
import logging
import os
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import logsumexp

from inference.samplers import SamplerOutput, StopKind, StopReason, check_settings, interrupt
from inference.samplers.checkpoint_auth import CheckpointError
from inference.samplers.pool import PoolHandle, map_chunked
from inference.samplers.problem import SamplingProblem, evaluate_log_posterior, evaluate_pilot_log_likelihood
from inference.samplers.progress import Progress
from inference.samplers.scan_pilot import run_pilot
from inference.samplers.scan_proposal import Mixture, fit
from physics.errors import DarkportalError

log = logging.getLogger(__name__)

CHECKPOINT = "scan.npz"
FORMAT = 2  # checkpoint layout; 1 (no 'format' key) stored every accepted point

RESUMABLE = frozenset({"n_eff", "max_calls", "progress_every", "checkpoint_every"})
DEFAULTS: dict[str, Any] = {
    "batch_size": 4096,
    "n_eff": 2000,  # stop when the Kish effective sample size of the accepted points reaches this
    "max_calls": 10_000_000,
    "alpha": 0.2,  # weight of the defensive uniform component
    "n_components": 8,
    "scale": 2.0,  # covariance inflation of the mixture components
    "min_accepted": 30,  # accepted points before the first fitted proposal (then refit on each doubling)
    "n_resample": 20,
    "pilot_particles": 4000,  # SMC particles of the pilot (0: no pilot)
    "pilot_steps": 10,  # Metropolis moves per particle and tempering stage
    "pilot_ess": 0.8,  # fraction of the effective sample size kept by each tempering step
    "pilot_max_calls": 5_000_000,
    "max_points": 100_000,  # reservoir of accepted points kept (and stored in the results)
    "checkpoint_every": 10.0,  # seconds between checkpoints (0: after every batch)
    "progress_every": 10.0,
}

_ARRAYS = ("u", "logl", "logq", "batch_n", "batch_logs", "batch_logs2", "prop_n", "prop_frac", "prop_means",
           "prop_covs")
_SCALARS = ("ncall", "n_seen", "fit_at", "pilot_calls")


class _Chunk:
    """Picklable (N, d) -> (N,) log-likelihood (or pilot log-likelihood) inside the prior support."""

    def __init__(self, problem: SamplingProblem, pilot: bool = False) -> None:
        self.problem, self.pilot = problem, pilot

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.pilot:
            return evaluate_pilot_log_likelihood(self.problem, x)
        return evaluate_log_posterior(self.problem, x)[1]


class _OnCube:
    """Unit-cube points -> log values of `chunk` (-inf outside the cube), through the pool."""

    def __init__(self, problem: SamplingProblem, chunk: _Chunk, pool: PoolHandle | None) -> None:
        self.problem, self.chunk, self.pool = problem, chunk, pool

    def __call__(self, u: np.ndarray) -> np.ndarray:
        out = np.full(len(u), -np.inf)
        inside = np.all((u >= 0.0) & (u <= 1.0), axis=1)
        if inside.any():
            v = np.asarray(self.problem.prior_transform(u[inside]), dtype=float)
            out[inside] = map_chunked(self.pool, self.chunk, v)
        return out


def _proposals(state: dict[str, Any], opts: dict[str, Any]) -> list[Mixture]:
    return [Mixture(float(opts["alpha"]), f, m, c)
            for f, m, c in zip(state["prop_frac"], state["prop_means"], state["prop_covs"], strict=True)]


def _posterior_logw(state: dict[str, Any]) -> np.ndarray:
    """Balance-heuristic log-weights of the stored points: log L - log sum_j (N_j / N) q_j(u).

    `logq` caches log q_j(u_i) for every stored point i and proposal j, so this costs O(points x proposals)
    additions, no density calls.
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
    if int(opts["n_eff"]) > int(opts["max_points"]):
        raise ValueError(f"scan: n_eff = {opts['n_eff']} cannot exceed max_points = {opts['max_points']} "
                         "(the effective sample size is that of the stored points)")
    path = outdir / CHECKPOINT
    t0 = time.monotonic()
    target = _OnCube(problem, _Chunk(problem), pool)
    if resume and path.exists():
        state, rng = _load(path)
        log.info("scan: resuming from %s after %d batches", path, len(state["batch_n"]))
    else:
        state, rng = _new_state(problem.ndim, opts), np.random.default_rng(np.random.SeedSequence([seed, 4]))
        _start(state, problem, target, opts, rng, pool)
        _save(path, state, rng)
    progress = Progress("scan", total=float(opts["n_eff"]), unit="ESS", every=float(opts["progress_every"]))
    last_save, ess, checked_at = time.monotonic(), 0.0, -1
    while True:
        if state["n_seen"] != checked_at:  # the weights change only as points arrive (or proposals do)
            ess, checked_at = _kish(_posterior_logw(state)), state["n_seen"]
        if ess >= float(opts["n_eff"]):
            stop = StopReason(StopKind.CONVERGED, f"effective sample size {ess:.0f} >= n_eff = {opts['n_eff']}")
            break
        if state["ncall"] >= int(opts["max_calls"]):
            stop = StopReason(StopKind.CALL_CAP, _cap_reason(state, opts, ess))
            break
        progress.update(ess, f"{int(state['batch_n'].sum()):,} draws, {state['ncall']:,} likelihood calls, "
                        f"{state['n_seen']:,} accepted, {len(state['prop_n'])} proposals")
        with interrupt.deferred():
            _batch(state, target, opts, rng)
            if time.monotonic() - last_save >= float(opts["checkpoint_every"]):
                _save(path, state, rng)
                last_save = time.monotonic()
            # Ctrl-C / SIGTERM: save the finished batch, then stop here
            interrupt.checkpoint_point(lambda: _save(path, state, rng))
    _save(path, state, rng)
    if len(state["logl"]) == 0:
        raise RuntimeError(f"scan: no allowed point in {state['ncall']} likelihood calls; the allowed region is "
                           "empty or too small for these draws: check the cuts with `darkportal predict`, raise "
                           "max_calls, or (cuts mode) raise pilot_particles / pilot_max_calls")
    progress.close(stop.text)
    if not stop.converged:
        log.warning("scan: %s", stop.text)
    return _output(problem, state, opts, seed, stop, time.monotonic() - t0)


def _cap_reason(state: dict[str, Any], opts: dict[str, Any], ess: float) -> str:
    """One line: the call cap was hit with too few points, and what to change."""
    cap, want = int(opts["max_calls"]), int(opts["n_eff"])
    if ess <= 0:
        hint = ("no allowed point was found: check the cuts with `darkportal predict`, or raise pilot_particles "
                "/ pilot_max_calls so that the pilot can find the region")
    else:
        calls = state["ncall"] * want / ess
        hint = f"raise max_calls to ~{calls:.2g} (at the rate so far) or lower n_eff"
    return (f"stopped at max_calls = {cap} with effective sample size {ess:.0f} < n_eff = {want} "
            f"(NOT enough points): {hint}")


def _new_state(d: int, opts: dict[str, Any]) -> dict[str, Any]:
    k = int(opts["n_components"])
    return {"u": np.empty((0, d)), "logl": np.empty(0), "logq": np.empty((0, 1)),
            "batch_n": np.empty(0, dtype=np.int64), "batch_logs": np.empty(0), "batch_logs2": np.empty(0),
            "ncall": 0, "n_seen": 0, "fit_at": 0, "pilot_calls": 0, "pilot_reason": "no pilot",
            # proposal 0 is the prior (uniform in the cube): all-zero component fractions
            "prop_n": np.zeros(1, dtype=np.int64), "prop_frac": np.zeros((1, k)),
            "prop_means": np.zeros((1, k, d)), "prop_covs": np.tile(np.eye(d), (1, k, 1, 1))}


def _start(state: dict[str, Any], problem: SamplingProblem, target: _OnCube, opts: dict[str, Any],
           rng: np.random.Generator, pool: PoolHandle | None) -> None:
    """Run the pilot and make its particles the first fitted proposal (nothing if it found too little)."""
    n = int(opts["pilot_particles"])
    if n <= 0 or float(opts["alpha"]) >= 1.0:
        return
    pilot = target if problem.pilot_log_likelihood is None else _OnCube(problem, _Chunk(problem, True), pool)
    t0 = time.monotonic()
    res = run_pilot(pilot, target, problem.ndim, rng, n, int(opts["pilot_steps"]), int(opts["pilot_max_calls"]),
                    step_ess=float(opts["pilot_ess"]))
    state["ncall"] += res.calls
    state["pilot_calls"], state["pilot_reason"] = res.calls, res.reason
    distinct = len(np.unique(res.u, axis=0))
    log.info("scan pilot: %s after %d stages, %d calls, %.1f s; %d distinct particles", res.reason, res.stages,
             res.calls, time.monotonic() - t0, distinct)
    if distinct < 5 * (problem.ndim + 1) or (not res.reached and res.beta == 0.0):
        log.info("scan pilot: too little to fit a proposal; starting from prior draws")
        return
    _add_proposal(state, fit(res.u, np.ones(len(res.u)), opts, rng))
    state["fit_at"] = distinct  # the next refit once the accepted points outnumber them twice


def _add_proposal(state: dict[str, Any], params: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    frac, means, covs = params
    state["prop_n"] = np.append(state["prop_n"], 0)
    state["prop_frac"] = np.concatenate([state["prop_frac"], frac[None]])
    state["prop_means"] = np.concatenate([state["prop_means"], means[None]])
    state["prop_covs"] = np.concatenate([state["prop_covs"], covs[None]])


def _maybe_refit(state: dict[str, Any], opts: dict[str, Any], rng: np.random.Generator) -> None:
    """Add a new proposal once the accepted points reach min_accepted and then each time they double."""
    if state["n_seen"] < max(int(opts["min_accepted"]), 2 * int(state["fit_at"])) or float(opts["alpha"]) >= 1.0:
        return
    logw = _posterior_logw(state)
    _add_proposal(state, fit(state["u"], np.exp(logw - logw.max()), opts, rng))
    alpha = float(opts["alpha"])
    column = Mixture(alpha, state["prop_frac"][-1], state["prop_means"][-1], state["prop_covs"][-1]).logpdf(
        state["u"])
    state["logq"] = np.column_stack([state["logq"], column])
    state["fit_at"] = state["n_seen"]


def _batch(state: dict[str, Any], target: _OnCube, opts: dict[str, Any], rng: np.random.Generator) -> None:
    n = int(opts["batch_size"])
    _maybe_refit(state, opts, rng)
    mixtures = _proposals(state, opts)
    if state["logq"].shape[1] < len(mixtures):  # a proposal added by the pilot: no stored point yet
        state["logq"] = np.column_stack([state["logq"], *[m.logpdf(state["u"]) for m in
                                                          mixtures[state["logq"].shape[1]:]]])
    mix = mixtures[-1]
    u = mix.sample(n, rng)
    inside = np.all((u >= 0.0) & (u <= 1.0), axis=1)
    logl = target(u)
    logw = logl - mix.logpdf(u)
    state["ncall"] += int(inside.sum())
    state["prop_n"][-1] += n
    state["batch_n"] = np.append(state["batch_n"], n)
    state["batch_logs"] = np.append(state["batch_logs"], logsumexp(logw) if np.any(logw > -np.inf) else -np.inf)
    state["batch_logs2"] = np.append(state["batch_logs2"],
                                     logsumexp(2 * logw) if np.any(logw > -np.inf) else -np.inf)
    keep = np.isfinite(logl)
    if keep.any():
        rows = np.column_stack([m.logpdf(u[keep]) for m in mixtures])
        _reservoir_add(state, u[keep], logl[keep], rows, int(opts["max_points"]), rng)


def _reservoir_add(state: dict[str, Any], u: np.ndarray, logl: np.ndarray, logq: np.ndarray, cap: int,
                   rng: np.random.Generator) -> None:
    """Algorithm R (Vitter 1985) over the accepted points in arrival order: the t-th point (0-based) is kept
    with probability cap / (t + 1), replacing a uniformly chosen stored one."""
    seen, stored = int(state["n_seen"]), len(state["logl"])
    room = max(0, min(cap - stored, len(logl)))
    if room:
        state["u"] = np.concatenate([state["u"], u[:room]])
        state["logl"] = np.concatenate([state["logl"], logl[:room]])
        state["logq"] = np.concatenate([state["logq"], logq[:room]])
    rest = np.arange(room, len(logl))
    if len(rest):
        slot = rng.integers(0, seen + rest + 1)  # t = seen + i for the i-th new point
        take = slot < cap
        # in arrival order, a later point replacing the same slot wins: keep the last of each slot
        slots, last = np.unique(slot[take][::-1], return_index=True)
        src = rest[take][::-1][last]
        state["u"][slots], state["logl"][slots], state["logq"][slots] = u[src], logl[src], logq[src]
    state["n_seen"] = seen + len(logl)


def _kish(logw: np.ndarray) -> float:
    if len(logw) == 0:
        return 0.0
    w = np.exp(logw - logw.max())
    return float(w.sum() ** 2 / np.sum(w**2))


def _logz(batch_n: np.ndarray, batch_logs: np.ndarray) -> float:
    return float(logsumexp(batch_logs) - np.log(batch_n.sum())) if np.any(batch_logs > -np.inf) else -np.inf


def _output(problem: SamplingProblem, state: dict[str, Any], opts: dict[str, Any], seed: int, stop: StopReason,
            wall: float) -> SamplerOutput:
    bn, bls = state["batch_n"], state["batch_logs"]
    ndraw = int(bn.sum())
    logz = _logz(bn, bls)
    # Standard error of the mean own-proposal weight over all draws (rejected draws have weight 0).
    mean_w2 = np.exp(logsumexp(state["batch_logs2"]) - np.log(ndraw))
    var = max(mean_w2 - np.exp(2 * logz), 0.0) / max(ndraw - 1, 1)
    logz_err = float(np.sqrt(var) / np.exp(logz))
    rng = np.random.default_rng(np.random.SeedSequence([seed, 5]))
    replicas = [_logz(bn[i], bls[i]) for i in (rng.integers(0, len(bn), len(bn)) for _ in range(int(
        opts["n_resample"])))] if len(bn) > 1 else []
    post = _posterior_logw(state)
    weights = np.exp(post - post.max())
    weights /= weights.sum()
    info = {"ncall": int(state["ncall"]), "ndraw": ndraw, "niter": len(bn), "n_accepted": int(state["n_seen"]),
            "n_stored": len(post), "n_proposals": len(state["prop_n"]),
            "efficiency": int(state["n_seen"]) / max(int(state["ncall"]), 1), "kish_ess": _kish(post),
            "pilot_calls": int(state["pilot_calls"]), "pilot": str(state["pilot_reason"]),
            "wall_time": wall, "settings": opts,
            "logz_resampled_std": float(np.std(replicas, ddof=1)) if len(replicas) > 1 else None}
    samples = np.asarray(problem.prior_transform(state["u"]), dtype=float)
    return SamplerOutput(names=problem.names, samples=samples, weights=weights, logl=state["logl"],
                         logz=logz, logz_err=logz_err, info=info, logz_resampled=replicas, stop=stop)


def _save(path: Path, state: dict[str, Any], rng: np.random.Generator) -> None:
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, format=FORMAT, rng=json.dumps(rng.bit_generator.state), pilot_reason=str(state["pilot_reason"]),
             **{k: state[k] for k in _SCALARS}, **{k: state[k] for k in _ARRAYS})
    os.replace(tmp, path)


class ScanCheckpointError(DarkportalError, ValueError):
    """scan.npz cannot be resumed (written by an older layout, or not a scan checkpoint)."""


def _load(path: Path) -> tuple[dict[str, Any], np.random.Generator]:
    try:
        return _load_arrays(path)
    except ScanCheckpointError as exc:
        raise CheckpointError(path, str(exc), "Start the run again with 'darkportal run RUN.yaml --force' "
                              "(without --resume)") from None
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):  # np.load never unpickles here
        why = "it is empty" if path.stat().st_size == 0 else "damaged, truncated or not a scan checkpoint"
        raise CheckpointError(path, f"the scan checkpoint cannot be read ({why})",
                              "Start the run again with 'darkportal run RUN.yaml --force' (without --resume)") from None


def _load_arrays(path: Path) -> tuple[dict[str, Any], np.random.Generator]:
    with np.load(path, allow_pickle=False) as data:
        if "format" not in data or int(data["format"]) != FORMAT:
            raise ScanCheckpointError(f"a scan checkpoint of another layout (this darkportal writes format "
                                      f"{FORMAT})")
        state: dict[str, Any] = {k: data[k] for k in _ARRAYS}
        state.update({k: int(data[k]) for k in _SCALARS})
        state["pilot_reason"] = str(data["pilot_reason"])
        rng = np.random.default_rng()
        rng.bit_generator.state = json.loads(str(data["rng"]))
    return state, rng
