"""dynesty adapter: static nested sampling with checkpoint and resume (dynesty 3.1 API).

The checkpoint `outdir/dynesty.save` is the pickled sampler (written by dynesty to a temporary file and
renamed, so a kill never leaves a half-written checkpoint).  Resume restores it with
`NestedSampler.restore` and continues with `run_nested(resume=True)`; the random state is part of the
checkpoint, so a resumed run continues exactly as the uninterrupted run would have.

The evidence error is dynesty's own estimate (from the information H); in addition `n_resample`
re-simulated runs (`jitter_run` of `resample_run`, i.e. statistical plus sampling scatter) give a
second spread in `logz_resampled`.
"""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path
from typing import Any

import dynesty
import numpy as np
from dynesty import utils as dyfunc

from inference.pool import PoolHandle
from inference.problem import PointLogLikelihood, PointPriorTransform, SamplingProblem, evaluate_log_likelihood
from inference.samplers import ProgressLog, SamplerOutput, check_settings

log = logging.getLogger(__name__)

CHECKPOINT = "dynesty.save"

DEFAULTS: dict[str, Any] = {
    "nlive": 500,
    "dlogz": 0.1,
    "bound": "multi",
    "sample": "rwalk",
    "walks": None,
    "slices": None,
    "maxcall": None,
    "maxiter": None,
    "checkpoint_every": 60.0,
    "n_resample": 20,
    "queue_size": None,
    "progress_every": 10.0,
}


def run(problem: SamplingProblem, settings: dict[str, Any], outdir: Path, seed: int,
        pool: PoolHandle | None, resume: bool) -> SamplerOutput:
    """Run (or resume) a static nested-sampling run; see the module docstring."""
    opts = check_settings("dynesty", settings, DEFAULTS)
    checkpoint = outdir / CHECKPOINT
    t0 = time.monotonic()
    use_pool = pool is not None and pool.kind is not None
    lean = _LeanPool(pool) if pool is not None and use_pool else None
    if resume and checkpoint.exists():
        log.info("dynesty: resuming from %s", checkpoint)
        sampler = dynesty.NestedSampler.restore(str(checkpoint), pool=lean)
        resumed_at: int | None = int(sampler.it) - 1
    else:
        if resume:
            log.info("dynesty: no checkpoint in %s yet; starting from the beginning", outdir)
        sampler = _new_sampler(problem, opts, seed, lean)
        resumed_at = None
    progress = ProgressLog("dynesty", float(opts["progress_every"]))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="You are resuming a finished static run")
        sampler.run_nested(dlogz=opts["dlogz"], maxcall=opts["maxcall"], maxiter=opts["maxiter"],
                           print_progress=True, print_func=_ProgressPrinter(progress),
                           checkpoint_file=str(checkpoint), checkpoint_every=float(opts["checkpoint_every"]),
                           resume=resumed_at is not None)
    res = sampler.results
    out = _output(problem, res, opts, seed)
    capped = (opts["maxiter"] and out.info["niter"] >= opts["maxiter"]) or (
        opts["maxcall"] and out.info["ncall"] >= opts["maxcall"])
    reason = ("stopped at the maxiter/maxcall cap: the evidence is NOT converged" if capped
              else f"remaining evidence estimate below dlogz = {opts['dlogz']}")
    out.info.update(stop_reason=reason,
                    wall_time=time.monotonic() - t0, resumed_from_iteration=resumed_at,
                    settings=opts, checkpoint=str(checkpoint))
    progress(f"done: ln Z = {out.logz:.3f} +/- {out.logz_err:.3f}, {out.info['ncall']} calls", force=True)
    return out


class _LeanPool:
    """The pool as dynesty sees it: results of its random walks come back without their evaluation history
    (every point of the walk, ~12 kB of small arrays per walk), which dynesty only reads when
    ``save_evaluation_history`` is on (never here) and which costs more to send back than the walk itself on
    this model's compiled likelihood (benchmarks/README.md)."""

    def __init__(self, pool: PoolHandle):
        self.pool = pool
        self.size = pool.size

    def map(self, fn: Any, items: Any) -> list[Any]:
        return self.pool.map(_WithoutHistory(fn), items)


class _WithoutHistory:
    def __init__(self, fn: Any):
        self.fn = fn

    def __call__(self, item: Any) -> Any:
        out = self.fn(item)
        if isinstance(out, tuple) and hasattr(out, "_replace") and hasattr(out, "evaluation_history"):
            out = out._replace(evaluation_history=[])
        return out


