"""The emcee rows of the benchmark table (issue 14), from ONE run: both emcee run files, and their posteriors
against two independent ones of the same model.

    nice -n 5 .venv/bin/python benchmarks/emcee_rows.py   # the dynesty runs of runs/kappa_*.yaml, both emcee runs

(`benchmarks/run_all.py` calls `emcee_rows` after its own dynesty runs, so they are not run twice.) Each row:
steps, the largest integrated autocorrelation time (and chain length in units of it), the largest split R-hat
between the four ensembles, the smallest bulk ESS, whether the gate passed and why it stopped, wall and CPU
time; then two comparisons (`inference.analysis.posterior_compare`): for every parameter and q in
2.5/16/50/84/97.5 %, F_ref(emcee's q-quantile) - q in probability and its Monte Carlo error from the ESS of
the indicator x <= that quantile on each side (ArviZ's quantile ESS of the walkers for emcee, the weighted
indicator ESS for the references), against (a) `--reference-draws` (default 1e8) plain prior draws weighted
by the likelihood (no sampler at all; kept in results/reference/ and reused by a later run with the same
count and seed) and (b) dynesty's posterior of runs/kappa_*.yaml. Each row gives per parameter the largest
|miss| and, in brackets, the largest |miss| / error; then the distribution of the 40 (35 for kappa = 0)
miss / error values (largest |z|, rms, how many beyond 2 and 3: a unit normal has rms 1 and 4.6 % beyond 2),
and for kappa != 0 the mass of the small island kappa < 0.1 TeV^-1, eta_d > 0.75 on both sides. The full
per-quantile tables follow the table.
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
REPORTS: list[str] = []  # the full comparison tables of this run, printed after the table


def _fmt_row(run: str, r: dict[str, Any]) -> tuple[str, str, str]:
    from inference.output.results import read_results

    label = f"`darkportal run runs/{run}.yaml` (4 ensembles x 32 walkers, DE 0.8 + snooker 0.2)"
    if "error" in r:
        return (label, "FAILED", str(r["error"]))
    info = json.loads((Path(r["outdir"]) / "provenance.json").read_text())["sampler_info"]
    names = [row.parameter for row in read_results(Path(r["outdir"])).summary]
    tau, rhat, ess = info["autocorr_time"], info["r_hat"], info["ess_bulk"]
    jt = max(range(len(tau)), key=lambda j: tau[j])
    jr = max(range(len(rhat)), key=lambda j: rhat[j] if rhat[j] is not None else -1.0)
    je = min(range(len(ess)), key=lambda j: ess[j] if ess[j] is not None else float("inf"))
    return (label, f"{float(r['wall']):.0f} s wall",
            f"{'**converged**' if info['converged'] else '**NOT converged**'}: {info['niter']} steps, max tau "
            f"{tau[jt]:.0f} ({names[jt]}; {info['niter'] / tau[jt]:.1f} tau), max R-hat {rhat[jr]:.4f} ({names[jr]}),"
            f" min bulk ESS {ess[je]:.0f} ({names[je]}), acceptance {info['acceptance_fraction']:.3f}; sampling "
            f"{float(r['sampling']):.0f} s, CPU {float(r['cpu']):.0f} s, {r['ncall']} points, stored every "
            f"{info['thin_by']} steps, peak RSS {float(r['peak_rss_mb']):.0f} MB; stop: {info['stop_reason']}")


def agreement_note(report: dict[str, Any], other: str) -> tuple[str, str]:
    """(largest |miss|, the row's note) of a `posterior_compare` report of emcee (A) against `other` (B)."""
    params = report["parameters"]
    z = report["z"]
    worst = max(params, key=lambda p: p["max_miss"])
    per = ", ".join(f"{p['parameter']} {p['max_miss']:.4f} ({p['max_sigma']:.1f})" for p in params)
    note = (f"largest miss {worst['max_miss']:.4f} in probability ({worst['parameter']}); miss / error over the "
            f"{z['count']} comparisons: max \\|z\\| {z['max_abs']:.2f}, rms {z['rms']:.2f}, {z['beyond_2']} beyond 2 "
            f"({0.0455 * z['count']:.1f} expected), {z['beyond_3']} beyond 3; per parameter max \\|miss\\| "
            f"(max \\|z\\|): {per}; ESS: emcee {report['ess_a']}, {other} {report['ess_b']}")
    if "box" in report:
        b = report["box"]
        sigma = abs(b["mass_a"] - b["mass_b"]) / float(np.hypot(b["error_a"], b["error_b"]))
        note += (f"; island {' '.join(ISLAND)}: emcee {b['mass_a']:.4f} +- {b['error_a']:.4f}, {other} "
                 f"{b['mass_b']:.4f} +- {b['error_b']:.4f} ({sigma:.1f} sigma)")
    return f"{worst['max_miss']:.4f}", note


def dynesty_row(run: str, outdir: str, reference: str) -> tuple[str, str, str]:
    from inference.analysis.posterior_compare import compare_runs, format_report
    from inference.output.results import read_results

    label = (f"{run}: posterior vs dynesty's ({EMCEE_RUNS[run]}.yaml), F_dynesty(emcee quantile) - q over "
             "2.5/16/50/84/97.5 %")
    ref = Path(reference)
    if not (ref / "COMPLETE").exists():
        return (label, "no dynesty run", f"{ref} has no finished run")
    res = read_results(Path(outdir))
    box = ISLAND if "kappa" in [row.parameter for row in res.summary] else ()
    report = compare_runs(res, read_results(ref), box)
    REPORTS.append(f"## {label}\n{format_report(report)}")
    return (label, *agreement_note(report, "dynesty"))


def prior_reference(run: str, draws: float, seed: int = 1, batch: int = 500_000
                    ) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """(names, samples, weights) of `draws` prior draws of runs/<run>.yaml weighted by the likelihood; only
    draws within exp(-30) of the largest weight are kept. Stored in results/reference/ and reused."""
    from inference.config.runfile import load_run_config
    from inference.samplers.model import RunModel

    cache = ROOT / "results" / "reference" / f"{run}_{draws:.0e}_seed{seed}.npz"
    if cache.exists():
        with np.load(cache) as f:
            return tuple(str(n) for n in f["names"]), f["samples"], f["logl"]
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
    samples, logl = np.concatenate(kept_x)[keep], logl[keep]
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, names=np.array(model.names), samples=samples, logl=logl)
    os.replace(tmp, cache)
    return tuple(model.names), samples, logl


