"""Independent check of a run's evidence: plain Monte Carlo over the prior, ln Z = ln mean(L).

Unbiased whatever the posterior's shape (no live points, no modes to miss) but only efficient while the
posterior is not too small a fraction of the prior; the effective sample size is printed so the reader can
judge. Optionally restricted to a box of the unit cube, to weigh one region (an island of the posterior).

    .venv/bin/python tools/brute_force_evidence.py runs/kappa_zero.yaml runs/kappa_nonzero.yaml --draws 20000000
    .venv/bin/python tools/brute_force_evidence.py runs/kappa_nonzero.yaml --box kappa=0:0.05 eta_d=0.75:1
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.special import logsumexp

from inference.config.runfile import load_run_config
from inference.samplers.model import RunModel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_files", nargs="+")
    ap.add_argument("--draws", type=float, default=2e7)
    ap.add_argument("--batch", type=int, default=500_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--box", nargs="*", default=[], metavar="NAME=LO:HI",
                    help="restrict these parameters to [LO, HI] of their unit-cube coordinate")
    args = ap.parse_args()
    for run in args.run_files:
        model = RunModel(load_run_config(run))
        lo, hi = np.zeros(len(model.names)), np.ones(len(model.names))
        for item in args.box:
            name, rng_text = item.split("=")
            a, b = (float(v) for v in rng_text.split(":"))
            lo[model.names.index(name)], hi[model.names.index(name)] = a, b
        rng = np.random.default_rng(args.seed)
        parts = []
        for _ in range(int(np.ceil(args.draws / args.batch))):
            u = lo + (hi - lo) * rng.random((args.batch, len(model.names)))
            parts.append(model.log_likelihood(model.prior_transform(u)))
        logl = np.concatenate(parts)
        ln_z = float(logsumexp(logl) - np.log(len(logl)) + np.sum(np.log(hi - lo)))
        w = np.exp(logl - logl.max())
        ess = w.sum() ** 2 / np.sum(w**2)
        batches = np.array([logsumexp(c) - np.log(len(c)) for c in np.array_split(logl, 20)])
        rel = np.std(np.exp(batches - batches.max())) / np.mean(np.exp(batches - batches.max())) / np.sqrt(20)
        print(f"{run}: {len(logl):,} prior draws{' in ' + ' '.join(args.box) if args.box else ''}: "
              f"ln Z = {ln_z:.3f} +- {rel:.3f} (batch spread), effective sample size {ess:.0f}")


if __name__ == "__main__":
    main()
