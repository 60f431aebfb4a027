"""Sampler adapters: one module per backend, no physics inside.

`SAMPLERS` is the one registry of the samplers: name -> the module of its adapter. Each adapter module is a
`Sampler`: its `DEFAULTS` (every setting it knows, with its default value, stated there once) and its
`run(problem, settings, outdir, seed, pool, resume)` returning a `SamplerOutput`. The run file's `sampler:`
section (``inference.config.sections``) and `run_sampler` both read this registry.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from inference.samplers.pool import PoolHandle, make_pool
from inference.samplers.problem import FloatArray, SampleExtras, SamplingProblem, evaluate_log_likelihood
from physics.errors import DarkportalError, closest, did_you_mean

log = logging.getLogger(__name__)

#: the registry: sampler name -> module of its adapter (a `Sampler`), imported only when used
SAMPLERS: dict[str, str] = {
    "dynesty": "inference.samplers.dynesty_backend",
    "emcee": "inference.samplers.emcee_backend",
    "scan": "inference.samplers.scan_backend",
}
SAMPLER_NAMES: tuple[str, ...] = tuple(SAMPLERS)

# What dynesty spends on itself per likelihood call (proposals, bounds, bookkeeping) with rwalk in 7-8
# dimensions: 21 us with a trivial likelihood and ~30 us inside the kappa runs on the project's 2-core machine
# (benchmarks/README.md). Used for cost estimates and the pool advice, never for results.
DYNESTY_OWN_SECONDS_PER_CALL = 25e-6


class SamplerSettingsError(DarkportalError, ValueError):
    """A sampler setting is unknown or has a bad value; ``sampler`` and ``key`` name it where known."""

    def __init__(self, message: str, *, sampler: str | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.sampler, self.key = sampler, key


class StopKind(Enum):
    """Why a sampler stopped. Only `CONVERGED` (its own stopping rule was met) and `REWEIGHTED` (a finished run
    reweighted, which is as converged as the run it came from) count as converged; the others are caps."""

    CONVERGED = "converged"
    ITERATION_CAP = "iteration cap"  # dynesty: maxiter / maxcall reached before dlogz
    STEP_CAP = "step cap"  # emcee: max_steps reached before the convergence gate passed
    TIME_CAP = "time cap"  # emcee: max_time reached before the convergence gate passed
    CALL_CAP = "call cap"  # scan: max_calls reached before n_eff
    REWEIGHTED = "reweighted"

    @property
    def converged(self) -> bool:
        return self in (StopKind.CONVERGED, StopKind.REWEIGHTED)


@dataclass(frozen=True)
class StopReason:
    """Why a run stopped: the `kind` the code decides on and a sentence for people (`text`)."""

    kind: StopKind
    text: str

    @property
    def converged(self) -> bool:
        return self.kind.converged

    def as_record(self) -> dict[str, Any]:
        """The keys written to evidence.json and provenance.json's sampler_info."""
        return {"stop_reason": self.text, "stop_kind": self.kind.value, "converged": self.converged}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> StopReason | None:
        """The stop reason of an evidence.json / sampler_info record; None when it states none.

        Records written before ``stop_kind`` existed (same format version) carry only the sentence and, for
        emcee, ``converged``: their kind is read from the sentences those versions wrote (the only place
        the text is read)."""
        text = record.get("stop_reason")
        if text is None:
            return None
        text = str(text)
        if record.get("stop_kind") is not None:
            return cls(StopKind(record["stop_kind"]), text)
        return cls(_legacy_kind(text, record.get("converged")), text)


#: what a run that states no reason is taken to have done (as the readers have always taken it)
FINISHED = StopReason(StopKind.CONVERGED, "the sampler finished")


