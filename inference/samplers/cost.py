"""What a run will cost, printed before it starts: each phase's expected calls x seconds per call timed now.

`darkportal run` prints `estimate_cost`'s line; `pool_advice` warns when a process pool cannot speed a dynesty
run up. The rules for the calls and how well the estimate matches the measured wall time are in
benchmarks/README.md ("Cost estimate against the measured wall time").
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inference.samplers import run_sampler
from inference.samplers.problem import FloatArray, SamplingProblem, evaluate_log_likelihood

log = logging.getLogger(__name__)

# What dynesty spends on itself per likelihood call (proposals, bounds, bookkeeping) with rwalk in 7-8
# dimensions: 21 us with a trivial likelihood and ~30 us inside the kappa runs on the project's 2-core machine
# (benchmarks/README.md). Used for cost estimates and the pool advice, never for results.
DYNESTY_OWN_SECONDS_PER_CALL = 25e-6


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

    point: one single-point likelihood call as dynesty makes it; batch: per point of a batched call (for dynesty
    the pilot's rate, else a batch of `nbatch`);
    dynesty_own: dynesty's own seconds per call (a short run on a trivial likelihood, same dimension, bound
    and method); mixture: per draw, sampling and density of the refinement's mixture; step: seconds per
    emcee step (a short emcee run on the problem, all walkers); scan_call: seconds per scan call (a short
    scan run on the problem, pilot off); pilot: what nested sampling's length depends on (`NestedPilot`), None
    where not measured (the estimate then uses the (4 + d) nlive rule)."""

    point: float
    batch: float
    dynesty_own: float = 0.0
    mixture: float = 0.0
    step: float = 0.0
    scan_call: float = 0.0
    pilot: NestedPilot | None = None


@dataclass(frozen=True)
class NestedPilot:
    """ln Z and ln L_max of the problem, roughly, from `draws` prior draws (plain Monte Carlo for ln Z, the best
    draws polished by a few Nelder-Mead steps for ln L_max): enough to size a nested run (`nested_iterations`),
    never a result."""

    logz: float
    logl_max: float
    draws: int
    seconds_per_draw: float = 0.0  # the batched likelihood's, over the draws after the first chunk


def nested_iterations(pilot: NestedPilot, nlive: int, dlogz: float) -> float:
    """Iterations of one nested run until dynesty's stop, from the prior volume it must compress to.

    Iteration i has shrunk the prior volume to X_i ~ exp(-i / nlive) (Skilling 2006, Bayesian Anal. 1, 833,
    sec. 4); dynesty stops once the live points can add no more than dlogz to ln Z, i.e. when
    L_max X_i < (e^dlogz - 1) Z. Hence i ~ nlive (ln L_max - ln Z - ln(e^dlogz - 1)) (at least nlive).
    Measured for runs/kappa_*.yaml (nlive 500, dlogz 0.5): 11.0 and 13.9 nlive iterations taken, 10.4-10.9 and
    13.5-15.3 from this rule on 5e5-draw pilots of 4 seeds (benchmarks/README.md, "Cost estimate")."""
    spread = pilot.logl_max - pilot.logz - float(np.log(np.expm1(dlogz)))
    return float(nlive * max(spread, 1.0))


