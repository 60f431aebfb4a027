"""emcee adapter: affine-invariant ensemble MCMC with an HDF5 backend, resume and an autocorrelation stop.

Completed steps are buffered in memory and appended to `outdir/chain.h5` (the format of
`emcee.backends.HDFBackend`) in one write at every convergence check and at least every `flush_every`
seconds; the `iteration` counter is written last, so a kill loses at most the steps since the last write,
and the generator state is stored with them, so a resumed chain continues exactly as the uninterrupted
chain would have. (One file open per step cost ~2 ms, far more than a step on the compiled likelihood.)
As a guard against a kill corrupting the HDF5 file itself, a copy
`chain.h5.bak` is refreshed atomically every `backup_every` seconds and used if the main file cannot
be read.

Stop rule: the chain is longer than `tau_factor` (default 50) times the largest integrated
autocorrelation time and that estimate changed by less than `tau_rtol` since the previous check
(emcee documentation's criterion), or the step cap `max_steps` is reached; `info["stop_reason"]` says
which. Checks come every `check_every` steps, then every 5 % of the chain once it is longer than 20
`check_every` (a check reads the whole chain and costs O(length), so fixed spacing would cost O(length^2));
the schedule depends only on the step number, so a resumed chain stops where the uninterrupted one does.
Output: burn-in 2 tau discarded, thinned by tau / 2, walkers kept as chains (chain-major rows).
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

from inference import interrupt
from inference.checkpoint_auth import CheckpointError, hdf5_reason
from inference.pool import ChunkedFunction, PoolHandle
from inference.problem import SamplingProblem, VectorLogPosterior, evaluate_log_posterior
from inference.progress import Progress
from inference.samplers import SamplerOutput, check_settings

log = logging.getLogger(__name__)

CHAIN = "chain.h5"

DEFAULTS: dict[str, Any] = {
    "nwalkers": None,  # default max(32, 4 d), rounded up to an even number
    "max_steps": 20000,
    "tau_factor": 50.0,
    "tau_rtol": 0.01,
    "check_every": 100,
    "backup_every": 60.0,
    "flush_every": 5.0,
    "progress_every": 10.0,
}


class _BufferedBackend(emcee.backends.HDFBackend):
    """Steps kept in memory by ``save_step`` and appended to the file by :meth:`flush` in one open (also from
    ``save_step`` itself once ``flush_every`` seconds have passed). Readers of the file see only flushed
    steps: flush before reading."""

    def __init__(self, *args: Any, flush_every: float = 5.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.flush_every = flush_every
        self._rows: list[tuple[np.ndarray, np.ndarray]] = []
        self._accepted: np.ndarray | None = None
        self._random_state: Any = None
        self._last_flush = time.monotonic()

    def save_step(self, state: Any, accepted: Any) -> None:
        self._rows.append((np.array(state.coords, dtype=float), np.array(state.log_prob, dtype=float)))
        acc = np.asarray(accepted, dtype=int)
        self._accepted = acc.copy() if self._accepted is None else self._accepted + acc
        self._random_state = state.random_state
        if time.monotonic() - self._last_flush > self.flush_every:
            self.flush()
        interrupt.checkpoint_point(self.flush)  # Ctrl-C / SIGTERM: keep every finished step, then stop

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        if not self._rows:
            return
        n = len(self._rows)
        with self.open("a") as f:
            g = f[self.name]
            it = int(g.attrs["iteration"])
            if g["chain"].shape[0] < it + n:
                g["chain"].resize(it + n, axis=0)
                g["log_prob"].resize(it + n, axis=0)
            g["chain"][it:it + n] = np.stack([c for c, _ in self._rows])
            g["log_prob"][it:it + n] = np.stack([lp for _, lp in self._rows])
            g["accepted"][:] += self._accepted
            for i, v in enumerate(self._random_state):
                g.attrs[f"random_state_{i}"] = v
            g.attrs["iteration"] = it + n  # last: a kill before this line leaves the previous steps intact
        self._rows, self._accepted = [], None

    def _check_blobs(self, blobs: Any) -> None:
        if blobs is not None:
            raise ValueError("the emcee adapter stores no blobs in the chain file")


def check_steps(every: int, upto: int) -> list[int]:
    """The steps at which convergence is checked, up to ``upto``: every ``every`` steps, then every ~5 % of
    the chain (rounded to a multiple of ``every``) once it is longer than 20 ``every``."""
    out, c = [], every
    while c <= upto:
        out.append(c)
        c += every * max(1, c // (20 * every))
    return out


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
    flush_every = float(opts["flush_every"])
    backend = _open_backend(path, flush_every) if resume and _chain_files(path) else None
    start_iteration = int(backend.iteration) if backend is not None else 0
    if backend is None or start_iteration == 0:
        if resume:
            log.info("emcee: nothing to resume in %s; starting a new chain", outdir)
        backend = _BufferedBackend(str(path), flush_every=flush_every)
        backend.reset(nwalkers, d)
        initial: np.ndarray | None = _initial_walkers(problem, nwalkers, seed)
    else:
        if backend.shape != (nwalkers, d):
            raise CheckpointError(path, f"the chain holds {backend.shape[0]} walkers x {backend.shape[1]} parameters, "
                                  f"the run asks for {nwalkers} x {d}", RESTART)
        log.info("emcee: resuming %s at step %d", path, start_iteration)
        initial = None
    logprob = ChunkedFunction(VectorLogPosterior(problem), pool)
    sampler = emcee.EnsembleSampler(nwalkers, d, logprob, backend=backend, vectorize=True)
    if initial is not None:
        seq = np.random.SeedSequence([seed, 2])
        sampler.random_state = np.random.RandomState(np.random.MT19937(seq)).get_state()
    with interrupt.deferred():
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
    progress = Progress("emcee", total=max_steps, unit="steps", every=float(opts["progress_every"]), estimated=True)
    last_backup = time.monotonic()
    state = initial
    schedule = check_steps(every, max_steps)
    tau_at: dict[int, np.ndarray] = {}  # tau at earlier check steps (each costs a pass over the chain)
    tau = np.full(1, np.nan)
    while True:
        backend.flush()
        it = backend.iteration
        if it in schedule:
            tau, converged = _check(backend, it, schedule, tau_at, factor, rtol)
            if converged:
                reason = (f"converged: {it} steps > {factor:g} x max autocorrelation time {np.max(tau):.1f}, "
                          f"estimate stable to {rtol:g}")
                break
        if it >= max_steps:
            if it not in schedule:  # tau of the whole chain, for the message and the burn-in
                tau = emcee.autocorr.integrated_time(backend.get_chain(), tol=0)
            reason = f"stopped at the step cap max_steps = {max_steps}: NOT converged (max tau {np.max(tau):.1f})"
            break
        progress.update(it, f"max tau {np.max(tau):.1f}, needs > {factor:g} tau steps (cap {max_steps:,}), "
                        f"acceptance {np.mean(backend.accepted) / max(it, 1):.2f}",
                        total=expected_steps(it, tau, factor, max_steps))
        target = next((c for c in schedule if c > it), max_steps)
        sampler.run_mcmc(state, target - it, progress=False)
        state = None
        if time.monotonic() - last_backup > float(opts["backup_every"]):
            backend.flush()
            _backup(path)
            last_backup = time.monotonic()
    progress.close(reason)
    _backup(path)
    return reason, tau


def expected_steps(it: int, tau: np.ndarray, factor: float, max_steps: int) -> int:
    """Steps the chain is expected to need: ``factor`` times the largest autocorrelation time estimated so far
    (an underestimate while tau still grows), at least the steps done, at most ``max_steps``; ``max_steps``
    before the first estimate."""
    tau_max = float(np.max(tau)) if np.size(tau) else float("nan")
    if not np.isfinite(tau_max):
        return max_steps
    return int(min(max_steps, max(it, np.ceil(factor * tau_max))))


def _check(backend: Any, it: int, schedule: list[int], tau_at: dict[int, np.ndarray], factor: float,
           rtol: float) -> tuple[np.ndarray, bool]:
    """(tau, converged) at check step ``it``; tau from the whole chain, compared with tau at the previous check
    step (remembered, or recomputed from the first steps of the chain after a resume)."""
    chain = backend.get_chain()
    tau = tau_at[it] = emcee.autocorr.integrated_time(chain, tol=0)
    k = schedule.index(it)
    if k == 0:
        return tau, False
    prev_step = schedule[k - 1]
    prev = tau_at.get(prev_step)
    if prev is None:
        prev = tau_at[prev_step] = emcee.autocorr.integrated_time(chain[:prev_step], tol=0)
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


RESTART = "Start the run again with 'darkportal run RUN.yaml --force' (without --resume)"


def _chain_files(path: Path) -> list[Path]:
    return [p for p in (path, path.with_name(path.name + ".bak")) if p.exists()]


def _open_backend(path: Path, flush_every: float) -> Any:
    """The HDF5 backend at `path`, or its backup copy if a kill corrupted the file; CheckpointError when
    neither can be read."""
    problems: list[str] = []
    for candidate in (path, path.with_name(path.name + ".bak")):
        if not candidate.exists():
            continue
        try:
            backend = _BufferedBackend(str(candidate), flush_every=flush_every)
            if backend.iteration > 0:
                backend.get_last_sample()
            if candidate != path:
                log.warning("emcee: %s is unreadable; continuing from the backup %s (step %d)",
                            path, candidate, backend.iteration)
                shutil.copyfile(candidate, path)
                backend = _BufferedBackend(str(path), flush_every=flush_every)
            return backend
        except (OSError, KeyError, ValueError, TypeError, AttributeError) as exc:
            why = hdf5_reason(exc)
            log.warning("emcee: cannot read %s (%s)", candidate, why)
            problems.append(f"{candidate.name}: {why}")
    names = " and ".join(p.name for p in _chain_files(path))
    raise CheckpointError(path, f"the emcee chain cannot be read ({names}: {'; '.join(problems)})", RESTART)


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
