"""``darkportal reweight RESULT RUNFILE --out DIR``: a run reweighted to a changed prior or likelihood.

    darkportal reweight results/kappa_nonzero runs/kappa_nonzero_no_g2.yaml --out results/kappa_nonzero_no_g2

The new run file must have the same free and fixed parameters as RESULT and priors no wider than its; any
likelihood change is allowed. The reweighted run is refused, with the number, when its effective sample size
is below --min-ess. The method and its errors are in ``inference.analysis.reweight``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from inference.analysis.reweight import DEFAULT_MIN_ESS
from inference.analysis.reweight_results import reweight_results, write_reweighted
from inference.config.runfile import load_run_config
from inference.output.results import read_results

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="darkportal reweight", description=__doc__.splitlines()[0].split(": ", 1)[1])
    p.add_argument("result", type=Path, help="results folder of a finished run")
    p.add_argument("run_file", type=Path, help="run file with the changed prior or likelihood")
    p.add_argument("--out", type=Path, required=True, help="new results folder")
    p.add_argument("--min-ess", type=float, default=DEFAULT_MIN_ESS,
                   help=f"refuse below this effective sample size (default {DEFAULT_MIN_ESS:.0f})")
    p.add_argument("--force", action="store_true", help="overwrite a finished results folder at --out")
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.out.resolve() == args.result.resolve():
        raise ValueError(f"--out {args.out} is the source folder; choose a new folder")
    res = read_results(args.result)
    config = load_run_config(args.run_file)
    run = reweight_results(res, config, args.min_ess)
    r = run.result
    write_reweighted(args.out, run, str(args.run_file), force=args.force)
    print(f"reweighted {args.result} -> {args.out}")
    print(f"ln Z: {r.logz_old:.3f} +- {r.logz_err_old:.3f} -> {r.logz:.3f} +- {r.logz_err:.3f} "
          f"(ln of the mean weight ratio {r.ln_ratio:+.3f} +- {r.ln_ratio_err:.3f})")
    print(f"effective sample size {r.ess:.0f} of {r.ess_old:.0f} ({100 * r.ess_fraction:.1f} %), "
          f"threshold {args.min_ess:.0f}; {r.n_samples} samples with non-zero weight")
    return 0
