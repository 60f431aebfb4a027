"""``darkportal run RUN.yaml``: validate, sample, store the results.

Flow: run file -> RunConfig -> RunModel (prior + likelihood) -> sampler adapter (checkpointing into the
output folder) -> per-sample predictions and per-term log-likelihoods -> results written atomically.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

from inference.config.strict_yaml import read_yaml
from inference.samplers import interrupt
from inference.samplers.pool import POOL_KINDS

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="darkportal run", description="Sample the posterior of a run file.")
    ap.add_argument("run_file", type=Path, help="run file (YAML), e.g. runs/kappa_nonzero.yaml")
    ap.add_argument("--resume", action="store_true", help="continue an interrupted run from its checkpoint")
    ap.add_argument("--force", action="store_true",
                    help="replace a finished run (it is kept until the new run completes) or start an unfinished one "
                         "again; with --resume, resume with changed stopping or saving settings")
    ap.add_argument("--pool", choices=POOL_KINDS, default=None,
                    help="evaluate the likelihood in worker processes or MPI ranks (mpiexec -n N ...)")
    ap.add_argument("--nprocs", type=_at_least_one, default=None,
                    help="processes that compute with --pool processes: this one and N-1 workers (default: CPU count)")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: the run file's 'output')")
    ap.add_argument("--rank", type=_at_least_zero, default=None,
                    help="dynesty: run only part I (0 .. N-1) of --nranks N independent nested runs, into "
                         "OUTPUT.parts/rank-I, e.g. one per machine or batch job; then 'darkportal merge RUN.yaml'")
    ap.add_argument("--nranks", type=_at_least_one, default=None, help="the number of parts N (with --rank)")
    return ap


def _at_least_zero(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def _at_least_one(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes >= 1, got {text!r}")
    return n


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if (args.rank is None) != (args.nranks is None):
        build_parser().error("--rank and --nranks go together")
    if args.rank is not None and args.rank >= args.nranks:
        build_parser().error(f"--rank {args.rank} is not below --nranks {args.nranks} (ranks count from 0)")
    if args.rank is not None and args.pool is not None:
        build_parser().error("a part (--rank) runs on one core: start one part per core instead of --pool")
    with interrupt.graceful():
        read_yaml(args.run_file)  # a hostile file is refused before the heavy imports below
        return _run(args) if args.rank is None else _run_part(args)


def _run_part(args: argparse.Namespace) -> int:
    """``--rank I --nranks N``: part I of N nested runs into OUTPUT.parts/rank-I (inference.samplers.dynesty_parts)."""
    from inference.config.runfile import validate_run_config
    from inference.output.results import ResultsExistError, atomic_write_text
    from inference.output.rundir import writer_lock
    from inference.samplers.dynesty_backend import CHECKPOINT
    from inference.samplers.dynesty_parts import PART_RECORD, PartsError, config_digest, part_folder, run_part
    from inference.samplers.model import RunModel

    config = validate_run_config(args.run_file)
    if config.sampler.name != "dynesty":
        build_parser().error(f"--rank splits dynesty runs; {args.run_file} uses {config.sampler.name}")
    outdir = Path(args.out) if args.out is not None else Path(config.output)
    partdir = part_folder(outdir, args.rank)
    digest = config_digest(config.to_dict())
    again = f"darkportal run {args.run_file} --rank {args.rank} --nranks {args.nranks}" + (
        f" --out {args.out}" if args.out is not None else "")
    lock = partdir / "part.lock"  # the digest of the run file the checkpoint was started with
    resume = False
    if (partdir / PART_RECORD).exists() and not args.force:
        raise ResultsExistError(f"{partdir} holds a finished part; to run it again use '{again} --force'")
    has_checkpoint = (partdir / CHECKPOINT).exists()
    if args.resume and has_checkpoint:
        found = lock.read_text(encoding="utf-8").strip() if lock.exists() else "unknown"
        if found != digest:
            raise PartsError(partdir, "config_digest", digest, found,
                             f"The checkpoint was started from another run file: start again with '{again} --force'")
        resume = True
    elif has_checkpoint and not args.force:
        raise ResultsExistError(f"{partdir} holds an unfinished part; continue it with '{again} --resume' or "
                                f"start again with '{again} --force'")
    partdir.mkdir(parents=True, exist_ok=True)
    model = RunModel(config)
    with writer_lock(partdir, command=again):
        if not resume:
            (partdir / CHECKPOINT).unlink(missing_ok=True)
            atomic_write_text(lock, digest + "\n")
        with interrupt.deferred():
            record = run_part(model.problem(), dict(config.sampler.settings), partdir, config.seed, args.rank,
                              args.nranks, digest, resume=resume)
    print(f"part {args.rank} of {args.nranks} done: nested ln Z = {record.logz:.3f} +- {record.logz_err:.3f}, "
          f"{record.ncall:,} calls, {record.wall_time:.0f} s; results: {partdir}/")
    print(f"when all {args.nranks} parts are done: darkportal merge {args.run_file}"
          + (f" --out {args.out}" if args.out is not None else ""))
    return 0


def _run(args: argparse.Namespace) -> int:
    from inference.config.runfile import validate_run_config
    from inference.output.results import COMPLETE, collect_provenance
    from inference.output.rundir import check_output_folder, clean_failed_start, prepare_outdir, writer_lock
    from inference.samplers.model import RunModel
    from inference.samplers.pool import make_pool

    config = validate_run_config(args.run_file)  # schema, likelihood and physics checks, as `validate`
    if args.out is not None:
        outdir, origin = Path(args.out), "--out"
    else:
        outdir, origin = Path(config.output), f"output: in {args.run_file}"
    model = RunModel(config)
    problem = model.problem()
    if args.pool == "processes":
        model.warm_up()  # forked workers inherit the built likelihood and its compiled code
    with make_pool(args.pool, args.nprocs) as pool:
        if not pool.is_master:  # an MPI worker rank: it served rank 0 and has nothing to write
            return 0
        created = not outdir.exists()
        check_output_folder(outdir, origin)
        out_opt = f" --out {outdir}" if args.out is not None else ""
        with writer_lock(outdir, command=f"darkportal run {args.run_file}"):
            resolved = config.to_dict()
            resuming = prepare_outdir(outdir, resolved, resume=args.resume, force=args.force,
                                      run_file=str(args.run_file))
            replacing = (outdir / COMPLETE).exists()
            try:
                with interrupt.deferred():  # a signal stops at the next checkpoint, never inside a write
                    output, wall, settings = _sample(config, model, problem, outdir, pool, resuming, args)
                    _finish(config, problem, output, wall, settings, outdir, args, collect_provenance, resolved)
            except interrupt.RunInterrupted as exc:
                print(f"darkportal run: {exc}; " + _after_stop(
                    outdir, created, exc.saved, f"darkportal run {args.run_file} --resume"
                    + (" --force" if replacing else "") + out_opt),
                      file=sys.stderr)
                return exc.exit_code
            except BaseException:
                clean_failed_start(outdir, created)
                raise
    return 0


def _after_stop(outdir: Path, created: bool, saved: bool, resume_cmd: str) -> str:
    """What a stopped run left, and how to go on (the rest of the one line printed)."""
    from inference.output.results import COMPLETE, LOCK
    from inference.output.rundir import checkpoints_in, clean_failed_start

    if (outdir / COMPLETE).exists() and not (outdir / LOCK).exists():  # the lock goes when the results are whole
        return f"the results in {outdir} were complete before the stop"
    clean_failed_start(outdir, created)
    if not checkpoints_in(outdir):
        return "it stopped before anything was sampled; nothing to resume"
    return (f"the checkpoint in {outdir} holds the progress" + ("" if saved else " up to its last save")
            + f"; continue with: {resume_cmd}")


def _sample(config: Any, model: Any, problem: Any, outdir: Path, pool: Any, resuming: bool,
            args: argparse.Namespace) -> tuple[Any, float, dict[str, Any]]:
    from inference.samplers import run_sampler
    from inference.samplers.cost import estimate_cost, pool_advice

    settings = dict(config.sampler.settings)
    log.info("run %s: %d free parameters (%s), %s likelihood on data set %s, sampler %s%s",
             config.name, problem.ndim, ", ".join(problem.names), config.likelihood.mode,
             config.likelihood.data, config.sampler.name, " (resuming)" if resuming else "")
    log.info("likelihood terms: %s", ", ".join(model.likelihood.term_names))
    log.info(estimate_cost(problem, settings, sampler=config.sampler.name, seed=config.seed))
    advice = (pool_advice(problem, config.sampler.name, config.seed, settings, args.pool)
              if args.pool in ("processes", "mpi") else None)
    if advice:
        log.warning(advice)
    t0 = time.monotonic()
    output = run_sampler(config.sampler.name, problem, settings, outdir, config.seed, pool=pool, resume=resuming)
    return output, time.monotonic() - t0, settings


def _finish(config: Any, problem: Any, output: Any, wall: float, settings: dict[str, Any], outdir: Path,
            args: argparse.Namespace, collect_provenance: Any, resolved: dict[str, Any]) -> None:
    from inference.output.results import print_summary_table, read_results, write_results
    from inference.samplers import compute_blobs

    log.info("sampling took %.1f s; stopped because: %s", wall, output.stop.text)
    if not output.converged and config.sampler.name != "scan":  # scan says in its stop reason what to raise
        log.warning("%s: the sampler stopped before convergence; treat the results as preliminary "
                    "(raise the cap; an emcee chain continues where it stopped with --resume --force)", config.name)
    log.info("computing predictions for %d samples", len(output.samples))
    blobs = compute_blobs(problem, output.samples)
    interrupt.checkpoint_point(lambda: None)  # stopped while computing predictions: the checkpoint is whole
    provenance = collect_provenance(config.seed, config.sampler.name, settings,
                                    measurement_set=config.likelihood.data, run_file=str(args.run_file),
                                    likelihood_mode=config.likelihood.mode,
                                    theory_options=config.theory.theory_options().as_dict(),
                                    wall_time_s=wall)
    write_results(outdir, output, blobs, resolved, provenance, force=True)  # prepare_outdir decided
    results = read_results(outdir)
    print(print_summary_table(results.summary))
    if output.logz_err is not None:
        print(f"ln Z = {output.logz:.3f} +- {output.logz_err:.3f}")
    print(f"stopped because: {output.stop.text}")
    print(f"results: {outdir}/ (posterior.nc, summary.csv, evidence.json, run.yaml, provenance.json)")
