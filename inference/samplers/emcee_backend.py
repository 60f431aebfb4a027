"""emcee adapter: affine-invariant ensemble MCMC with an HDF5 backend, resume and an autocorrelation stop.

Every completed step is written to `outdir/chain.h5` by `emcee.backends.HDFBackend` (the step's
`iteration` counter is written last, so a kill during a write loses only the unfinished step), and the
generator state is stored with each step, so a resumed chain continues exactly as the uninterrupted
chain would have.  As a guard against a kill corrupting the HDF5 file itself, a copy
`chain.h5.bak` is refreshed atomically every `backup_every` seconds and used if the main file cannot
be read.

Stop rule: the chain is longer than `tau_factor` (default 50) times the largest integrated
autocorrelation time and that estimate changed by less than `tau_rtol` since the previous check
(emcee documentation's criterion), or the step cap `max_steps` is reached; `info["stop_reason"]` says
which.  Output: burn-in 2 tau discarded, thinned by tau / 2, walkers kept as chains (chain-major rows).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

import emcee
import numpy as np

from inference.pool import ChunkedFunction, PoolHandle
from inference.problem import SamplingProblem, VectorLogPosterior, evaluate_log_posterior
from inference.samplers import ProgressLog, SamplerOutput, check_settings

log = logging.getLogger(__name__)

CHAIN = "chain.h5"

DEFAULTS: dict[str, Any] = {
    "nwalkers": None,  # default max(32, 4 d), rounded up to an even number
    "max_steps": 20000,
    "tau_factor": 50.0,
    "tau_rtol": 0.01,
    "check_every": 100,
    "backup_every": 60.0,
    "progress_every": 10.0,
}


class _StepBackend(emcee.backends.HDFBackend):
    """HDFBackend without the per-step consistency re-reads (each opens the file; the shapes are ours).

    Still one open / write / close per completed step, with `iteration` written last.
    """

    def _check(self, state: Any, accepted: Any) -> None:
        return None

    def _check_blobs(self, blobs: Any) -> None:
        if blobs is not None:
            raise ValueError("the emcee adapter stores no blobs in the chain file")


def run(problem: SamplingProblem, settings: dict[str, Any], outdir: Path, seed: int,
        pool: PoolHandle | None, resume: bool) -> SamplerOutput:
    """Run (or resume) an emcee chain; see the module docstring."""
    opts = check_settings("emcee", settings, DEFAULTS)
    d = problem.ndim
    nwalkers = int(opts["nwalkers"] or max(32, 4 * d))
    nwalkers += nwalkers % 2
    if nwalkers < 2 * d:
        raise ValueError(f"emcee needs nwalkers >= 2 x {d} parameters; got {nwalkers}")
    path = outdir / CHAIN
    t0 = time.monotonic()
    backend = _open_backend(path) if resume and path.exists() else None
    start_iteration = int(backend.iteration) if backend is not None else 0
    if backend is None or start_iteration == 0:
        if resume:
            log.info("emcee: nothing to resume in %s; starting a new chain", outdir)
        backend = _StepBackend(str(path))
        backend.reset(nwalkers, d)
        initial: np.ndarray | None = _initial_walkers(problem, nwalkers, seed)
    else:
        if backend.shape != (nwalkers, d):
            raise ValueError(f"emcee: {path} holds {backend.shape[0]} walkers x {backend.shape[1]} parameters, "
                             f"the run asks for {nwalkers} x {d}; use --force to start again")
        log.info("emcee: resuming %s at step %d", path, start_iteration)
        initial = None
    logprob = ChunkedFunction(VectorLogPosterior(problem), pool)
    sampler = emcee.EnsembleSampler(nwalkers, d, logprob, backend=backend, vectorize=True)
    if initial is not None:
        seq = np.random.SeedSequence([seed, 2])
        sampler.random_state = np.random.RandomState(np.random.MT19937(seq)).get_state()
    stop_reason, tau = _run_chain(sampler, backend, initial, opts, path)
    out = _output(problem, backend, tau, nwalkers)
    out.info.update(stop_reason=stop_reason, wall_time=time.monotonic() - t0,
                    resumed_from_step=start_iteration if initial is None else None, settings=opts,
                    chain_file=str(path))
    return out


def _run_chain(sampler: emcee.EnsembleSampler, backend: Any, initial: np.ndarray | None,
               opts: dict[str, Any], path: Path) -> tuple[str, np.ndarray]:
    max_steps, every = int(opts["max_steps"]), int(opts["check_every"])
    factor, rtol = float(opts["tau_factor"]), float(opts["tau_rtol"])
    progress = ProgressLog("emcee", float(opts["progress_every"]))
    last_backup = time.monotonic()
    state = initial
    while True:
        it = backend.iteration
        tau, converged = _check(backend, every, factor, rtol) if it >= every else (np.full(1, np.nan), False)
        if converged:
            reason = (f"converged: {it} steps > {factor:g} x max autocorrelation time {np.max(tau):.1f}, "
                      f"estimate stable to {rtol:g}")
            break
        if it >= max_steps:
            reason = f"stopped at the step cap max_steps = {max_steps}: NOT converged (max tau {np.max(tau):.1f})"
            break
        progress(f"step {it}/{max_steps}, max tau {np.max(tau):.1f}, needs > {factor:g} tau steps, "
                 f"acceptance {np.mean(backend.accepted) / max(it, 1):.2f}")
        nsteps = min(every - it % every, max_steps - it)
        sampler.run_mcmc(state, nsteps, progress=False)
        state = None
        if time.monotonic() - last_backup > float(opts["backup_every"]):
            _backup(path)
            last_backup = time.monotonic()
    progress(reason, force=True)
    _backup(path)
    return reason, tau


def _check(backend: Any, every: int, factor: float, rtol: float) -> tuple[np.ndarray, bool]:
    """(tau, converged); tau from the whole chain, compared with tau from the chain one check earlier."""
    chain = backend.get_chain()
    tau = emcee.autocorr.integrated_time(chain, tol=0)
    prev = emcee.autocorr.integrated_time(chain[:-every], tol=0) if len(chain) >= 2 * every else tau * np.inf
    stable = bool(np.all(np.abs(prev - tau) / tau < rtol))
    return tau, bool(np.all(factor * tau < len(chain))) and stable


def _initial_walkers(problem: SamplingProblem, nwalkers: int, seed: int, tries: int = 100) -> np.ndarray:
    """Walkers drawn from the prior (prior transform of uniform draws) with a finite log-posterior."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 3]))
    found: list[np.ndarray] = []
    n = 0
    for _ in range(tries):
        x = np.asarray(problem.prior_transform(rng.random((max(4 * nwalkers, 256), problem.ndim))), dtype=float)
        good = x[np.isfinite(evaluate_log_posterior(problem, x)[0])]
        found.append(good)
        n += len(good)
        if n >= nwalkers:
            return np.concatenate(found)[:nwalkers]
    raise RuntimeError(f"emcee: only {n} of {tries * max(4 * nwalkers, 256)} prior draws have a finite "
                       f"posterior, fewer than the {nwalkers} walkers; widen the prior or use the scan sampler")


