"""emcee adapter: ensemble MCMC with a move mixture, independent ensembles, a convergence gate, an HDF5
backend with thinned storage, and resume.

Walkers: `ensembles` (default 4) independent ensembles of `nwalkers` walkers each (default max(32, 4 d),
rounded up to a multiple of 4), run by one `emcee.EnsembleSampler` whose moves act on each ensemble separately
(`emcee_moves.GroupedMove`), so the log-posterior is one vectorised call for all of them. Moves: the
`moves` mixture (default DE 0.8 + DE snooker 0.2; `emcee_moves` lists the moves and options). Start:
independent prior draws per ensemble (each from its own seed), or (`initial: PATH`) distinct draws of an
earlier run's `posterior.nc`, duplicates removed (a snooker move needs distinct walkers).

Stop: the convergence gate of `emcee_gate` (every parameter > `tau_factor` tau, split R-hat between
ensembles <= `rhat_max`, bulk ESS >= `ess_min`), checked every `check_every` steps, then every ~5 % of
the chain once it is longer than 20 `check_every` (a check reads the whole chain, so fixed spacing would
cost O(length^2)); or the step cap `max_steps`; or the time cap `max_time` (seconds of this process).
`out.stop` says which (`StopKind`) and why (its sentence); `out.converged` is True only for the first.

Storage: every `thin_by`-th step is kept (`thin_by` is recorded in the chain file and in `info`).
Completed steps are buffered in memory and appended to `outdir/chain.h5` (the format of
`emcee.backends.HDFBackend`) in one write at every convergence check and at least every `flush_every`
seconds; the `iteration` counter is written last, so a kill loses at most the steps since the last write,
and the generator state is stored with them, so a resumed chain continues exactly as the uninterrupted
chain would have. (One file open per step cost ~2 ms, far more than a step on the compiled likelihood.)
As a guard against a kill corrupting the HDF5 file itself, a copy
`chain.h5.bak` is refreshed atomically every `backup_every` seconds and used if the main file cannot
be read. Output: burn-in 2 tau discarded, thinned by tau / 2, walkers kept as chains (chain-major rows,
ensemble after ensemble).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import emcee
import numpy as np

from inference.samplers import SamplerOutput, SamplerSettingsError, StopKind, StopReason, check_settings, interrupt
from inference.samplers.checkpoint_auth import CheckpointError, hdf5_reason
from inference.samplers.emcee_gate import Diagnostics, GateCriteria, diagnose, ensemble_tau, stop_reason
from inference.samplers.emcee_moves import DEFAULT_MOVES, MoveSpec, build_moves, moves_as_setting, parse_moves
from inference.samplers.emcee_start import initial_walkers
from inference.samplers.pool import ChunkedFunction, PoolHandle
from inference.samplers.problem import SamplingProblem, VectorLogPosterior
from inference.samplers.progress import Progress

log = logging.getLogger(__name__)

CHAIN = "chain.h5"
MIN_ENSEMBLES = 4

RESUMABLE = frozenset({"max_steps", "tau_factor", "tau_rtol", "check_every", "backup_every", "flush_every",
                       "progress_every"})
DEFAULTS: dict[str, Any] = {
    "nwalkers": None,  # walkers per ensemble; default max(32, 4 d); rounded up to a multiple of 4
    "ensembles": 4,  # independent ensembles (R-hat is computed between them)
    "moves": DEFAULT_MOVES,
    "max_steps": 1_000_000,
    "max_time": None,  # seconds of sampling in this process; None: no time cap
    "thin_by": 10,  # store every thin_by-th step
    "tau_factor": 50.0,
    "rhat_max": 1.01,
    "ess_min": 1000.0,
    "tau_rtol": None,  # optional: tau stable to this fraction between checks
    "check_every": 1000,
    "initial": "prior",  # or the path of an earlier run's posterior.nc (or its results folder)
    "backup_every": 60.0,
    "flush_every": 5.0,
    "progress_every": 10.0,
}


@dataclass(frozen=True)
class EmceeSettings:
    """The checked settings of one run (steps in sampler steps, not stored steps)."""

    nwalkers: int
    ensembles: int
    moves: tuple[MoveSpec, ...]
    max_steps: int
    max_time: float | None
    thin_by: int
    check_every: int
    criteria: GateCriteria
    initial: str


def resolve_settings(settings: dict[str, Any], ndim: int) -> tuple[EmceeSettings, dict[str, Any]]:
    """(typed settings, the settings dict with the moves normalised); SamplerSettingsError on a bad value."""
    opts = check_settings("emcee", settings, DEFAULTS)

    def fail(path: tuple[str, ...], problem: str, fix: str) -> NoReturn:
        raise SamplerSettingsError(f"emcee setting moves{''.join('.' + p for p in path)}: {problem}. {fix}")

    moves = parse_moves(opts["moves"], fail)
    opts["moves"] = moves_as_setting(moves)
    nwalkers = int(opts["nwalkers"] or max(32, 4 * ndim))
    nwalkers += -nwalkers % 4  # the snooker move splits each ensemble in four equal parts
    if nwalkers < 2 * ndim:
        raise SamplerSettingsError(f"emcee needs nwalkers >= 2 x {ndim} parameters per ensemble; got {nwalkers}")
    ensembles, thin = int(opts["ensembles"]), int(opts["thin_by"])
    if ensembles < MIN_ENSEMBLES:
        raise SamplerSettingsError(f"emcee needs ensembles >= {MIN_ENSEMBLES} (R-hat between independent "
                                   f"ensembles); got {ensembles}")
    for key in ("check_every", "max_steps"):
        if int(opts[key]) % thin:
            raise SamplerSettingsError(f"emcee setting {key} = {opts[key]} is not a multiple of thin_by = {thin}; "
                                       f"use a multiple of {thin}")
    criteria = GateCriteria(float(opts["tau_factor"]), float(opts["rhat_max"]), float(opts["ess_min"]),
                            None if opts["tau_rtol"] is None else float(opts["tau_rtol"]))
    typed = EmceeSettings(nwalkers, ensembles, moves, int(opts["max_steps"]),
                          None if opts["max_time"] is None else float(opts["max_time"]), thin,
                          int(opts["check_every"]), criteria, str(opts["initial"]))
    return typed, opts


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
    d = problem.ndim
    cfg, opts = resolve_settings(settings, d)
    total = cfg.nwalkers * cfg.ensembles
    path = outdir / CHAIN
    t0 = time.monotonic()
    flush_every = float(opts["flush_every"])
    backend = _open_backend(path, flush_every) if resume and _chain_files(path) else None
    start_iteration = int(backend.iteration) if backend is not None else 0
    if backend is None or start_iteration == 0:
        if resume:
            log.info("emcee: nothing to resume in %s; starting a new chain", outdir)
        backend = _BufferedBackend(str(path), flush_every=flush_every)
        backend.reset(total, d)
        with backend.open("a") as f:
            f[backend.name].attrs.update(thin_by=cfg.thin_by, ensembles=cfg.ensembles)
        initial: np.ndarray | None = initial_walkers(problem, cfg.nwalkers, cfg.ensembles, seed, cfg.initial)
    else:
        with backend.open() as f:
            stored = (int(f[backend.name].attrs.get("thin_by", 1)), int(f[backend.name].attrs.get("ensembles", 1)))
        if backend.shape != (total, d) or stored != (cfg.thin_by, cfg.ensembles):
            raise CheckpointError(path, f"the chain holds {backend.shape[0]} walkers x {backend.shape[1]} parameters "
                                  f"(thin_by {stored[0]}, {stored[1]} ensembles), the run asks for {total} x {d} "
                                  f"(thin_by {cfg.thin_by}, {cfg.ensembles} ensembles)", RESTART)
        log.info("emcee: resuming %s at step %d", path, start_iteration * cfg.thin_by)
        initial = None
    logprob = ChunkedFunction(VectorLogPosterior(problem), pool)
    sampler = emcee.EnsembleSampler(total, d, logprob, backend=backend, vectorize=True,
                                    moves=build_moves(cfg.moves, cfg.ensembles))
    if initial is not None:
        seq = np.random.SeedSequence([seed, 2])
        sampler.random_state = np.random.RandomState(np.random.MT19937(seq)).get_state()
    with interrupt.deferred():
        stop, diag = _run_chain(sampler, backend, initial, cfg, opts, path, problem.names, t0)
    out = _output(problem, backend, diag, cfg)
    out.stop = stop
    out.info.update(wall_time=time.monotonic() - t0,
                    resumed_from_step=start_iteration * cfg.thin_by if initial is None else None, settings=opts,
                    chain_file=str(path), gate={"tau_factor": cfg.criteria.tau_factor,
                                                "rhat_max": cfg.criteria.rhat_max, "ess_min": cfg.criteria.ess_min})
    return out


def _run_chain(sampler: emcee.EnsembleSampler, backend: Any, initial: np.ndarray | None, cfg: EmceeSettings,
               opts: dict[str, Any], path: Path, names: tuple[str, ...], t0: float) -> tuple[StopReason, Diagnostics]:
    """Sample until the gate passes or a cap is reached: (why it stopped, diagnostics at the stop)."""
    thin, every = cfg.thin_by, cfg.check_every
    progress = Progress("emcee", total=cfg.max_steps, unit="steps", every=float(opts["progress_every"]),
                        estimated=True)
    last_backup = time.monotonic()
    state = initial
    schedule = check_steps(every, cfg.max_steps)
    tau_at: dict[int, np.ndarray] = {}  # tau at earlier check steps (for tau_rtol)
    latest = "no check yet"
    tau_now = np.full(1, np.nan)
    while True:
        backend.flush()
        steps = backend.iteration * thin
        if steps in schedule:
            diag, failures = _check(backend, steps, schedule, tau_at, cfg, names)
            tau_now = diag.tau
            if not failures:
                stop = stop_reason(StopKind.CONVERGED, diag, failures, cfg.criteria)
                break
            latest = "; ".join(failures)
        cap = (StopKind.STEP_CAP, float(cfg.max_steps)) if steps >= cfg.max_steps else None
        if cap is None and cfg.max_time is not None and time.monotonic() - t0 >= cfg.max_time and steps > 0:
            cap = (StopKind.TIME_CAP, cfg.max_time)  # (checked after every chunk of at most check_every steps)
        if cap is not None:
            diag = diagnose(backend.get_chain(), names, cfg.ensembles, thin)
            failures = diag.failures(cfg.criteria, tau_at.get(_previous(schedule, steps)))
            stop = stop_reason(cap[0], diag, failures or ["the gate was not checked"], cfg.criteria, cap[1])
            break
        # emcee counts acceptances of the stored steps only (every thin_by-th): per stored step
        acceptance = np.mean(backend.accepted) / max(backend.iteration, 1)
        progress.update(steps, f"acceptance {acceptance:.3f}, not yet converged: {latest}",
                        total=expected_steps(steps, tau_now, cfg.criteria.tau_factor, cfg.max_steps))
        target = next((c for c in schedule if c > steps), cfg.max_steps)
        sampler.run_mcmc(state, min(target - steps, every) // thin, thin_by=thin, progress=False)
        state = None
        if time.monotonic() - last_backup > float(opts["backup_every"]):
            backend.flush()
            _backup(path)
            last_backup = time.monotonic()
    progress.close(stop.text)
    _backup(path)
    return stop, diag


def expected_steps(it: int, tau: np.ndarray, factor: float, max_steps: int) -> int:
    """Steps the chain is expected to need: ``factor`` times the largest autocorrelation time estimated so far
    (an underestimate while tau still grows), at least the steps done, at most ``max_steps``; ``max_steps``
    before the first estimate."""
    tau_max = float(np.nanmax(tau)) if np.size(tau) and np.any(np.isfinite(tau)) else float("nan")
    if not np.isfinite(tau_max):
        return max_steps
    return int(min(max_steps, max(it, np.ceil(factor * tau_max))))


def _previous(schedule: list[int], steps: int) -> int:
    earlier = [c for c in schedule if c < steps]
    return earlier[-1] if earlier else -1


def _check(backend: Any, steps: int, schedule: list[int], tau_at: dict[int, np.ndarray], cfg: EmceeSettings,
           names: tuple[str, ...]) -> tuple[Diagnostics, list[str]]:
    """(diagnostics, failures) at check step ``steps``. tau first (cheap); R-hat and ESS only once the chain is
    long enough in tau. tau at the previous check (for tau_rtol) is remembered, or recomputed after a resume."""
    chain = backend.get_chain()
    tau = tau_at[steps] = ensemble_tau(chain, cfg.ensembles, cfg.thin_by)
    if not np.all(cfg.criteria.tau_factor * tau < steps):
        d = len(names)
        diag = Diagnostics(names, steps, tau, np.full(d, np.nan), np.full(d, np.nan), 0, cfg.ensembles)
        return diag, diag.failures(cfg.criteria)[:1]
    prev_step = _previous(schedule, steps)
    previous = tau_at.get(prev_step)
    if previous is None and cfg.criteria.tau_rtol is not None and prev_step > 0:
        previous = tau_at[prev_step] = ensemble_tau(chain[:prev_step // cfg.thin_by], cfg.ensembles, cfg.thin_by)
    diag = diagnose(chain, names, cfg.ensembles, cfg.thin_by)
    return diag, diag.failures(cfg.criteria, previous)


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


def _output(problem: SamplingProblem, backend: Any, diag: Diagnostics, cfg: EmceeSettings) -> SamplerOutput:
    """Samples after the burn-in (2 tau), thinned by tau / 2, walkers as chains; the gate's numbers in info."""
    thin = cfg.thin_by
    stored = backend.iteration
    tau_max = float(np.max(diag.tau)) if np.all(np.isfinite(diag.tau)) else float(thin)
    burn, every = int(np.ceil(diag.burn_in / thin)), max(1, int(tau_max / 2 / thin))
    if burn >= stored - 1:
        log.warning("emcee: burn-in %d >= chain length %d steps; keeping the second half instead", burn * thin,
                    stored * thin)
        burn = stored // 2
    chain = backend.get_chain(discard=burn, thin=every)  # (stored steps, walkers, d)
    samples = np.ascontiguousarray(chain.transpose(1, 0, 2).reshape(-1, problem.ndim))
    logpost = backend.get_log_prob(discard=burn, thin=every).T.reshape(-1)
    logl = logpost - np.asarray(problem.log_prior(samples), dtype=float)
    n, nwalkers, steps = len(samples), cfg.nwalkers * cfg.ensembles, stored * thin
    acceptance = float(np.mean(backend.accepted) / max(stored, 1))  # emcee counts the stored steps only
    info = {"ncall": int(nwalkers * (steps + 1)), "niter": int(steps), "nwalkers": nwalkers,
            "walkers_per_ensemble": cfg.nwalkers, "efficiency": acceptance, "acceptance_fraction": acceptance,
            **diag.as_info(), "burn_in": int(burn * thin), "thin": int(every * thin), "thin_by": int(thin),
            "stored_steps": int(stored), "moves": moves_as_setting(cfg.moves)}
    return SamplerOutput(names=problem.names, samples=samples, weights=np.full(n, 1.0 / n), logl=logl,
                         logz=float("nan"), logz_err=None, info=info, chains=nwalkers)
