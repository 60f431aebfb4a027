"""dynesty adapter: static nested sampling with checkpoint and resume (dynesty 3.1 API), optionally several
independent runs merged, optionally refined by importance sampling.

The checkpoint `outdir/dynesty.save` is the pickled sampler, signed with this user's key
(`inference.samplers.checkpoint_auth`: a file this user's darkportal did not write is never unpickled) and written
to a temporary file and renamed, so a kill never leaves a half-written checkpoint. It is saved between
iterations, every `checkpoint_every` seconds, at the end, and when Ctrl-C or SIGTERM asks the run to stop
(`inference.samplers.interrupt`). Resume verifies and restores it and continues with `run_nested(resume=True)`; the
random state is part of the checkpoint, so a resumed run continues exactly as the uninterrupted run would
have.

The evidence error is dynesty's own estimate (from the information H); in addition `n_resample`
re-simulated runs (`jitter_run` of `resample_run`, i.e. statistical plus sampling scatter) give a
second spread in `logz_resampled` (a diagnostic of the run, not an error of ln Z: issue 17 measured it
0.2-0.5 above ln Z).

`nruns` > 1: that many independent runs (seeds spawned from the run's seed, checkpoints
`dynesty_<i>.save`), one per process or MPI rank of the pool (serially without one), merged with
`dynesty.utils.merge_runs`: the merged run is a run with nruns x nlive live points, so its ln Z error falls
as 1/sqrt(nruns) at the wall time of one run when each has its own core.

`refine: importance` (the default): after the nested run, `inference.samplers.importance` draws from a
defensive mixture fitted to its posterior; ln Z, its error and the posterior are then that estimate's
(unbiased; the nested run's own numbers are kept in `info["nested"]`).
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

from inference.samplers import (
    SamplerOutput,
    SamplerSettingsError,
    StopKind,
    StopReason,
    check_settings,
    importance,
    interrupt,
)
from inference.samplers.checkpoint_auth import CheckpointError, dump_signed, load_signed
from inference.samplers.pool import PoolHandle
from inference.samplers.problem import PointLogLikelihood, PointPriorTransform, SamplingProblem, evaluate_log_likelihood
from inference.samplers.progress import Progress, nested_sampling_total

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
    "nruns": 1,
    "refine": "none",  # or "importance" (the kappa run files): ln Z and posterior refined by importance sampling
    "refine_target_err": 0.02,
    "refine_n_eff": importance.DEFAULTS["n_eff"],
    "refine_max_draws": importance.DEFAULTS["max_draws"],
    "refine_alpha": importance.DEFAULTS["alpha"],
    "refine_components": importance.DEFAULTS["components"],
    "refine_adapt": importance.DEFAULTS["adapt"],
}
REFINE_METHODS = ("none", "importance")
RESUMABLE = frozenset({"dlogz", "maxcall", "maxiter", "checkpoint_every", "n_resample", "progress_every"})


def run(problem: SamplingProblem, settings: dict[str, Any], outdir: Path, seed: int,
        pool: PoolHandle | None, resume: bool) -> SamplerOutput:
    """Run (or resume) a static nested-sampling run; see the module docstring."""
    opts = check_settings("dynesty", settings, DEFAULTS)
    if opts["refine"] not in REFINE_METHODS:
        raise SamplerSettingsError(f"dynesty setting refine = {opts['refine']!r}; choose one of {REFINE_METHODS}")
    t0 = time.monotonic()
    nruns = int(opts["nruns"])
    if nruns == 1:
        res, resumed_at = _one_run(problem, opts, outdir / CHECKPOINT, seed, pool, resume)
        checkpoint = str(outdir / CHECKPOINT)
    else:
        res, resumed_at = _merged_runs(problem, opts, outdir, seed, pool, resume)
        checkpoint = str(outdir / "dynesty_<i>.save")
    return finish(problem, res, opts, seed, pool, t0, nruns, checkpoint, resumed_at)


def finish(problem: SamplingProblem, res: Any, opts: dict[str, Any], seed: int, pool: PoolHandle | None,
           t0: float, nruns: int, checkpoint: str, resumed_at: int | None) -> SamplerOutput:
    """The output of a finished (possibly merged) nested run `res`: stop reason, info and, with
    ``refine: importance``, the refinement (shared by `run` and the merge of part runs,
    ``inference.samplers.dynesty_parts``)."""
    out = _output(problem, res, opts, seed)
    capped = (opts["maxiter"] and out.info["niter"] >= opts["maxiter"] * nruns) or (
        opts["maxcall"] and out.info["ncall"] >= opts["maxcall"] * nruns)
    out.stop = (StopReason(StopKind.ITERATION_CAP, "stopped at the maxiter/maxcall cap: the evidence is NOT converged")
                if capped else
                StopReason(StopKind.CONVERGED, f"remaining evidence estimate below dlogz = {opts['dlogz']}"))
    out.info.update(nested_wall_time=time.monotonic() - t0, resumed_from_iteration=resumed_at,
                    settings=opts, checkpoint=checkpoint, nruns=nruns, evidence_method="nested sampling")
    log.info("dynesty: nested sampling done: ln Z = %.3f +/- %.3f, %d calls", out.logz, out.logz_err,
             out.info["ncall"])
    if opts["refine"] == "importance":
        out = _refined(problem, res, out, opts, seed, pool)
        log.info("dynesty: importance refinement done: ln Z = %.3f +/- %.3f (batch spread %.3f, stage scale %.2f), "
                 "ESS %.0f", out.logz, out.logz_err, out.info["logz_batch_err"],
                 out.info["importance"]["stage_scale"], out.info["kish_ess"])
    out.info["wall_time"] = time.monotonic() - t0
    return out


def _one_run(problem: SamplingProblem, opts: dict[str, Any], checkpoint: Path, seed: int,
             pool: PoolHandle | None, resume: bool) -> tuple[Any, int | None]:
    """One static run (resumed from `checkpoint` if asked and present) -> (dynesty results, resumed-at)."""
    use_pool = pool is not None and pool.kind is not None
    lean = _LeanPool(pool) if pool is not None and use_pool else None
    if resume and checkpoint.exists():
        log.info("dynesty: resuming from %s", checkpoint)
        sampler = restore(checkpoint, lean)
        resumed_at: int | None = int(sampler.it) - 1
    else:
        if resume:
            log.info("dynesty: no checkpoint %s yet; starting from the beginning", checkpoint)
        sampler = _new_sampler(problem, opts, seed, lean)
        resumed_at = None
    # a finished run (its live points added to the dead ones) samples on only when not "resumed": dynesty then
    # takes the live points back out and continues to the new dlogz / caps (a resume of it would do nothing)
    finished = resumed_at is not None and bool(getattr(sampler, "added_live", False))
    if finished:
        log.info("dynesty: the checkpoint is a finished run; sampling on to dlogz = %s", opts["dlogz"])
    progress = Progress("dynesty", unit="it", every=float(opts["progress_every"]), estimated=True)
    saver = _Saver(sampler, checkpoint, float(opts["checkpoint_every"]))
    with warnings.catch_warnings(), interrupt.deferred():
        warnings.filterwarnings("ignore", message="You are resuming a finished static run")
        warnings.filterwarnings("ignore", message="Repeatedly running sample", category=DeprecationWarning)
        sampler.run_nested(dlogz=opts["dlogz"], maxcall=opts["maxcall"], maxiter=opts["maxiter"],
                           print_progress=True, print_func=_ProgressPrinter(progress, int(sampler.nlive), saver),
                           resume=resumed_at is not None and not finished)
        saver.save()
    res = sampler.results
    progress.close(f"done: ln Z = {float(res['logz'][-1]):.3f} +/- {float(res['logzerr'][-1]):.3f}, "
                   f"{int(np.sum(res['ncall'])):,} calls")
    return sampler.results, resumed_at


class _RunOne:
    """Picklable job of one of `nruns` independent runs: index -> (dynesty results, resumed-at)."""

    def __init__(self, problem: SamplingProblem, opts: dict[str, Any], outdir: Path, seeds: list[int],
                 resume: bool) -> None:
        self.problem, self.opts, self.outdir, self.seeds, self.resume = problem, opts, outdir, seeds, resume

    def __call__(self, i: int) -> tuple[Any, int | None]:
        return _one_run(self.problem, self.opts, self.outdir / f"dynesty_{i}.save", self.seeds[i], None,
                        self.resume)


def run_seeds(seed: int, nruns: int) -> list[int]:
    """The seeds of the `nruns` independent runs of a merged run (or of its parts on other machines)."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence([seed, 100]).spawn(nruns)]


