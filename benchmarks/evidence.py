"""Evidence and posterior accuracy per second of wall time (issue 17), from ONE run of this script.

    nice .venv/bin/python benchmarks/evidence.py                      # everything (long: ~15-30 min)
    nice .venv/bin/python benchmarks/evidence.py --seeds 5 --candidates default old --ref-draws 1e8 2e8

For each candidate way of sampling runs/kappa_nonzero.yaml and runs/kappa_zero.yaml (same likelihood and
priors; only the sampler settings differ) and each of `--seeds` seeds: ln Z of both runs, the error as quoted
and the spread measured over the seeds, wall time and likelihood calls, wall x error^2 (the cost of a unit of
precision; the quoted error, and the measured spread), and the posterior's largest quantile miss: for every
parameter and p in (0.16, 0.50, 0.84), |F_ref(q_p) - p|, where q_p is the run's weighted p-quantile and F_ref
the reference CDF. The reference is plain Monte Carlo over the prior (as tools/brute_force_evidence.py: ln Z
= ln mean L, its error from the spread of 20 batches, and the posterior from the same draws weighted by L),
which shares nothing with any candidate but the likelihood. `--merge-scaling` adds the default kappa_zero
run in 1, 2 and 4 parts (`darkportal run --rank I --nranks N`, one process each, side by side) merged by
`darkportal merge`; `--merge-scaling-only` runs just that, `--mpi-scaling-only` the same run file with nruns 1
and 2 under `mpiexec -n 2` and `-n 3` (`--pool mpi`), `--cost` just the cost estimate against the
measured wall time of the run files in COST_RUNS.

Runs are in-process and one at a time (wall times are per run on one core); timings on the shared 2-core
machine are approximate, the load averages are printed before and after.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import logsumexp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inference.config.runfile import load_run_config  # noqa: E402
from inference.samplers import run_sampler  # noqa: E402
from inference.samplers.cost import cost_estimate, measure_timings  # noqa: E402
from inference.samplers.model import RunModel  # noqa: E402

RUNS = ("kappa_nonzero", "kappa_zero")
PROBS = (0.16, 0.50, 0.84)
BASE = {"bound": "multi", "checkpoint_every": 1e9, "n_resample": 0, "progress_every": 1e9}
CANDIDATES: dict[str, tuple[str, dict[str, Any]]] = {
    "default": ("rwalk, nlive 500, dlogz 0.5 + importance refinement (target 0.02; the new default)",
                {"nlive": 500, "dlogz": 0.5, "sample": "rwalk", "refine": "importance", "refine_target_err": 0.02}),
    "old": ("rwalk, nlive 1000, dlogz 0.1 (the old default)",
            {"nlive": 1000, "dlogz": 0.1, "sample": "rwalk", "refine": "none"}),
    "rslice": ("rslice, nlive 1000, dlogz 0.1", {"nlive": 1000, "dlogz": 0.1, "sample": "rslice", "refine": "none"}),
    "merged": ("rwalk, 2 merged runs of nlive 500, dlogz 0.1 (serial here: wall / 2 with one core per run)",
               {"nlive": 500, "dlogz": 0.1, "sample": "rwalk", "refine": "none", "nruns": 2}),
    "walks50": ("rwalk, walks 50, nlive 1000, dlogz 0.1",
                {"nlive": 1000, "dlogz": 0.1, "sample": "rwalk", "walks": 50, "refine": "none"}),
    # measured here only, not a run-file option: dynesty's DynamicNestedSampler called directly
    "dynamic": ("dynamic nested sampling, rwalk, nlive_init 500, dlogz_init 0.5, 3 batches of 500, evidence-weighted "
                "(pfrac 0)", {"dynamic": True, "nlive": 500, "dlogz": 0.5, "sample": "rwalk", "maxbatch": 3}),
    # measured here only: nautilus-sampler (pip install nautilus-sampler; not a dependency of darkportal), its
    # defaults (n_live 2000, n_eff 10 000, f_live 0.01), vectorised on the batch likelihood, one thread
    "nautilus": ("nautilus 1.0 (neural-network-boosted importance sampling), its defaults, vectorised, one thread; "
                 "quoted error 1/sqrt(n_eff) (nautilus states none)", {"nautilus": True}),
}


def model_of(run: str) -> RunModel:
    model = RunModel(load_run_config(ROOT / "runs" / f"{run}.yaml"))
    model.warm_up()
    return model


def weighted_quantiles(x: np.ndarray, w: np.ndarray, probs: tuple[float, ...]) -> np.ndarray:
    order = np.argsort(x)
    cdf = np.cumsum(w[order]) / np.sum(w)
    return np.interp(probs, cdf, x[order])


def weighted_cdf(x: np.ndarray, w: np.ndarray, at: np.ndarray) -> np.ndarray:
    order = np.argsort(x)
    cdf = np.cumsum(w[order]) / np.sum(w)
    return np.interp(at, x[order], cdf)


def reference(model: RunModel, draws: float, seed: int, batch: int = 1_000_000) -> dict[str, Any]:
    """Plain prior Monte Carlo: ln Z, its 20-batch error, the Kish ESS and the weighted draws worth keeping."""
    rng = np.random.default_rng(seed)
    nb = int(np.ceil(draws / batch))
    logs, kept_x, kept_l = [], [], []
    t0 = time.perf_counter()
    for _ in range(nb):
        x = model.prior_transform(rng.random((batch, len(model.names))))
        logl = model.log_likelihood(x)
        logs.append(float(logsumexp(logl)))
        keep = logl > -30.0  # weights below e^-29 of the best point's (log L ~ -1) change no quantile
        kept_x.append(x[keep])
        kept_l.append(logl[keep])
    ntot = nb * batch
    logz = float(logsumexp(logs) - np.log(ntot))
    groups = np.array_split(np.asarray(logs), min(20, nb))
    glogz = np.array([logsumexp(g) - np.log(len(g) * batch) for g in groups])
    err = float(np.std(np.exp(glogz - logz), ddof=1) / np.sqrt(len(groups)))
    logl = np.concatenate(kept_l)
    w = np.exp(logl - logl.max())
    return {"logz": logz, "err": err, "ess": float(w.sum() ** 2 / np.sum(w**2)), "draws": ntot,
            "x": np.concatenate(kept_x), "w": w, "wall": time.perf_counter() - t0}


def quantile_miss(samples: np.ndarray, weights: np.ndarray, ref: dict[str, Any],
                  names: tuple[str, ...]) -> tuple[float, str]:
    worst, where = 0.0, ""
    for j, name in enumerate(names):
        q = weighted_quantiles(samples[:, j], weights, PROBS)
        miss = np.abs(weighted_cdf(ref["x"][:, j], ref["w"], q) - np.asarray(PROBS))
        if miss.max() > worst:
            worst, where = float(miss.max()), f"{name} q{int(100 * PROBS[int(np.argmax(miss))])}"
    return worst, where


def run_dynamic(model: RunModel, settings: dict[str, Any], seed: int) -> dict[str, Any]:
    """dynesty's DynamicNestedSampler on the same per-point likelihood and prior transform as the dynesty backend,
    its batches placed by the evidence weight function (pfrac 0) and capped at ``maxbatch``."""
    import dynesty

    from inference.samplers.problem import PointLogLikelihood, PointPriorTransform

    problem = model.problem()
    t0 = time.perf_counter()
    sampler = dynesty.DynamicNestedSampler(PointLogLikelihood(problem), PointPriorTransform(problem), problem.ndim,
                                           bound="multi", sample=settings["sample"],
                                           rstate=np.random.default_rng(seed))
    sampler.run_nested(nlive_init=settings["nlive"], dlogz_init=settings["dlogz"], nlive_batch=settings["nlive"],
                       maxbatch=settings["maxbatch"], wt_kwargs={"pfrac": 0.0}, print_progress=False)
    res = sampler.results
    wall = time.perf_counter() - t0
    w = np.exp(res.logwt - res.logz[-1])
    return {"logz": float(res.logz[-1]), "err": float(res.logzerr[-1]), "wall": wall, "ncall": int(np.sum(res.ncall)),
            "samples": np.asarray(res.samples), "weights": w, "ess": float(w.sum() ** 2 / np.sum(w**2)),
            "batch_err": None}


def run_nautilus(model: RunModel, seed: int) -> dict[str, Any]:
    """nautilus on the batch likelihood and the same prior transform, exploration points discarded (its
    documented choice for unbiased results); ln Z's error is not quoted by nautilus, 1/sqrt(n_eff) stands in."""
    import nautilus
    from threadpoolctl import threadpool_limits

    def prior(u: np.ndarray) -> np.ndarray:
        return np.asarray(model.prior_transform(np.atleast_2d(u)))

    def loglike(x: np.ndarray) -> np.ndarray:
        return np.asarray(model.log_likelihood(np.atleast_2d(x)))

    t0 = time.perf_counter()
    with threadpool_limits(1):
        sampler = nautilus.Sampler(prior, loglike, n_dim=len(model.names), vectorized=True, pass_dict=False,
                                   seed=seed)
        sampler.run(verbose=False, discard_exploration=True)
    wall = time.perf_counter() - t0
    points, logw, _ = sampler.posterior()
    w = np.exp(logw - np.max(logw))
    return {"logz": float(sampler.log_z), "err": float(1.0 / np.sqrt(sampler.n_eff)), "wall": wall,
            "ncall": int(sampler.n_like), "samples": np.asarray(points), "weights": w,
            "ess": float(w.sum() ** 2 / np.sum(w**2)), "batch_err": None}


