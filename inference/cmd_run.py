"""``darkportal run RUN.yaml``: validate, sample, store the results.

Flow: run file -> RunConfig -> RunModel (prior + likelihood) -> sampler adapter (checkpointing into the
output folder) -> per-sample predictions and per-term log-likelihoods -> results written atomically.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from inference.config import load_run_config
from inference.model import RunModel
from inference.pool import POOL_KINDS, make_pool
from inference.results import collect_provenance, prepare_outdir, print_summary_table, read_results, write_results
from inference.samplers import compute_blobs, estimate_cost, pool_advice, run_sampler

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="darkportal run", description="Sample the posterior of a run file.")
    ap.add_argument("run_file", type=Path, help="run file (YAML), e.g. runs/kappa_nonzero.yaml")
    ap.add_argument("--resume", action="store_true", help="continue an interrupted run from its checkpoint")
    ap.add_argument("--force", action="store_true",
                    help="overwrite a finished run, or resume although the run file changed")
    ap.add_argument("--pool", choices=POOL_KINDS, default=None,
                    help="evaluate the likelihood in worker processes or MPI ranks (mpiexec -n N ...)")
    ap.add_argument("--nprocs", type=_at_least_one, default=None,
                    help="processes that compute with --pool processes: this one and N-1 workers (default: CPU count)")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: the run file's 'output')")
    return ap


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
    config = load_run_config(args.run_file)
    outdir = Path(args.out) if args.out is not None else Path(config.output)
    model = RunModel(config)
    problem = model.problem()
    if args.pool == "processes":
        model.warm_up()  # forked workers inherit the built likelihood and its compiled code
    with make_pool(args.pool, args.nprocs) as pool:
        if not pool.is_master:  # an MPI worker rank: it served rank 0 and has nothing to write
            return 0
        resolved = config.to_dict()
        resuming = prepare_outdir(outdir, resolved, resume=args.resume, force=args.force)
        settings = dict(config.sampler.settings)
        log.info("run %s: %d free parameters (%s), %s likelihood on data set %s, sampler %s%s",
                 config.name, problem.ndim, ", ".join(problem.names), config.likelihood.mode,
                 config.likelihood.data, config.sampler.name, " (resuming)" if resuming else "")
        log.info("likelihood terms: %s", ", ".join(model.likelihood.term_names))
        log.info(estimate_cost(problem, settings, sampler=config.sampler.name, seed=config.seed))
        advice = pool_advice(problem, config.sampler.name, config.seed) if args.pool == "processes" else None
        if advice:
            log.warning(advice)
        t0 = time.monotonic()
        output = run_sampler(config.sampler.name, problem, settings, outdir, config.seed, pool=pool,
                             resume=resuming)
        wall = time.monotonic() - t0
    log.info("sampling took %.1f s; stopped because: %s", wall, output.info.get("stop_reason", "the sampler finished"))
    if "NOT" in str(output.info.get("stop_reason", "")) and config.sampler.name != "scan":  # scan says what to raise
        log.warning("%s: the sampler stopped before convergence; treat the results as preliminary "
                    "(raise the step or call cap, or use dynesty for this posterior)", config.name)
    log.info("computing predictions for %d samples", len(output.samples))
    blobs = compute_blobs(problem, output.samples)
    provenance = collect_provenance(config.seed, config.sampler.name, settings,
                                    measurement_set=config.likelihood.data, run_file=str(args.run_file),
                                    likelihood_mode=config.likelihood.mode,
                                    theory_options=config.theory.theory_options().as_dict(),
                                    wall_time_s=wall)
    write_results(outdir, output, blobs, resolved, provenance, force=args.force)
    results = read_results(outdir)
    print(print_summary_table(results.summary))
    if output.logz_err is not None:
        print(f"ln Z = {output.logz:.3f} +- {output.logz_err:.3f}")
    print(f"stopped because: {output.info.get('stop_reason', 'the sampler finished')}")
    print(f"results: {outdir}/ (posterior.nc, summary.csv, evidence.json, run.yaml, provenance.json)")
    return 0