def reference_row(run: str, outdir: str, draws: float) -> tuple[str, str, str]:
    from inference.analysis.posterior_compare import Draws, agreement_report, format_report, run_draws
    from inference.output.results import read_results

    names, ref, logl = prior_reference(EMCEE_RUNS[run], draws)
    reference = Draws.weighted(ref, np.exp(logl - np.max(logl)))
    emcee_names, chains = run_draws(read_results(Path(outdir)))
    chains = chains.select([emcee_names.index(n) for n in names])
    label = f"{run}: posterior vs {draws:.0e} prior draws weighted by L, F_ref(emcee quantile) - q"
    report = agreement_report(names, chains, reference, outdir, f"{draws:.0e} weighted prior draws of "
                              f"runs/{EMCEE_RUNS[run]}.yaml", ISLAND if "kappa" in names else ())
    REPORTS.append(f"## {label}\n{format_report(report)}")
    return (label, *agreement_note(report, "reference"))


def emcee_rows(dynesty_outdirs: dict[str, str], per_point: float | None = None,
               reference_draws: float = 1e8) -> list[tuple[str, str, str]]:
    """Run both emcee run files (serially) and return their table rows; `dynesty_outdirs` maps the dynesty run
    names (kappa_nonzero, kappa_zero) to finished results folders of the same script run."""
    from run_all import time_run

    rows: list[tuple[str, str, str]] = []
    for run, dyn in EMCEE_RUNS.items():
        r = time_run(run, False)
        rows.append(_fmt_row(run, r))
        if "error" in r:
            continue
        if reference_draws > 0:
            rows.append(reference_row(run, str(r["outdir"]), reference_draws))
        if dyn in dynesty_outdirs:
            rows.append(dynesty_row(run, str(r["outdir"]), dynesty_outdirs[dyn]))
    return rows


# ------------------------------------------------------------------------------ item 3 of issue 14: a linear map
RIDGE = 27.0  # the K_L ridge: eta_c ~ -27 eta_t