def run_candidate(model: RunModel, settings: dict[str, Any], seed: int, pool: Any = None) -> dict[str, Any]:
    if settings.get("dynamic"):
        return run_dynamic(model, settings, seed)
    if settings.get("nautilus"):
        return run_nautilus(model, seed)
    with tempfile.TemporaryDirectory(prefix="bench_evidence_") as tmp:
        t0 = time.perf_counter()
        out = run_sampler("dynesty", model.problem(), {**BASE, **settings}, Path(tmp), seed, pool=pool)
        wall = time.perf_counter() - t0
    return {"logz": out.logz, "err": float(out.logz_err or np.nan), "wall": wall, "ncall": int(out.info["ncall"]),
            "samples": out.samples, "weights": out.weights, "ess": float(out.info.get("kish_ess", np.nan)),
            "batch_err": out.info.get("logz_batch_err")}


def estimated_seconds(model: RunModel, settings: dict[str, Any], seed: int, sampler: str = "dynesty") -> float:
    """The total of the cost estimate `darkportal run` prints, timed now."""
    problem = model.problem()
    return cost_estimate(problem, settings, sampler, seed, measure_timings(problem, settings, sampler, seed)).seconds


#: run files whose printed cost estimate `--cost` compares with the sampling wall time measured right after it
COST_RUNS = ("kappa_nonzero", "kappa_zero", "emcee_kappa_zero", "emcee_kappa_nonzero", "paper_scan_kappa_nonzero")
#: emcee_kappa_nonzero converges after ~445 000 steps (~9 min idle); capped here, since what the estimate can
#: state for emcee is the cost per step (its convergence step is not known before the run)
EMCEE_CAP = {"emcee_kappa_nonzero": 20_000}


