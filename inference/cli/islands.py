"""``darkportal islands RESULT [--out DIR]``: the separate islands of a finished run's posterior.

    darkportal islands results/kappa_nonzero        # -> results/kappa_nonzero/islands.json, islands.md

For each island: its weight with a bootstrap error (and the binomial one from Kish's ESS), the parameter
ranges it spans, its best point (the highest-log L sample, polished by the fit's simplex when the polished point
stays in the island) and the observables predicted there, as `darkportal predict` computes them. The method is
in ``inference.analysis.islands`` (docs/analysis.md). Both files are written atomically.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from inference.analysis.islands import EPS_QUANTILE, N_BOOT, TAIL, IslandsResult, run_islands
from inference.output.results import _jsonable, atomic_write_text, git_revision

ISLANDS_JSON = "islands.json"
ISLANDS_MD = "islands.md"
#: observables shown in islands.md (islands.json has all of them)
SHOWN = ("BR(B+->K+nunu)", "BR(KL->pi0nunu)", "BR(K+->pi+nunu)", "Delta_a_mu", "R_MiniBooNE", "R_CHARMII", "ctau_S")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="darkportal islands", description=__doc__.splitlines()[0].split(": ", 1)[1])
    p.add_argument("result", type=Path, help="results folder of a finished run")
    p.add_argument("--out", type=Path, default=None, help="folder for islands.json and islands.md (default: RESULT)")
    p.add_argument("--eps-quantile", type=float, default=EPS_QUANTILE,
                   help=f"quantile of the k-th-neighbour distances used as the distance cut (default {EPS_QUANTILE})")
    p.add_argument("--tail", type=float, default=TAIL,
                   help=f"mass of the lightest samples left out of the clustering (default {TAIL:g})")
    p.add_argument("--bootstrap", type=int, default=N_BOOT, help=f"bootstrap resamples (default {N_BOOT})")
    p.add_argument("--no-polish", action="store_true", help="best points are the best samples, not polished")
    p.add_argument("--maxfev", type=int, default=3000,
                   help="likelihood evaluations of each island's polishing simplex (default 3000)")
    return p


def format_islands(result: IslandsResult) -> str:
    """islands.md: one summary table, then each island's ranges, best point and observables."""
    lines = [f"# Islands of {result.run}", "",
             f"{len(result.islands)} island(s) among {result.n_samples} weighted samples (Kish ESS "
             f"{result.ess:.0f}); DBSCAN on the {result.k}-nearest-neighbour graph in the standardised unit cube, "
             f"distance cut eps = {result.eps:.3g} (the {result.eps_quantile:g} quantile of the {result.k}-th-"
             f"neighbour distances), lightest {result.tail:g} of the mass set aside and assigned afterwards. "
             "Weight errors: bootstrap over samples (Kish: sqrt(p (1 - p) / ESS)); neither includes nested "
             "sampling's own error on the weights.", "",
             "| island | weight | ± (bootstrap) | ± (Kish) | samples | ESS | best log L | chi2 | polished |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for isl in result.islands:
        lines.append(f"| {isl.index} | {isl.weight:.4f} | {isl.weight_err:.4f} | {isl.weight_err_kish:.4f} | "
                     f"{isl.n_samples} | {isl.ess:.0f} | {isl.best_loglike:.4f} | {isl.chi2:.4f} | "
                     f"{'yes' if isl.polished else 'no'} |")
    for isl in result.islands:
        lines += ["", f"## Island {isl.index} (weight {isl.weight:.4f} ± {isl.weight_err:.4f})", "",
                  "| parameter | 2.5 % | median | 97.5 % | best point |", "| --- | ---: | ---: | ---: | ---: |"]
        lines += [f"| {r.name} | {r.q025:.4g} | {r.median:.4g} | {r.q975:.4g} | {isl.best[r.name]:.6g} |"
                  for r in isl.ranges]
        fixed = [f"{n} = {v:g}" for n, v in isl.best.items() if n not in result.names]
        if fixed:
            lines += ["", "fixed: " + ", ".join(fixed)]
        lines += ["", "| observable at the best point | SM | NP | total | unit |", "| --- | ---: | ---: | ---: | --- |"]
        lines += [f"| {o.name} | {_g(o.sm)} | {_g(o.np)} | {_g(o.total)} | {o.unit} |"
                  for o in isl.observables if o.name in SHOWN]
    return "\n".join(lines) + "\n"


def _g(v: float | str | None) -> str:
    return "-" if v is None else (v if isinstance(v, str) else f"{v:.4g}")


def write_islands(outdir: Path, result: IslandsResult, wall: float) -> tuple[Path, Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    doc = {**result.to_dict(), "git_revision": git_revision(), "wall_time_s": wall}
    json_path, md_path = outdir / ISLANDS_JSON, outdir / ISLANDS_MD
    atomic_write_text(json_path, json.dumps(_jsonable(doc), indent=2) + "\n")
    atomic_write_text(md_path, format_islands(result))
    return json_path, md_path


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    t0 = time.monotonic()
    result = run_islands(args.result, polish=not args.no_polish, maxfev=args.maxfev, tail=args.tail,
                         eps_quantile=args.eps_quantile, n_boot=args.bootstrap)
    wall = time.monotonic() - t0
    for isl in result.islands:
        spans = ", ".join(f"{r.name} {r.q025:.3g}-{r.q975:.3g}" for r in isl.ranges)
        print(f"island {isl.index}: weight {isl.weight:.4f} ± {isl.weight_err:.4f} ({isl.n_samples} samples), "
              f"best log L {isl.best_loglike:.4f}; 95 %: {spans}")
    paths = write_islands(args.out if args.out is not None else args.result, result, wall)
    print(f"written {paths[0]}, {paths[1]} ({wall:.1f} s)")
    return 0
