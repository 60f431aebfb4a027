"""``darkportal merge RUN.yaml``: merge the parts of a run sampled with ``darkportal run RUN.yaml --rank I
--nranks N`` (one per machine or batch job) and write the results as ``nruns: N`` would have.

The parts are read from ``OUTPUT.parts/rank-*`` and checked (all N complete, the same run file, the
expected seeds) before anything is written; see ``inference.samplers.dynesty_parts``. The importance
refinement, if the run file asks for it, runs here, and can use ``--pool processes``.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from inference.config.strict_yaml import read_yaml
from inference.samplers import interrupt
from inference.samplers.pool import POOL_KINDS

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    from inference.cli.run import _at_least_one

    ap = argparse.ArgumentParser(prog="darkportal merge",
                                 description="Merge the parts of a run (darkportal run --rank I --nranks N).")
    ap.add_argument("run_file", type=Path, help="the run file the parts were sampled from")
    ap.add_argument("--out", type=Path, default=None,
                    help="output folder, as given to the parts (default: the run file's 'output'); the parts are "
                         "read from OUT.parts/rank-*")
    ap.add_argument("--force", action="store_true", help="replace a finished result in the output folder")
    ap.add_argument("--pool", choices=POOL_KINDS, default=None, help="for the importance refinement's batches")
    ap.add_argument("--nprocs", type=_at_least_one, default=None, help="processes with --pool processes")
    return ap


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    with interrupt.graceful():
        read_yaml(args.run_file)  # a hostile file is refused before the heavy imports below
        return _merge(args)


def _merge(args: argparse.Namespace) -> int:
    from inference.cli.run import _finish
    from inference.config.runfile import validate_run_config
    from inference.output.results import collect_provenance
    from inference.output.rundir import check_output_folder, clean_failed_start, prepare_outdir, writer_lock
    from inference.samplers.dynesty_parts import check_parts, config_digest, merge_parts, parts_folder
    from inference.samplers.model import RunModel
    from inference.samplers.pool import make_pool

    config = validate_run_config(args.run_file)
    if config.sampler.name != "dynesty":
        build_parser().error(f"only dynesty runs come in parts; {args.run_file} uses {config.sampler.name}")
    outdir, origin = (Path(args.out), "--out") if args.out is not None else (Path(config.output),
                                                                             f"output: in {args.run_file}")
    parts = parts_folder(outdir)
    resolved = config.to_dict()
    digest = config_digest(resolved)
    records = check_parts(parts, config.seed, digest)  # before anything is written
    model = RunModel(config)
    problem = model.problem()
    if args.pool == "processes":
        model.warm_up()
    settings = {**dict(config.sampler.settings), "nruns": len(records)}
    with make_pool(args.pool, args.nprocs) as pool:
        if not pool.is_master:
            return 0
        created = not outdir.exists()
        check_output_folder(outdir, origin)
        with writer_lock(outdir, command=f"darkportal merge {args.run_file}"):
            prepare_outdir(outdir, resolved, force=args.force, run_file=str(args.run_file))
            try:
                log.info("merging %d parts from %s", len(records), parts)
                t0 = time.monotonic()
                with interrupt.deferred():
                    output = merge_parts(problem, config.sampler.settings, parts, config.seed, digest, pool)
                    wall = time.monotonic() - t0  # of the merge; the parts' own are in info["part_wall_times"]
                    _finish(config, problem, output, wall, settings, outdir, args, collect_provenance, resolved)
            except BaseException:
                clean_failed_start(outdir, created)
                raise
    return 0