def cost_table(runs: tuple[str, ...]) -> list[str]:
    """One row per run file: the estimate (phases, calls), the measured sampling wall time, their ratio."""
    lines = ["| run file | estimate: phases (calls expected) | estimate | measured sampling wall (calls) | "
             "measured / estimate | load (1 min) |", "|---|---|---|---|---|---|"]
    for run in runs:
        cfg = load_run_config(ROOT / "runs" / f"{run}.yaml")
        model = RunModel(cfg)
        model.warm_up()
        problem, name = model.problem(), cfg.sampler.name
        settings = dict(cfg.sampler.settings)
        if run in EMCEE_CAP:
            settings["max_steps"] = EMCEE_CAP[run]
        load = os.getloadavg()[0]
        est = cost_estimate(problem, settings, name, cfg.seed, measure_timings(problem, settings, name, cfg.seed))
        with tempfile.TemporaryDirectory(prefix="bench_cost_") as tmp:
            t0 = time.perf_counter()
            out = run_sampler(name, problem, settings, Path(tmp), cfg.seed)
            wall = time.perf_counter() - t0
        if name == "emcee":  # the per-step estimate x the steps taken
            steps = int(out.info["niter"])
            predicted = est.phases[0].seconds_each * steps
            phases = f"{est.phases[0].seconds_each * 1e3:.2f} ms per step x {steps:,} steps taken" + (
                f" (capped at {EMCEE_CAP[run]:,} here)" if run in EMCEE_CAP else " (converged)")
        else:
            predicted = est.seconds
            phases = "; ".join(f"{p.name} {p.calls:,} x {p.seconds_each * 1e6:.3g} us" for p in est.phases)
        calls = int(out.info["ncall"])
        extra = (f", of which nested {int(out.info['nested']['ncall']):,}, refinement draws "
                 f"{sum(int(st['draws']) for st in out.info['importance']['stages']):,}"
                 if "importance" in out.info else "")
        lines.append(f"| {run} | {phases} | {predicted:.1f} s | {wall:.1f} s ({calls:,} calls{extra}) | "
                     f"{wall / predicted:.2f} | {load:.1f} |")
        print(lines[-1], flush=True)
    return lines