def _open_backend(path: Path) -> Any:
    """The HDF5 backend at `path`, or its backup copy if a kill corrupted the file."""
    for candidate in (path, path.with_name(path.name + ".bak")):
        if not candidate.exists():
            continue
        try:
            backend = _StepBackend(str(candidate))
            if backend.iteration > 0:
                backend.get_last_sample()
            if candidate != path:
                log.warning("emcee: %s is unreadable; continuing from the backup %s (step %d)",
                            path, candidate, backend.iteration)
                shutil.copyfile(candidate, path)
                backend = _StepBackend(str(path))
            return backend
        except (OSError, KeyError, ValueError) as exc:
            log.warning("emcee: cannot read %s (%s)", candidate, exc)
    return None


def _backup(path: Path) -> None:
    """Copy the chain file to `.bak` through a temporary file and an atomic rename."""
    tmp = path.with_name(path.name + ".bak.tmp")
    shutil.copyfile(path, tmp)
    os.replace(tmp, path.with_name(path.name + ".bak"))


def _output(problem: SamplingProblem, backend: Any, tau: np.ndarray, nwalkers: int) -> SamplerOutput:
    tau_max = float(np.max(tau)) if np.all(np.isfinite(tau)) else 1.0
    burn, thin = int(np.ceil(2 * tau_max)), max(1, int(tau_max / 2))
    iteration = backend.iteration
    if burn >= iteration - 1:
        log.warning("emcee: burn-in %d >= chain length %d; keeping the second half instead", burn, iteration)
        burn = iteration // 2
    chain = backend.get_chain(discard=burn, thin=thin)  # (steps, walkers, d)
    samples = np.ascontiguousarray(chain.transpose(1, 0, 2).reshape(-1, problem.ndim))
    logpost = backend.get_log_prob(discard=burn, thin=thin).T.reshape(-1)
    logl = logpost - np.asarray(problem.log_prior(samples), dtype=float)
    n = len(samples)
    info = {
        "ncall": int(nwalkers * (iteration + 1)),
        "niter": int(iteration),
        "nwalkers": nwalkers,
        "efficiency": float(np.mean(backend.accepted) / max(iteration, 1)),
        "acceptance_fraction": float(np.mean(backend.accepted) / max(iteration, 1)),
        "autocorr_time": [float(t) for t in np.atleast_1d(tau)],
        "burn_in": burn,
        "thin": thin,
    }
    return SamplerOutput(names=problem.names, samples=samples, weights=np.full(n, 1.0 / n), logl=logl,
                         logz=float("nan"), logz_err=None, info=info, chains=nwalkers)