def _legacy_kind(text: str, converged: Any) -> StopKind:
    """The kind of a stop sentence written before stop_kind was recorded (module history: each cap sentence
    held "NOT" or began "stopped at")."""
    capped = converged is False or "NOT" in text or text.startswith("stopped at")
    if not capped:
        return StopKind.REWEIGHTED if text.startswith("importance reweighting of") else StopKind.CONVERGED
    for kind, mark in ((StopKind.STEP_CAP, "step cap"), (StopKind.TIME_CAP, "time cap"),
                       (StopKind.CALL_CAP, "max_calls")):
        if mark in text:
            return kind
    return StopKind.ITERATION_CAP


@dataclass
class SamplerOutput:
    """What every adapter returns.

    samples (n, d) and logl (n,) are the raw output; weights (n,) are normalised (1/n for MCMC).
    For MCMC, `chains` > 1 means the rows are chain-major: samples.reshape(chains, n // chains, d).
    logz / logz_err: ln evidence and its error (NaN / None where the sampler gives none).
    logz_resampled: ln Z of re-simulated runs (dynesty) or of bootstrap batches (scan).
    stop: why the sampler stopped (`stop.converged` is what the code decides on).
    info: ncall, niter, efficiency, autocorr times, wall_time, settings, ...
    per_sample: further arrays with one entry per sample, stored beside the weights (nested sampling:
    logl_birth, nlive, log_volume, what a nested-sampling post-processor such as anesthetic needs).
    """

    names: tuple[str, ...]
    samples: FloatArray
    weights: FloatArray
    logl: FloatArray
    logz: float
    logz_err: float | None
    info: dict[str, Any] = field(default_factory=dict)
    logz_resampled: list[float] = field(default_factory=list)
    chains: int = 1
    sampler: str = ""
    per_sample: dict[str, FloatArray] = field(default_factory=dict)
    stop: StopReason = FINISHED

    @property
    def converged(self) -> bool:
        return self.stop.converged


class Sampler(Protocol):
    """What an adapter module provides (each ``inference.samplers.<name>_backend`` module is one)."""

    #: every setting the adapter knows, with its default: the one place each default is stated
    DEFAULTS: dict[str, Any]
    #: the settings a resumed run may change: they steer when to stop or how often to save, not what the
    #: checkpoint has already sampled (``inference.output.rundir`` compares the others with the lock file)
    RESUMABLE: frozenset[str]

    def run(self, problem: SamplingProblem, settings: dict[str, Any], outdir: Path, seed: int,
            pool: PoolHandle | None, resume: bool) -> SamplerOutput:
        """Run (or resume) the sampler on `problem`, checkpointing into `outdir`."""
        ...


def sampler(name: str) -> Sampler:
    """The adapter of sampler `name` from the registry; an unknown name raises `SamplerSettingsError`."""
    import importlib

    if name not in SAMPLERS:
        raise SamplerSettingsError(f"unknown sampler {name!r}{did_you_mean(name, SAMPLER_NAMES)}; choose one of "
                                   f"{', '.join(SAMPLER_NAMES)}", sampler=name)
    module: Sampler = importlib.import_module(SAMPLERS[name])
    return module


def sampler_defaults(name: str) -> dict[str, Any]:
    """A copy of the `DEFAULTS` of sampler `name` (what a run file's settings are overlaid on)."""
    return dict(sampler(name).DEFAULTS)