def _new_sampler(problem: SamplingProblem, opts: dict[str, Any], seed: int,
                 pool: _LeanPool | None) -> dynesty.NestedSampler:
    rng = np.random.default_rng(seed)
    nlive = int(opts["nlive"])
    # Initial live points in one vectorised call (dynesty would evaluate them one by one).
    u = rng.random((nlive, problem.ndim))
    v = np.asarray(problem.prior_transform(u), dtype=float)
    logl = evaluate_log_likelihood(problem, v)
    if not np.any(np.isfinite(logl)):
        raise RuntimeError(f"dynesty: none of {nlive} prior draws has a finite likelihood; "
                           "for an indicator (cuts) likelihood use the scan sampler")
    extra = {k: opts[k] for k in ("walks", "slices") if opts[k] is not None}
    return dynesty.NestedSampler(
        PointLogLikelihood(problem), PointPriorTransform(problem), problem.ndim, nlive=nlive,
        bound=opts["bound"], sample=opts["sample"], rstate=rng, pool=pool,
        queue_size=opts["queue_size"] or (pool.size if pool is not None else None),
        live_points=[u, v, logl], **extra)


def _output(problem: SamplingProblem, res: Any, opts: dict[str, Any], seed: int) -> SamplerOutput:
    logwt = np.asarray(res["logwt"], dtype=float)
    weights = np.exp(logwt - np.max(logwt))
    weights /= weights.sum()
    ncall = int(np.sum(res["ncall"]))
    resampled = _resampled_logz(res, int(opts["n_resample"]), seed)
    info = {
        "ncall": ncall,
        "niter": int(res["niter"]),
        "nlive": int(res["nlive"]),
        "efficiency": float(res["eff"]) / 100.0,
        "information": float(np.asarray(res["information"])[-1]),
        "kish_ess": float(1.0 / np.sum(weights**2)),
        "logz_resampled_std": float(np.std(resampled, ddof=1)) if len(resampled) > 1 else None,
    }
    logl = np.asarray(res["logl"], dtype=float)
    return SamplerOutput(names=problem.names, samples=np.asarray(res["samples"], dtype=float),
                         weights=weights, logl=logl,
                         logz=float(res["logz"][-1]), logz_err=float(res["logzerr"][-1]), info=info,
                         logz_resampled=resampled, per_sample=nested_bookkeeping(res))


def nested_bookkeeping(res: Any) -> dict[str, np.ndarray]:
    """Birth contour, live-point count and ln prior volume of each dead point of a static run.

    dynesty records for each sample the iteration it was drawn at (`samples_it`); a point drawn at iteration
    k > 0 replaced the k-th dead point, so its birth contour is that point's log L; the initial live points
    (k = 0) were drawn from the whole prior (-inf).  The live-point count is nlive for the niter dead points,
    then nlive, nlive - 1, ..., 1 for the final live points dynesty adds.  These are the columns a
    PolyChord-style post-processor (anesthetic's NestedSamples) rebuilds the run from.
    """
    logl = np.asarray(res["logl"], dtype=float)
    it = np.asarray(res["samples_it"], dtype=int)
    birth = np.where(it > 0, logl[np.clip(it - 1, 0, None)], -np.inf)
    niter, nlive = int(res["niter"]), int(res["nlive"])
    out = {"logl_birth": birth, "log_volume": np.asarray(res["logvol"], dtype=float)}
    if len(logl) == niter + nlive:
        out["nlive"] = np.concatenate([np.full(niter, nlive), np.arange(nlive, 0, -1)]).astype(float)
    elif len(logl) == niter:
        out["nlive"] = np.full(niter, float(nlive))
    return out


def _resampled_logz(res: Any, n: int, seed: int) -> list[float]:
    """ln Z of `n` re-simulated runs: bootstrap over live-point strands, then new prior volumes."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [float(dyfunc.jitter_run(dyfunc.resample_run(res, rstate=rng), rstate=rng)["logz"][-1])
                for _ in range(n)]


class _ProgressPrinter:
    """dynesty print_func that sends throttled progress lines to logging instead of stderr."""

    def __init__(self, progress: ProgressLog) -> None:
        self.progress = progress

    def __call__(self, results: Any, niter: int, ncall: int, add_live_it: int | None = None,
                 dlogz: float | None = None, **_: Any) -> None:
        delta = results.delta_logz if results.delta_logz < 1e6 else np.inf
        logz = results.logz if results.logz > -1e6 else -np.inf
        phase = f"adding live point {add_live_it}" if add_live_it else f"iteration {niter}"
        self.progress(f"{phase}, {ncall} calls, eff {results.eff:.1f} %, ln Z {logz:.3f}, "
                      f"remaining dlogz {delta:.3f} (stop at {dlogz})")
