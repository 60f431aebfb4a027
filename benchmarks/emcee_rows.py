"""The emcee rows of the benchmark table (issue 14), from ONE run: both emcee run files, and their posteriors
against the dynesty runs' of the same model.

    .venv/bin/python benchmarks/emcee_rows.py     # the dynesty runs of runs/kappa_*.yaml, then both emcee runs

(`benchmarks/run_all.py` calls `emcee_rows` after its own dynesty runs, so they are not run twice.) Each row:
steps, the largest integrated autocorrelation time (and chain length in units of it), the largest split R-hat
between the four ensembles, the smallest bulk ESS, whether the gate passed and why it stopped, wall and CPU
time; then the comparison with dynesty: for every parameter and q in 2.5/16/50/84/97.5 %, F_dynesty(emcee's
q-quantile) - q in probability, its error from both runs' ESS (`inference.analysis.posterior_compare`), and for
kappa != 0 the mass of the small island kappa < 0.1 TeV^-1, eta_d > 0.75 in both. dynesty's default
posterior is itself off by up to ~0.08 in probability for kappa != 0 (issue 17), so kappa != 0 is also
compared with an independent reference: `--reference-draws` (default 4e7) plain prior draws weighted by
the likelihood (no sampler at all; Kish's ESS is printed with it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EMCEE_RUNS = {"emcee_kappa_nonzero": "kappa_nonzero", "emcee_kappa_zero": "kappa_zero"}
ISLAND = ("kappa=0:0.1", "eta_d=0.75:1")


def _fmt_row(run: str, r: dict[str, Any], reference: str | None) -> list[tuple[str, str, str]]:
    from inference.analysis.posterior_compare import compare_runs
    from inference.output.results import read_results

    label = f"`darkportal run runs/{run}.yaml` (4 ensembles x 32 walkers, DE 0.8 + snooker 0.2)"
    if "error" in r:
        return [(label, "FAILED", str(r["error"]))]
    info = json.loads((Path(r["outdir"]) / "provenance.json").read_text())["sampler_info"]
    names = [row.parameter for row in read_results(Path(r["outdir"])).summary]
    tau, rhat, ess = info["autocorr_time"], info["r_hat"], info["ess_bulk"]
    jt = max(range(len(tau)), key=lambda j: tau[j])
    jr = max(range(len(rhat)), key=lambda j: rhat[j] if rhat[j] is not None else -1.0)
    je = min(range(len(ess)), key=lambda j: ess[j] if ess[j] is not None else float("inf"))
    rows = [(label, f"{float(r['wall']):.0f} s wall",
             f"{'**converged**' if info['converged'] else '**NOT converged**'}: {info['niter']} steps, max tau "
             f"{tau[jt]:.0f} ({names[jt]}; {info['niter'] / tau[jt]:.1f} tau), max R-hat {rhat[jr]:.4f} ({names[jr]}),"
             f" min bulk ESS {ess[je]:.0f} ({names[je]}), acceptance {info['acceptance_fraction']:.3f}; sampling "
             f"{float(r['sampling']):.0f} s, CPU {float(r['cpu']):.0f} s, {r['ncall']} points, stored every "
             f"{info['thin_by']} steps, peak RSS {float(r['peak_rss_mb']):.0f} MB; stop: {info['stop_reason']}")]
    if reference is None:
        return rows
    ref = Path(reference)
    if not (ref / "COMPLETE").exists():
        return [*rows, (f"{run} vs dynesty", "no dynesty run", f"{ref} has no finished run")]
    box = ISLAND if "kappa" in names else ()
    report = compare_runs(read_results(Path(r["outdir"])), read_results(ref), box)
    params = report["parameters"]
    assert isinstance(params, list)
    worst = max(params, key=lambda p: p["max_miss"])
    per = ", ".join(f"{p['parameter']} {p['max_miss']:.3f} ({p['max_sigma']:.1f})" for p in params)
    note = (f"largest miss {worst['max_miss']:.3f} in probability ({worst['parameter']}), "
            f"{max(p['max_sigma'] for p in params):.1f} x its error at most; per parameter: {per}")
    if "box" in report:
        b = report["box"]
        assert isinstance(b, dict)
        note += (f"; island {' '.join(ISLAND)}: emcee {b['mass_a']:.4f} +- {b['error_a']:.4f}, dynesty "
                 f"{b['mass_b']:.4f} +- {b['error_b']:.4f}")
    rows.append((f"{run}: posterior vs dynesty's ({EMCEE_RUNS[run]}.yaml), F_dynesty(emcee quantile) - q over "
                 "2.5/16/50/84/97.5 %", f"{worst['max_miss']:.3f}", note))
    return rows


def prior_reference(run: str, draws: float, seed: int = 1, batch: int = 500_000
                    ) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, float]:
    """(names, samples, weights, Kish ESS) of `draws` prior draws of runs/<run>.yaml weighted by the likelihood;
    only draws within exp(-30) of the largest weight are kept."""
    from inference.config.runfile import load_run_config
    from inference.samplers.model import RunModel

    model = RunModel(load_run_config(ROOT / "runs" / f"{run}.yaml"))
    rng = np.random.default_rng(seed)
    kept_x, kept_l, best = [], [], -np.inf
    for _ in range(int(np.ceil(draws / batch))):
        x = model.prior_transform(rng.random((batch, len(model.names))))
        logl = model.log_likelihood(x)
        best = max(best, float(np.max(logl)))
        keep = logl > best - 30.0
        kept_x.append(x[keep])
        kept_l.append(logl[keep])
    logl = np.concatenate(kept_l)
    keep = logl > best - 30.0
    w = np.exp(logl[keep] - best)
    return tuple(model.names), np.concatenate(kept_x)[keep], w / w.sum(), float(w.sum() ** 2 / np.sum(w**2))


def reference_row(run: str, outdir: str, draws: float) -> tuple[str, str, str]:
    from inference.analysis.posterior_compare import box_fraction, quantile_agreement
    from inference.output.results import read_results

    names, ref, w, kish = prior_reference(EMCEE_RUNS[run], draws)
    res = read_results(Path(outdir))
    ws = res.posterior["weighted_samples"].ds
    samples = np.column_stack([np.asarray(ws[n].values, dtype=float) for n in names])
    ess = np.array([float(next(r.ess_bulk or np.nan for r in res.summary if r.parameter == n)) for n in names])
    rows = quantile_agreement(names, samples, None, ess, ref, w, kish)
    worst = max(rows, key=lambda r: r.max_miss)
    per = ", ".join(f"{r.parameter} {r.max_miss:.3f} ({r.max_sigma:.1f})" for r in rows)
    note = (f"reference: {draws:.0e} prior draws weighted by L, Kish ESS {kish:.0f}; largest miss "
            f"{worst.max_miss:.3f} ({worst.parameter}), {max(r.max_sigma for r in rows):.1f} x its error at most; "
            f"per parameter: {per}")
    if "kappa" in names:
        box = {"kappa": (0.0, 0.1), "eta_d": (0.75, 1.0)}
        pa, ea = box_fraction(names, samples, None, float(np.min(ess)), box)
        pb, eb = box_fraction(names, ref, w, kish, box)
        note += f"; island: emcee {pa:.4f} +- {ea:.4f}, reference {pb:.4f} +- {eb:.4f}"
    return (f"{run}: posterior vs weighted prior draws, F_ref(emcee quantile) - q", f"{worst.max_miss:.3f}", note)


def emcee_rows(dynesty_outdirs: dict[str, str], per_point: float | None = None,
               reference_draws: float = 4e7) -> list[tuple[str, str, str]]:
    """Run both emcee run files (serially) and return their table rows; `dynesty_outdirs` maps the dynesty run
    names (kappa_nonzero, kappa_zero) to finished results folders of the same script run."""
    from run_all import time_run

    rows: list[tuple[str, str, str]] = []
    for run, dyn in EMCEE_RUNS.items():
        r = time_run(run, False)
        rows += _fmt_row(run, r, dynesty_outdirs.get(dyn))
        if run == "emcee_kappa_nonzero" and reference_draws > 0 and "error" not in r:
            rows.append(reference_row(run, str(r["outdir"]), reference_draws))
    return rows


def main() -> int:
    from run_all import RUNS, time_run

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference-draws", type=float, default=4e7, help="prior draws of the kappa != 0 reference")
    args = ap.parse_args()
    os.chdir(ROOT)
    load0 = os.getloadavg()
    print(f"load average at start (1, 5, 15 min): {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}\n")
    outdirs, rows = {}, []
    for run in RUNS:
        r = time_run(run, False)
        outdirs[run] = str(r.get("outdir", ""))
        note = str(r.get("error", f"ln Z = {r.get('logz', float('nan')):.2f}"))
        rows.append((f"`darkportal run runs/{run}.yaml` (the reference for the emcee rows)",
                     f"{float(r['wall']):.1f} s wall", note))
    rows += emcee_rows(outdirs, reference_draws=args.reference_draws)
    print("| quantity | measured | ratio / note |\n|---|---|---|")
    for name, value, note in rows:
        print(f"| {name} | {value} | {note} |")
    load1 = os.getloadavg()
    print(f"\nload average at end (1, 5, 15 min): {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    raise SystemExit(main())