class Affine:
    """y = A (x - c) (A constant, so the posterior density in y is the one in x times a constant)."""

    def __init__(self, a: np.ndarray, c: np.ndarray) -> None:
        self.a, self.a_inv, self.c = a, np.linalg.inv(a), c

    def to_y(self, x: np.ndarray) -> np.ndarray:
        return np.asarray((np.asarray(x) - self.c) @ self.a.T)

    def to_x(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(np.asarray(y) @ self.a_inv.T + self.c)


class InY:
    """f(x(y)) for a vectorised f of the physical parameters."""

    def __init__(self, f: Any, affine: Affine) -> None:
        self.f, self.affine = f, affine

    def __call__(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(self.f(self.affine.to_x(y)))


class PriorInY:
    def __init__(self, f: Any, affine: Affine) -> None:
        self.f, self.affine = f, affine

    def __call__(self, u: np.ndarray) -> np.ndarray:
        return self.affine.to_y(self.f(u))


def ridge_map(config: Any) -> Affine:
    """Each parameter scaled to its prior box (unit width), then eta_c replaced by the ridge coordinate
    (eta_c + 27 eta_t) / width(eta_c): along the ridge only eta_t changes."""
    free = list(config.priors.names)
    lo = np.array([float(config.priors[n].ppf(np.zeros(1))[0]) for n in free])
    hi = np.array([float(config.priors[n].ppf(np.ones(1))[0]) for n in free])
    a = np.diag(1.0 / (hi - lo))
    ic, it = free.index("eta_c"), free.index("eta_t")
    a[ic, it] = RIDGE / (hi[ic] - lo[ic])
    return Affine(a, lo)


def reparametrisation_rows(max_time: float = 900.0) -> list[tuple[str, str, str]]:
    """Both emcee run files, each with its own settings and seed, in the physical parameters (the default)
    and in the ridge coordinates of `ridge_map`; for each: steps to the gate (the gate reads the sampled
    coordinates), wall time, and tau of the physical parameters on the final chain (emcee's estimator,
    largest over ensembles)."""
    import tempfile
    import time

    import emcee

    from inference.config.runfile import load_run_config
    from inference.samplers import run_sampler
    from inference.samplers.emcee_gate import ensemble_tau
    from inference.samplers.model import RunModel
    from inference.samplers.problem import SamplingProblem

    rows = []
    for run in EMCEE_RUNS:
        config = load_run_config(ROOT / "runs" / f"{run}.yaml")
        model = RunModel(config)
        model.warm_up()
        base = model.problem()
        settings = {**config.sampler.settings, "max_time": max_time}
        affine = ridge_map(config)
        ridge = SamplingProblem(tuple(f"y{j}" for j in range(base.ndim)), PriorInY(base.prior_transform, affine),
                                InY(base.log_prior, affine), InY(base.log_likelihood, affine))
        for label, problem, back in (("physical parameters (default)", base, None), ("ridge coordinates", ridge,
                                                                                    affine)):
            out_dir = Path(tempfile.mkdtemp(prefix=f"reparam_{run}_"))
            t0 = time.perf_counter()
            out = run_sampler("emcee", problem, settings, out_dir, seed=config.seed)
            wall = time.perf_counter() - t0
            thin = int(settings["thin_by"])
            chain = emcee.backends.HDFBackend(str(out_dir / "chain.h5"), read_only=True).get_chain()
            if back is not None:
                chain = back.to_x(chain)
            tau = ensemble_tau(chain, int(settings["ensembles"]), thin)
            j = int(np.argmax(tau))
            load = os.getloadavg()
            rows.append((f"{run}: emcee in the {label}", f"{wall:.0f} s wall",
                         f"{'converged' if out.converged else 'NOT converged'} after {out.info['niter']} steps; "
                         f"physical max tau {tau[j]:.0f} ({base.names[j]}; {out.info['niter'] / tau[j]:.1f} tau), "
                         f"tau {', '.join(f'{n} {t:.0f}' for n, t in zip(base.names, tau, strict=True))}; "
                         f"acceptance {out.info['acceptance_fraction']:.3f}; load average {load[0]:.2f} {load[1]:.2f}"))
            print(rows[-1], flush=True)
    return rows


def main() -> int:
    from run_all import RUNS, time_run

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference-draws", type=float, default=1e8, help="prior draws of each reference")
    ap.add_argument("--reparametrisation", action="store_true",
                    help="only measure emcee in the ridge coordinates against the default (issue 14, item 3)")
    args = ap.parse_args()
    os.chdir(ROOT)
    load0 = os.getloadavg()
    print(f"load average at start (1, 5, 15 min): {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}\n")
    if args.reparametrisation:
        table = reparametrisation_rows()
        print("| quantity | measured | ratio / note |\n|---|---|---|")
        for name, value, note in table:
            print(f"| {name} | {value} | {note} |")
        load1 = os.getloadavg()
        print(f"\nload average at end (1, 5, 15 min): {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
        return 0
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
    print("\n" + "\n\n".join(REPORTS))
    print(f"\nload average at end (1, 5, 15 min): {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    raise SystemExit(main())
