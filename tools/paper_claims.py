"""The paper's quantitative statements checked on two finished cuts-mode scan runs (README, "Reproducing the paper").

    .venv/bin/python tools/paper_claims.py results/paper_scan_kappa_nonzero results/paper_scan_kappa_zero

Prints, as markdown: each run's allowed points, effective sample size and prior-volume fraction (ln Z); the
table of the paper's statements with what darkportal finds (inference.analysis.paper_claims); the cuts-mode verdicts
of the benchmark points under the runs' theory options.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from inference.analysis.paper_claims import benchmark_verdicts, claims_markdown, paper_claims
from inference.output.plots_data import run_view_from_results, theory_options
from inference.output.results import read_results

WANTED = ("BR(K+->pi+nunu)", "BR(B+->K+nunu)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("nonzero", type=Path, help="results folder of the kappa != 0 cuts-mode run")
    ap.add_argument("zero", type=Path, help="results folder of the kappa = 0 cuts-mode run")
    args = ap.parse_args()
    results = [read_results(args.nonzero), read_results(args.zero)]
    for res in results:
        lk = res.config.get("likelihood") or {}
        if lk.get("mode") != "cuts":
            raise SystemExit(f"{res.outdir}: a {lk.get('mode')}-mode run; the paper's statements are about the "
                             "allowed points of a cuts-mode run (runs/paper_scan_kappa_*.yaml)")
    views = [run_view_from_results(res, WANTED) for res in results]
    options = theory_options(results[0].config)
    print(f"R_MiniBooNE convention: {options.r_normalisation}; data set "
          f"{(results[0].config.get('likelihood') or {}).get('data')}\n")
    print("| run | allowed points (stored) | Kish ESS | ln Z = ln(allowed prior-volume fraction) | likelihood calls "
          "| sampling |")
    print("| --- | --- | --- | --- | --- | --- |")
    for res in results:
        ev = json.loads((res.outdir / "evidence.json").read_text())
        prov = json.loads((res.outdir / "provenance.json").read_text())
        info = prov.get("sampler_info") or {}
        print(f"| {res.config.get('name')} | {info.get('n_accepted', '?')} ({info.get('n_stored', '?')}) | "
              f"{ev['kish_ess']:.0f} | {ev['logz']:.3f} +- {ev['logz_err']:.3f} | {ev.get('ncall', '?')} | "
              f"{prov.get('wall_time_s', float('nan')):.0f} s |")
    print()
    print(claims_markdown(paper_claims(*views), benchmark_verdicts(options, str(
        (results[0].config.get("likelihood") or {}).get("data", "2023")))))


if __name__ == "__main__":
    main()