def fmt_row(label: str, rows: dict[str, list[dict[str, Any]]], refs: dict[str, dict[str, Any]],
            names: dict[str, tuple[str, ...]]) -> str:
    cells = [label]
    for run in RUNS:
        rs = rows[run]
        z = np.array([r["logz"] for r in rs])
        errs = np.array([r["err"] for r in rs])
        spread = float(np.std(z, ddof=1)) if len(z) > 1 else np.nan
        pull = (z.mean() - refs[run]["logz"]) / np.hypot(spread / np.sqrt(len(z)), refs[run]["err"])
        wall = statistics.mean(r["wall"] for r in rs)
        misses = [quantile_miss(r["samples"], r["weights"], refs[run], names[run]) for r in rs]
        worst = max(misses)
        cells.append(f"{z.mean():.3f} ({', '.join(f'{v:.2f}' for v in z)}); quoted +/- {errs.mean():.3f}, "
                     f"spread {spread:.3f}; mean - ref {z.mean() - refs[run]['logz']:+.3f} ({pull:+.1f} sigma)")
        cells.append(f"{wall:.1f} s, {statistics.mean(r['ncall'] for r in rs) / 1e3:.0f}k calls; wall x err^2 = "
                     f"{wall * errs.mean() ** 2:.3f} (quoted), {wall * spread ** 2:.3f} (spread)")
        cells.append(f"{worst[0]:.3f} ({worst[1]}); median over seeds {statistics.median(m[0] for m in misses):.3f}")
    lnb = np.array([a["logz"] - b["logz"] for a, b in zip(rows[RUNS[0]], rows[RUNS[1]], strict=True)])
    lnb_err = np.mean([np.hypot(a["err"], b["err"]) for a, b in zip(rows[RUNS[0]], rows[RUNS[1]], strict=True)])
    cells.append(f"{lnb.mean():.3f} +/- {lnb_err:.3f} (spread {np.std(lnb, ddof=1) if len(lnb) > 1 else np.nan:.3f})")
    return "| " + " | ".join(cells) + " |"