def _merged_runs(problem: SamplingProblem, opts: dict[str, Any], outdir: Path, seed: int,
                 pool: PoolHandle | None, resume: bool) -> tuple[Any, int | None]:
    """`nruns` independent runs, one per pool process or MPI rank (serially without a pool), merged."""
    nruns = int(opts["nruns"])
    seeds = run_seeds(seed, nruns)
    job = _RunOne(problem, opts, outdir, seeds, resume)
    if pool is not None and pool.kind is not None:
        log.info("dynesty: %d independent runs on a pool of %d", nruns, pool.size)
        done = pool.map(job, list(range(nruns)))
    else:
        done = [job(i) for i in range(nruns)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        merged = dyfunc.merge_runs([r for r, _ in done])
    resumed = [at for _, at in done if at is not None]
    return merged, (min(resumed) if resumed else None)


def _refined(problem: SamplingProblem, res: Any, nested: SamplerOutput, opts: dict[str, Any], seed: int,
             pool: PoolHandle | None) -> SamplerOutput:
    """The importance-sampling refinement of a finished nested run (module docstring)."""
    logwt = np.asarray(res["logwt"], dtype=float)
    w = np.exp(logwt - np.max(logwt))
    settings = {"target_err": float(opts["refine_target_err"]), "max_draws": int(opts["refine_max_draws"]),
                "n_eff": int(opts["refine_n_eff"]),
                "alpha": float(opts["refine_alpha"]), "components": int(opts["refine_components"]),
                "adapt": int(opts["refine_adapt"])}
    rng = np.random.default_rng(np.random.SeedSequence([seed, 17]))
    ref = importance.refine(problem, np.asarray(res["samples_u"], dtype=float), w, settings, rng, pool)
    samples = np.asarray(problem.prior_transform(ref.u), dtype=float)
    info = dict(nested.info)
    info.update(nested={"logz": nested.logz, "logz_err": nested.logz_err, "ncall": nested.info["ncall"],
                        "kish_ess": nested.info["kish_ess"], "logz_resampled": nested.logz_resampled,
                        "logz_resampled_std": nested.info["logz_resampled_std"]},
                importance=ref.info(), evidence_method="nested sampling + importance refinement",
                ncall=nested.info["ncall"] + ref.ncall, kish_ess=ref.ess, logz_batch_err=ref.batch_err,
                logz_resampled_std=None, logz_nested=nested.logz, logz_err_nested=nested.logz_err,
                refine_wall_time=ref.wall_time)
    return SamplerOutput(names=problem.names, samples=samples, weights=ref.weights, logl=ref.logl,
                         logz=ref.logz, logz_err=ref.logz_err, info=info, logz_resampled=[], stop=nested.stop)


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
        "nlive": int(res["nlive"]) if "nlive" in res.keys() else int(np.max(res["samples_n"])),
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
    out = {"logl_birth": birth, "log_volume": np.asarray(res["logvol"], dtype=float)}
    if "nlive" not in res.keys():  # merged runs (nruns > 1): dynesty records the live-point count per sample
        out["nlive"] = np.asarray(res["samples_n"], dtype=float)
        return out
    niter, nlive = int(res["niter"]), int(res["nlive"])
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


RESTART = "Start the run again with 'darkportal run RUN.yaml --force' (without --resume)"


def restore(path: Path, pool: Any = None) -> Any:
    """The sampler in a signed checkpoint, with ``pool`` attached as dynesty's own restore does; a file this
    user's darkportal did not write is refused before anything is unpickled (CheckpointError)."""
    saved = load_signed(path, "dynesty checkpoint", RESTART)
    sampler = saved.get("sampler") if isinstance(saved, dict) else None
    if not isinstance(sampler, dynesty.sampler.Sampler):
        raise CheckpointError(path, "the dynesty checkpoint holds no nested sampler", RESTART)
    old = int(getattr(sampler, "queue_size", 1) or 1)
    mapper, queue_size = (map, 1) if pool is None else (pool.map, int(pool.size))
    if queue_size != old and old != 1:  # dynesty's restore keeps the queue the run started with
        queue_size = old
    sampler.mapper, sampler.pool, sampler.queue_size = mapper, pool, queue_size
    return sampler


class _Saver:
    """Writes the signed checkpoint between iterations: every ``every`` seconds, at the end, and when a stop
    was requested (dynesty's own checkpointing is not used: it writes unsigned pickles)."""

    def __init__(self, sampler: Any, path: Path, every: float) -> None:
        self.sampler, self.path, self.every = sampler, path, every
        self.last = time.monotonic()

    def save(self) -> None:
        dump_signed({"sampler": self.sampler, "version": dynesty.__version__, "format_version": 1}, self.path)
        self.last = time.monotonic()

    def between_iterations(self) -> None:
        interrupt.checkpoint_point(self.save)
        if time.monotonic() - self.last >= self.every:
            self.save()


class _ProgressPrinter:
    """dynesty print_func: iterations done of the expected total (``nested_sampling_total`` from the remaining
    dlogz; while the final live points are added, exactly nlive more), the calls, ln Z and the remaining dlogz;
    and the signed checkpoint (it is called between iterations, where dynesty itself would checkpoint)."""

    def __init__(self, progress: Progress, nlive: int, saver: _Saver | None = None) -> None:
        self.progress = progress
        self.nlive = nlive
        self.saver = saver

    def __call__(self, results: Any, niter: int, ncall: int, add_live_it: int | None = None,
                 dlogz: float | None = None, **_: Any) -> None:
        if self.saver is not None and not add_live_it:  # adding the final live points is not resumable
            self.saver.between_iterations()
        delta = results.delta_logz if results.delta_logz < 1e6 else np.inf
        logz = results.logz if results.logz > -1e6 else -np.inf
        if add_live_it:
            total: float | None = niter - add_live_it + self.nlive
            phase = f"adding the final live points, {ncall:,} calls"
        else:
            left = nested_sampling_total(niter, self.nlive, float(delta), float(dlogz or 0.0))
            total = None if left is None else left + self.nlive
            phase = f"{ncall:,} calls, eff {results.eff:.1f} %"
        self.progress.update(niter, f"{phase}, ln Z {logz:.3f}, dlogz {delta:.3f} (stop at {dlogz})", total=total)