def check_settings(sampler: str, settings: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with `settings`; unknown keys raise `SamplerSettingsError` with a suggestion."""
    unknown = [k for k in settings if k not in defaults]
    if unknown:
        key = unknown[0]
        close = closest(key, defaults)
        hint = f" Did you mean {close!r}?" if close is not None else ""
        raise SamplerSettingsError(
            f"unknown {sampler} setting {key!r}.{hint} Known settings: {', '.join(sorted(defaults))}",
            sampler=sampler, key=key)
    return {**defaults, **settings}


def run_sampler(name: str, problem: SamplingProblem, settings: Mapping[str, Any], outdir: Path, seed: int,
                pool: str | PoolHandle | None = None, resume: bool = False) -> SamplerOutput:
    """Run sampler `name` on `problem`, checkpointing into `outdir`.

    pool: None (serial), "processes", "mpi", or an already open `PoolHandle` (needed for MPI, where the
    caller must keep worker ranks out of the sampling; see `inference.samplers.pool`).
    resume: continue from the checkpoint in `outdir` (dynesty.save, chain.h5 or scan.npz).
    """
    runner = sampler(name).run
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    if isinstance(pool, PoolHandle) or pool is None:
        out = runner(problem, dict(settings), outdir, seed, pool, resume)
    else:
        with make_pool(pool) as handle:
            if not handle.is_master:
                # An MPI worker rank has served rank 0 until it finished; it has no result to return
                # (the same convention as schwimmbad's MPIPool workers).
                log.debug("MPI worker rank done")
                raise SystemExit(0)
            out = runner(problem, dict(settings), outdir, seed, handle, resume)
    out.sampler = name
    return out


def compute_blobs(problem: SamplingProblem, samples: FloatArray, batch: int = 2048) -> SampleExtras:
    """Evaluate `problem.blobs` on the rows of `samples` in vectorised batches (empty without blobs)."""
    if problem.blobs is None or len(samples) == 0:
        return SampleExtras()
    from inference.samplers.progress import Progress

    progress = Progress("predictions for the samples", total=len(samples), unit="samples", every=5.0)
    parts: list[SampleExtras] = []
    for start in range(0, len(samples), batch):
        parts.append(problem.blobs(samples[start:start + batch]))
        progress.update(min(start + batch, len(samples)))
    progress.close()
    return SampleExtras.concatenate(parts)


@dataclass(frozen=True)
class CostPhase:
    """One phase of a run: `calls` likelihood calls (or draws, or steps) at `seconds_each`."""

    name: str
    calls: int
    seconds_each: float
    unit: str = "calls"

    @property
    def seconds(self) -> float:
        return self.calls * self.seconds_each


@dataclass(frozen=True)
class CostTimings:
    """What `cost_estimate` times on this machine before a run (`measure_timings`); a test passes its own.

    point: one single-point likelihood call as dynesty makes it; batch: per point in a batch of `nbatch`;
    dynesty_own: dynesty's own seconds per call (a short run on a trivial likelihood, same dimension, bound
    and method); mixture: per draw, sampling and density of the refinement's mixture; step: seconds per
    emcee step (a short emcee run on the problem, all walkers); scan_call: seconds per scan call (a short
    scan run on the problem, pilot off)."""

    point: float
    batch: float
    dynesty_own: float = 0.0
    mixture: float = 0.0
    step: float = 0.0
    scan_call: float = 0.0


@dataclass(frozen=True)
class CostEstimate:
    """The expected wall time of a run: the sum of its phases. `bound` says what the total is: "estimate"
    (dynesty, scan) or "upper bound" (emcee: the step cap; its convergence step is not known before)."""

    sampler: str
    phases: tuple[CostPhase, ...]
    bound: str = "estimate"

    @property
    def seconds(self) -> float:
        return float(sum(p.seconds for p in self.phases))

    def text(self) -> str:
        parts = [f"{p.name} ~{p.calls:,} {p.unit} x {_us(p.seconds_each)} = ~{_duration(p.seconds)}"
                 for p in self.phases]
        if self.sampler == "emcee":
            step = self.phases[0].seconds_each
            return (f"cost estimate (emcee): {_duration(1000 * step)} per 1000 steps (timed now: "
                    f"{_us(step)} a step for all walkers); the convergence gate's step is not known before the "
                    f"run; at most {'; '.join(parts)} (an upper bound)")
        return (f"cost estimate ({self.sampler}, timed now): {'; '.join(parts)}; total ~{_duration(self.seconds)} "
                "(within a factor ~1.5 when the machine's load stays as it is)")


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.3g} us" if seconds < 1e-3 else f"{seconds * 1e3:.3g} ms"


def estimate_cost(problem: SamplingProblem, settings: Mapping[str, Any], sampler: str = "dynesty",
                  seed: int = 0, nbatch: int = 64) -> str:
    """The one line `darkportal run` prints before sampling: `cost_estimate` as text."""
    return cost_estimate(problem, settings, sampler, seed, measure_timings(problem, settings, sampler, seed,
                                                                           nbatch)).text()


def cost_estimate(problem: SamplingProblem, settings: Mapping[str, Any], sampler: str,
                  seed: int, timings: CostTimings) -> CostEstimate:
    """Expected calls of each phase x the measured seconds per call (`timings`).

    Rules for the calls, from measured runs (benchmarks/README.md, "Cost estimate"): dynesty ~ nlive x (4 + d)
    iterations x `dynesty_calls_per_iteration` per run and `nruns` runs, capped by maxcall
    (measured 11.0 and 13.9 nlive iterations of ~23.5 calls for the two kappa runs); the importance
    refinement adapt x adapt_draws + 2 x min_draws draws (measured 0.7 and 0.93 of that);
    emcee nwalkers x ensembles per step up to max_steps; scan n_eff / (acceptance on the timing batch), capped
    by max_calls, plus the pilot's tempering (particles x moves x ~20 stages) at the batch cost.
    """
    d = problem.ndim
    if sampler == "dynesty":
        nlive = int(settings.get("nlive", 500)) * int(settings.get("nruns", 1))
        calls = nlive * (4 + d) * dynesty_calls_per_iteration(d, settings)
        if settings.get("maxcall"):
            calls = min(calls, int(settings["maxcall"]) * int(settings.get("nruns", 1)))
        phases = [CostPhase("nested sampling", calls, timings.point + timings.dynesty_own)]
        if settings.get("refine", "none") == "importance":
            phases.append(CostPhase("importance refinement", refine_draws(settings),
                                    timings.batch + timings.mixture, "draws"))
        return CostEstimate("dynesty", tuple(phases))
    if sampler == "emcee":
        return CostEstimate("emcee", (CostPhase("max_steps", int(settings.get("max_steps", 1_000_000)),
                                                timings.step, "steps"),), "upper bound")
    return CostEstimate("scan", tuple(_scan_phases(problem, settings, seed, timings)))


def dynesty_calls_per_iteration(ndim: int, settings: Mapping[str, Any]) -> int:
    """Likelihood calls per nested-sampling iteration: rwalk ~ walks (25 when unset: measured 23-24 with
    dynesty's default of ndim + 20); rslice ~5 per slice (dynesty's default 3 + ndim slices; measured 49-55 calls
    per iteration for the kappa runs); slice ~5 per slice and dimension (default 3 slices); others ~5."""
    sample = str(settings.get("sample", "rwalk"))
    if sample == "rwalk":
        return int(settings.get("walks") or 25)
    if sample == "rslice":
        return 5 * int(settings.get("slices") or 3 + ndim)
    if sample == "slice":
        return 5 * int(settings.get("slices") or 3) * ndim
    return 5


def _scan_phases(problem: SamplingProblem, settings: Mapping[str, Any], seed: int,
                 timings: CostTimings) -> list[CostPhase]:
    x = np.asarray(problem.prior_transform(np.random.default_rng(seed).random((256, problem.ndim))), dtype=float)
    accept = max(float(np.mean(np.isfinite(evaluate_log_likelihood(problem, x)))), 1.0 / 256)
    calls = int(min(float(settings.get("n_eff", 2000)) / accept, float(settings.get("max_calls", 1e7))))
    phases = [CostPhase("sampling", calls, timings.scan_call or timings.batch)]
    if problem.pilot_log_likelihood is not None and int(settings.get("pilot_particles", 4000)) > 0:
        pilot = int(settings.get("pilot_particles", 4000)) * int(settings.get("pilot_steps", 10)) * 20
        phases.insert(0, CostPhase("pilot", min(pilot, int(settings.get("pilot_max_calls", 5_000_000))),
                                   timings.batch))
    return phases


def refine_draws(settings: Mapping[str, Any]) -> int:
    """Expected draws of the importance refinement: its adaptation stages and twice the smallest final stage."""
    from inference.samplers import importance

    opts = importance.DEFAULTS
    adapt = int(settings.get("refine_adapt", opts["adapt"]))
    return adapt * int(opts["adapt_draws"]) + 2 * int(opts["min_draws"])


def measure_timings(problem: SamplingProblem, settings: Mapping[str, Any], sampler: str, seed: int = 0,
                    nbatch: int = 64) -> CostTimings:
    """The seconds per call a `cost_estimate` of `sampler` needs, timed now (~0.5-3 s)."""
    rng = np.random.default_rng(seed)
    x = np.asarray(problem.prior_transform(rng.random((nbatch, problem.ndim))), dtype=float)
    evaluate_log_likelihood(problem, x[:2])  # warm-up: first calls load tables and fill caches
    t0 = time.perf_counter()
    evaluate_log_likelihood(problem, x)
    t_vec = (time.perf_counter() - t0) / nbatch
    if sampler == "dynesty":
        mixture, batch = (refine_seconds_per_draw(problem, settings, seed)
                          if settings.get("refine", "none") == "importance" else (0.0, t_vec))
        return CostTimings(point=point_seconds_per_call(problem, x[:7]), batch=batch,
                           dynesty_own=dynesty_own_seconds_per_call(problem.ndim, settings, seed), mixture=mixture)
    if sampler == "emcee":
        return CostTimings(point=t_vec, batch=t_vec, step=_short_run_seconds(problem, settings, "emcee", seed))
    return CostTimings(point=t_vec, batch=t_vec, scan_call=_short_run_seconds(problem, settings, "scan", seed))


def _short_run_seconds(problem: SamplingProblem, settings: Mapping[str, Any], sampler: str, seed: int) -> float:
    """Seconds per emcee step, or per scan call, of a short run of that sampler on `problem` (in a temporary
    folder; ~0.5-1 s). 0 if it fails (the estimate then falls back to the likelihood alone)."""
    import tempfile

    try:
        with tempfile.TemporaryDirectory(prefix="darkportal_cost_") as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            logging.disable(logging.WARNING)  # the short run's own cap warnings are expected
            try:
                if sampler == "emcee":
                    thin = int(settings.get("thin_by", 10))
                    steps = max(thin, 200 - 200 % thin)
                    short = {**settings, "max_steps": steps, "check_every": steps, "progress_every": 1e9}
                    t0 = time.perf_counter()
                    run_sampler("emcee", problem, short, Path(tmp), seed)
                    return (time.perf_counter() - t0) / steps
                batch = int(settings.get("batch_size", 4096))
                short = {**settings, "max_calls": 10 * batch, "n_eff": int(settings.get("max_points", 100_000)),
                         "pilot_particles": 0, "checkpoint_every": 1e9, "progress_every": 1e9, "n_resample": 0}
                t0 = time.perf_counter()
                out = run_sampler("scan", problem, short, Path(tmp), seed)
                return (time.perf_counter() - t0) / max(int(out.info.get("ncall", 1)), 1)
            finally:
                logging.disable(logging.NOTSET)
    except Exception as exc:  # a timing aid must never stop a run
        log.debug("timing a short %s run failed (%s)", sampler, exc)
        return 0.0


def refine_seconds_per_draw(problem: SamplingProblem, settings: Mapping[str, Any],
                            seed: int = 0) -> tuple[float, float]:
    """(mixture, likelihood) seconds per draw of the importance refinement: the mixture's sampling and density
    on a mixture of the configured size, and the batched likelihood, on 20 000 draws."""
    from inference.samplers import importance

    opts = importance.DEFAULTS
    k = int(settings.get("refine_components", opts["components"]))
    d = problem.ndim
    mix = importance.StudentMixture(0.3, 5.0, np.full(k, 1.0 / k), np.full((k, d), 0.5),
                                    np.tile(np.eye(d) * 0.1, (k, 1, 1)))
    rng = np.random.default_rng(seed)
    n = 20_000
    t0 = time.perf_counter()
    u = mix.sample(n, rng)
    mix.logpdf(u)
    t_mix = (time.perf_counter() - t0) / n
    x = np.asarray(problem.prior_transform(rng.random((n, d))), dtype=float)
    t0 = time.perf_counter()
    evaluate_log_likelihood(problem, x)
    return t_mix, (time.perf_counter() - t0) / n


class _Trivial:
    """The cheapest likelihood dynesty can run on (a Gaussian in the unit cube), to time dynesty itself."""

    def __call__(self, v: FloatArray) -> float:
        d = (v - 0.5) / 0.1
        return float(-0.5 * np.dot(d, d))


def _identity(u: FloatArray) -> FloatArray:
    return u


def dynesty_own_seconds_per_call(ndim: int, settings: Mapping[str, Any], seed: int = 0) -> float:
    """dynesty's own seconds per likelihood call, timed now on this machine: a short run on a trivial
    likelihood of the same dimension, bound and sampling method (proposals, bounds and bookkeeping: the
    per-call cost barely depends on the likelihood; 10 000 calls, ~0.2 s on an idle core). Falls back to the
    constant if dynesty fails."""
    import dynesty

    try:
        sampler = dynesty.NestedSampler(_Trivial(), _identity, ndim, nlive=100,
                                        bound=str(settings.get("bound", "multi")),
                                        sample=str(settings.get("sample", "rwalk")),
                                        rstate=np.random.default_rng(seed))
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "stopped short due to maxcall": intended
            sampler.run_nested(maxcall=10_000, print_progress=False)
        wall = time.perf_counter() - t0
        return max(wall / max(int(np.sum(sampler.results["ncall"])), 1), 1e-6)
    except Exception as exc:  # pragma: no cover - a timing aid must never stop a run
        log.debug("timing dynesty failed (%s); using the constant", exc)
        return DYNESTY_OWN_SECONDS_PER_CALL


def point_seconds_per_call(problem: SamplingProblem, x: FloatArray) -> float:
    """Median seconds of one single-point likelihood call as dynesty makes it, over the rows of x (after one
    warm-up call)."""
    from inference.samplers.problem import PointLogLikelihood

    point = PointLogLikelihood(problem)
    point(x[0])
    singles = []
    for row in x:
        t0 = time.perf_counter()
        point(row)
        singles.append(time.perf_counter() - t0)
    return float(np.median(singles))


def pool_advice(problem: SamplingProblem, sampler: str, seed: int = 0) -> str | None:
    """A warning when a process pool cannot speed a dynesty run up: the likelihood costs less per call than
    dynesty's own serial work, which a pool does not spread (benchmarks/README.md: 0.7-0.9x); else None."""
    if sampler != "dynesty":
        return None
    x = np.asarray(problem.prior_transform(np.random.default_rng(seed).random((33, problem.ndim))), dtype=float)
    per_call = point_seconds_per_call(problem, x)
    if per_call >= DYNESTY_OWN_SECONDS_PER_CALL:
        return None
    return (f"--pool processes: the likelihood takes {per_call * 1e6:.3g} us per call, less than dynesty's own "
            f"~{DYNESTY_OWN_SECONDS_PER_CALL * 1e6:.0f} us, so worker processes cannot speed this run up (measured "
            "0.7-0.9x on 2 cores, benchmarks/README.md); run without --pool, or run several run files side by side")


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under 1 s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