def merge_scaling(run: str, ranks: tuple[int, ...] = (1, 2, 4)) -> list[str]:
    """The default run file in N parts, one OS process each started side by side (standing in for N ranks or
    machines: `darkportal run RUN.yaml --rank I --nranks N`), then `darkportal merge` (merge_runs + the
    importance refinement). Every process pays its own start (imports, model, compiled code)."""
    import json
    import subprocess

    runfile = ROOT / "runs" / f"{run}.yaml"
    lines = ["| processes (parts) | nested ln Z, merged | refined ln Z | parts wall (side by side) | merge wall | "
             "nested err^2 x parts wall | refined err^2 x total wall | load (1 min) |", "|---" * 8 + "|"]
    for n in ranks:
        with tempfile.TemporaryDirectory(prefix="bench_ranks_") as tmp:
            out = Path(tmp) / run
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            procs = [subprocess.Popen([sys.executable, "-m", "inference.cli", "run", str(runfile), "--rank", str(i),
                                       "--nranks", str(n), "--out", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL) for i in range(n)]
            if any(p.wait() != 0 for p in procs):
                lines.append(f"| {n} | a part failed | | | | | | {load:.1f} |")
                continue
            t_parts = time.perf_counter() - t0
            t1 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "inference.cli", "merge", str(runfile), "--out", str(out)], cwd=ROOT,
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            t_merge = time.perf_counter() - t1
            ev = json.loads((out / "evidence.json").read_text())
        nz, ne = float(ev["logz_nested"]), float(ev["logz_err_nested"])
        z, e = float(ev["logz"]), float(ev["logz_err"])
        lines.append(f"| {n} | {nz:.3f} +/- {ne:.3f} | {z:.3f} +/- {e:.3f} | {t_parts:.1f} s | {t_merge:.1f} s | "
                     f"{ne**2 * t_parts:.3f} | {e**2 * (t_parts + t_merge):.5f} | {load:.1f} |")
        print(lines[-1], flush=True)
    return lines