def nested_pilot(problem: SamplingProblem, seed: int = 0, draws: int = 500_000, polish: int = 3,
                 max_evals: int = 600, budget: float = 0.5) -> NestedPilot | None:
    """A `NestedPilot` from up to `draws` prior draws, as many as fit in ~`budget` seconds but at least 2 000
    (5e5 in ~0.3 s for the kappa runs; 5e5 size them to ~5 %, while 2e5 left kappa = 0 15 % off, its ln Z from
    plain draws being the noisy part; a slow likelihood, such as the plain-Python kernel at ~0.3 ms a point, gets
    fewer and a rougher estimate rather than a long wait), and `polish` Nelder-Mead searches of `max_evals`
    single-point calls from the best of them; None if no draw has a finite likelihood."""
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    rng = np.random.default_rng(seed + 7919)
    parts_u, parts_l, done, t0 = [], [], 0, time.perf_counter()
    t_first = 0.0  # the first chunk (2 000 draws) also pays the first calls' warm-up
    while done < draws:
        chunk = min(draws - done, 2_000 if done == 0 else 100_000)
        if done:  # as many more as the budget leaves at the rate so far
            left = budget - (time.perf_counter() - t0)
            chunk = min(chunk, int(left / (time.perf_counter() - t0) * done))
            if chunk <= 0:
                break
        u = rng.random((chunk, problem.ndim))
        parts_u.append(u)
        parts_l.append(np.asarray(evaluate_log_likelihood(problem, np.asarray(problem.prior_transform(u),
                                                                               dtype=float))))
        done += chunk
        if done == chunk:
            t_first = time.perf_counter() - t0
    rate = ((time.perf_counter() - t0 - t_first) / (done - len(parts_u[0])) if done > len(parts_u[0])
            else t_first / done)
    u, logl = np.concatenate(parts_u), np.concatenate(parts_l)
    logl = np.where(np.isfinite(logl), logl, -np.inf)
    if not np.any(np.isfinite(logl)):
        return None
    best = float(np.max(logl))

    def minus_logl(v: FloatArray) -> float:
        if np.any(v < 0.0) or np.any(v > 1.0):
            return np.inf
        value = float(evaluate_log_likelihood(problem, np.asarray(problem.prior_transform(v[None, :]),
                                                                   dtype=float))[0])
        return -value if np.isfinite(value) else np.inf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # inf outside the domain is expected
        for start in np.argsort(logl)[::-1][:polish]:
            if not np.isfinite(logl[start]):
                break
            found = minimize(minus_logl, u[start], method="Nelder-Mead",
                             options={"maxfev": max_evals, "xatol": 1e-4, "fatol": 1e-3})
            if np.isfinite(found.fun):
                best = max(best, -float(found.fun))
    return NestedPilot(logz=float(logsumexp(logl) - np.log(len(logl))), logl_max=best, draws=len(logl),
                       seconds_per_draw=rate)


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

    Rules for the calls, from measured runs (benchmarks/README.md, "Cost estimate"): dynesty nlive initial calls
    + `nested_iterations` (from the timings' pilot; nlive x (4 + d) without one) x `dynesty_calls_per_iteration`
    per run and `nruns` runs, capped by maxcall (measured 11.0 and 13.9 nlive iterations of ~23 calls for the
    two kappa runs); the importance
    refinement adapt x adapt_draws + 2 x min_draws draws (measured 0.7 and 0.93 of that);
    emcee nwalkers x ensembles per step up to max_steps; scan n_eff / (acceptance on the timing batch), capped
    by max_calls, plus the pilot's tempering (particles x moves x ~20 stages) at the batch cost.
    """
    d = problem.ndim
    if sampler == "dynesty":
        nlive, nruns = int(settings.get("nlive", 500)), int(settings.get("nruns", 1))
        per_iteration = dynesty_calls_per_iteration(d, settings)
        if timings.pilot is None:
            calls = nruns * nlive * (4 + d) * per_iteration
        else:
            iterations = nested_iterations(timings.pilot, nlive, float(settings.get("dlogz", 0.1)))
            calls = int(nruns * (nlive + iterations * per_iteration))
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
        point = point_seconds_per_call(problem, x[:7])
        # the pilot's polish: 3 x 600 single-point calls, fewer where a call is slow (~0.3 s in all)
        evals = int(np.clip(0.1 / max(point, 1e-9), 50, 600))
        pilot = _pilot_or_none(problem, seed, evals)
        refine = settings.get("refine", "none") == "importance"
        # the refinement's batched likelihood costs per draw what the pilot's batches cost
        return CostTimings(point=point, batch=pilot.seconds_per_draw if pilot is not None else t_vec,
                           dynesty_own=dynesty_own_seconds_per_call(problem.ndim, settings, seed),
                           mixture=mixture_seconds_per_draw(problem, settings, seed) if refine else 0.0,
                           pilot=pilot)
    if sampler == "emcee":
        return CostTimings(point=t_vec, batch=t_vec, step=_short_run_seconds(problem, settings, "emcee", seed))
    return CostTimings(point=t_vec, batch=t_vec, scan_call=_short_run_seconds(problem, settings, "scan", seed))


def _pilot_or_none(problem: SamplingProblem, seed: int, evals: int) -> NestedPilot | None:
    try:
        return nested_pilot(problem, seed, max_evals=evals)
    except Exception as exc:  # a timing aid must never stop a run (the sampler reports a bad likelihood itself)
        log.debug("the nested pilot failed (%s); the estimate uses the (4 + d) nlive rule", exc)
        return None


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
                    # the difference of a 200- and a 1000-step run: a run's fixed cost (start, the initial
                    # walkers, the final convergence check and writing) made a single 200-step run's cost per
                    # step 1.6x too dear, and the first few hundred steps cost more than later ones (1.48 ms a
                    # step over steps 100-500, 1.12 ms over 500-2000: benchmarks/README.md, "Cost estimate")
                    thin = int(settings.get("thin_by", 10))
                    seconds = []
                    for i, target in enumerate((200, 1000)):
                        steps = max(thin, target - target % thin)
                        short = {**settings, "max_steps": steps, "check_every": steps, "progress_every": 1e9}
                        t0 = time.perf_counter()
                        run_sampler("emcee", problem, short, Path(tmp) / str(i), seed)
                        seconds.append((steps, time.perf_counter() - t0))
                    (n1, t1), (n2, t2) = seconds
                    return (t2 - t1) / (n2 - n1) if t2 > t1 and n2 > n1 else t2 / n2
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


def mixture_seconds_per_draw(problem: SamplingProblem, settings: Mapping[str, Any], seed: int = 0) -> float:
    """Seconds per draw of the importance refinement's mixture, sampling and density, on a mixture of the
    configured size (20 000 draws); the likelihood's share comes from the pilot's batches."""
    from inference.samplers import importance

    opts = importance.DEFAULTS
    k = int(settings.get("refine_components", opts["components"]))
    d = problem.ndim
    mix = importance.StudentMixture(0.3, 5.0, np.full(k, 1.0 / k), np.full((k, d), 0.5),
                                    np.tile(np.eye(d) * 0.1, (k, 1, 1)))
    rng = np.random.default_rng(seed)
    n = 20_000
    t0 = time.perf_counter()
    mix.logpdf(mix.sample(n, rng))
    return (time.perf_counter() - t0) / n


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


def pool_advice(problem: SamplingProblem, sampler: str, seed: int = 0, settings: Mapping[str, Any] | None = None,
                kind: str = "processes") -> str | None:
    """A warning when a pool (`kind`: processes or mpi) cannot speed a dynesty run up: with one nested run
    (nruns 1) dynesty sends the workers single points, and where the likelihood costs less per call than
    dynesty's own serial work the pool only adds its messages (measured 0.7-0.9x with processes on 2 cores, and
    4x slower with one MPI worker rank: benchmarks/README.md); else None. With nruns > 1 each worker runs a
    whole nested run, which a pool does speed up."""
    if sampler != "dynesty" or int((settings or {}).get("nruns", 1)) > 1:
        return None
    x = np.asarray(problem.prior_transform(np.random.default_rng(seed).random((33, problem.ndim))), dtype=float)
    per_call = point_seconds_per_call(problem, x)
    if per_call >= DYNESTY_OWN_SECONDS_PER_CALL:
        return None
    return (f"--pool {kind} with one nested run (nruns: 1): the likelihood takes {per_call * 1e6:.3g} us per call, "
            f"less than dynesty's own ~{DYNESTY_OWN_SECONDS_PER_CALL * 1e6:.0f} us, so the workers cannot speed "
            "the nested sampling up (measured 0.7-0.9x with processes, 4x slower with one MPI worker; "
            "benchmarks/README.md); set nruns to the number of workers (independent nested runs, merged), run "
            "without --pool, or run several run files side by side")


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under 1 s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