def mpi_scaling(run: str, workers: tuple[int, ...] = (1, 2)) -> list[str]:
    """The default run file with nruns = K nested runs under `mpiexec -n K+1 darkportal run RUN.yaml --pool mpi`
    (rank 0 drives, K worker ranks each run one nested run, then the refinement's batches go to the K ranks):
    the wall time of the whole command, and of its sampling, with the nested and refined ln Z errors."""
    import json
    import shutil
    import subprocess

    import yaml

    mpiexec = Path(sys.executable).parent / "mpiexec"
    if not mpiexec.exists():
        found = shutil.which("mpiexec")
        if found is None:
            return ["mpiexec not found: pip install -e '.[mpi]'"]
        mpiexec = Path(found)
    lines = ["| MPI ranks (workers) | nruns | nested ln Z, merged | refined ln Z | command wall | sampling wall | "
             "nested err^2 x sampling wall | load (1 min) |", "|---" * 8 + "|"]
    for k in workers:
        with tempfile.TemporaryDirectory(prefix="bench_mpi_") as tmp:
            spec = yaml.safe_load((ROOT / "runs" / f"{run}.yaml").read_text())
            spec["sampler"]["settings"]["nruns"] = k
            runfile = Path(tmp) / f"{run}.yaml"
            runfile.write_text(yaml.safe_dump(spec, sort_keys=False))
            out = Path(tmp) / "out"
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            done = subprocess.run([str(mpiexec), "-n", str(k + 1), sys.executable, "-m", "inference.cli", "run",
                                   str(runfile), "--pool", "mpi", "--out", str(out)], cwd=ROOT, capture_output=True,
                                  text=True)
            wall = time.perf_counter() - t0
            if done.returncode != 0:
                lines.append(f"| {k + 1} ({k}) | {k} | failed: {done.stderr.strip().splitlines()[-1:]} | | | | | |")
                continue
            ev = json.loads((out / "evidence.json").read_text())
            info = json.loads((out / "provenance.json").read_text())["sampler_info"]
        sampling = float(info.get("wall_time", np.nan))
        ne = float(ev["logz_err_nested"])
        lines.append(f"| {k + 1} ({k}) | {k} | {float(ev['logz_nested']):.3f} +/- {ne:.3f} | {float(ev['logz']):.3f} "
                     f"+/- {float(ev['logz_err']):.3f} | {wall:.1f} s | {sampling:.1f} s | {ne**2 * sampling:.3f} | "
                     f"{load:.1f} |")
        print(lines[-1], flush=True)
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES))
    ap.add_argument("--ref-draws", nargs=2, type=float, default=[1e8, 2e8], metavar=("NONZERO", "ZERO"))
    ap.add_argument("--merge-scaling", action="store_true")
    ap.add_argument("--merge-scaling-only", action="store_true",
                    help=f"only {RUNS[1]} in 1, 2 and 4 parts (processes side by side) merged")
    ap.add_argument("--mpi-scaling-only", action="store_true",
                    help=f"only {RUNS[1]} with nruns 1 and 2 under mpiexec -n 2 and -n 3 (--pool mpi)")
    ap.add_argument("--cost", action="store_true",
                    help=f"only the cost estimate against the measured wall time, for {', '.join(COST_RUNS)}")
    args = ap.parse_args(argv)
    os.chdir(ROOT)
    load0 = os.getloadavg()
    print(f"# benchmarks/evidence.py on {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"numpy {np.__version__}; seeds {args.seeds}")
    print(f"load average at start (1, 5, 15 min): {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}\n")
    if args.cost or args.merge_scaling_only or args.mpi_scaling_only:
        print("\n".join(cost_table(COST_RUNS) if args.cost else mpi_scaling(RUNS[1]) if args.mpi_scaling_only
                        else merge_scaling(RUNS[1])))
        load1 = os.getloadavg()
        print(f"\nload average at end (1, 5, 15 min): {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
        return 0
    models = {run: model_of(run) for run in RUNS}
    names = {run: models[run].names for run in RUNS}
    refs = {run: reference(models[run], draws, seed=20261201)
            for run, draws in zip(RUNS, args.ref_draws, strict=True)}
    print("| reference (plain prior Monte Carlo) | ln Z | error (20 batches) | Kish ESS | draws | wall |\n"
          "|---|---|---|---|---|---|")
    for run in RUNS:
        r = refs[run]
        print(f"| {run} | {r['logz']:.3f} | {r['err']:.3f} | {r['ess']:.0f} | {r['draws']:.1e} | {r['wall']:.0f} s |")
    print(f"\nreference ln B = {refs[RUNS[0]]['logz'] - refs[RUNS[1]]['logz']:.3f} +/- "
          f"{np.hypot(refs[RUNS[0]]['err'], refs[RUNS[1]]['err']):.3f}; the reference's own quantile noise "
          f"~ sqrt(0.16 x 0.84 / ESS) = {np.sqrt(0.16 * 0.84 / refs[RUNS[0]]['ess']):.3f} (kappa_nonzero), "
          f"{np.sqrt(0.16 * 0.84 / refs[RUNS[1]]['ess']):.3f} (kappa_zero)\n", flush=True)
    head = ["candidate"]
    for run in RUNS:
        head += [f"{run}: ln Z (seeds); errors; vs reference", f"{run}: wall, calls, wall x err^2",
                 f"{run}: largest quantile miss"]
    table = ["| " + " | ".join(head) + " | ln B (quoted; spread) |", "|" + "---|" * (len(head) + 1)]
    estimates = ["| run | printed cost estimate | measured wall | measured / estimate |", "|---|---|---|---|"]
    for key in args.candidates:
        label, settings = CANDIDATES[key]
        rows: dict[str, list[dict[str, Any]]] = {run: [] for run in RUNS}
        for seed in range(1, args.seeds + 1):
            for run in RUNS:
                est = (estimated_seconds(models[run], {**BASE, **settings}, seed)
                       if seed == 1 and not (settings.get("dynamic") or settings.get("nautilus")) else None)
                rows[run].append(run_candidate(models[run], settings, seed))
                r = rows[run][-1]
                print(f"  {key} {run} seed {seed}: ln Z {r['logz']:.3f} +/- {r['err']:.3f}, {r['wall']:.1f} s, "
                      f"{r['ncall']:,} calls", flush=True)
                if est is not None:
                    estimates.append(f"| `{key}` {run} (seed 1) | {est:.0f} s | {rows[run][-1]['wall']:.0f} s | "
                                     f"{rows[run][-1]['wall'] / est:.2f} |")
        table.append(fmt_row(f"`{key}`: {label}", rows, refs, names))
        print(table[-1], flush=True)
    print("\n" + "\n".join(table))
    print("\nThe cost line `darkportal run` prints, against the wall time measured right after it:\n")
    print("\n".join(estimates))
    if args.merge_scaling:
        print(f"\n{RUNS[1]} in parts, one process per part, on this {os.cpu_count()}-core machine:\n")
        print("\n".join(merge_scaling(RUNS[1])))
    load1 = os.getloadavg()
    print(f"\nload average at end (1, 5, 15 min): {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
