"""The scan sampler on small allowed regions, against brute force, from ONE run (issue 18; never a timed test).

    .venv/bin/python benchmarks/scan_small_region.py                     # analytic target, 10 seeds + brute force
    .venv/bin/python benchmarks/scan_small_region.py --runs --seeds 5    # also both paper-scan run files

Analytic target: the two islands of tests/inference/test_scan.py (a ball and a thin rotated ellipsoid in the
6-d unit cube, ~6e-7 of it; exact volume in closed form). For each seed: ln Z +- its quoted error, the pull
(ln Z - exact) / error, Kish ESS, likelihood calls; then the spread of ln Z over the seeds beside the mean
quoted error (they must agree for the error to mean anything), and plain prior draws (brute force) with the
same call budget and with --brute draws. With --runs, the same per seed for runs/paper_scan_kappa_*.yaml
(sampled in-process, nothing written but the checkpoints in a temporary folder); their brute-force
references are `tools/brute_force_evidence.py RUN --draws 1e8` (minutes).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from inference.samplers import run_sampler  # noqa: E402


def _analytic_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("scan_target", HERE.parent / "tests" / "inference" / "test_scan.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(label: str, logz: float, err: float, exact: float | None, ess: float, calls: int, wall: float) -> str:
    pull = f"{(logz - exact) / err:+.2f}" if exact is not None and err > 0 else "-"
    return f"| {label} | {logz:.3f} +- {err:.3f} | {pull} | {ess:.0f} | {calls:,} | {wall:.1f} s |"


def _summary(label: str, values: list[float], errors: list[float], exact: float | None) -> str:
    mean, spread = statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else float("nan")
    bias = f"; mean - exact = {mean - exact:+.3f} +- {spread / np.sqrt(len(values)):.3f}" if exact is not None else ""
    return (f"{label}: mean ln Z {mean:.3f}, spread over {len(values)} seeds {spread:.3f}, mean quoted error "
            f"{statistics.fmean(errors):.3f}{bias}")


def brute_force(likelihood, d: int, draws: int, seed: int, batch: int = 2_000_000) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    """ln(accepted / draws) with its Poisson error, from plain uniform draws of the unit cube."""
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, draws, batch):
        u = rng.random((min(batch, draws - start), d))
        hits += int(np.isfinite(likelihood(u)).sum())
    if hits == 0:
        return -np.inf, np.inf, 0
    return float(np.log(hits / draws)), float(1 / np.sqrt(hits)), hits


def analytic(seeds: int, brute: int) -> None:
    mod = _analytic_module()
    target = mod.TwoIslands()
    exact = float(np.log(sum(target.volumes())))
    print(f"Analytic target: two islands in the 6-d unit cube, exact ln Z = {exact:.4f} (volume "
          f"{np.exp(exact):.3g})\n")
    print("| run | ln Z | pull | Kish ESS | calls | wall |\n| --- | --- | --- | --- | --- | --- |")
    values, errors, calls = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(seeds):
            t0 = time.perf_counter()
            out = run_sampler("scan", mod.problem(), {"n_eff": 2000}, Path(tmp) / str(seed), seed=seed)
            wall = time.perf_counter() - t0
            print(_row(f"scan, seed {seed}", out.logz, out.logz_err or 0.0, exact, out.info["kish_ess"],
                       out.info["ncall"], wall))
            values.append(out.logz)
            errors.append(out.logz_err or 0.0)
            calls.append(out.info["ncall"])
    budget = int(statistics.fmean(calls))
    for draws in (budget, brute):
        t0 = time.perf_counter()
        lz, err, hits = brute_force(target, 6, draws, seed=99)
        print(_row(f"brute force, {draws:,} draws ({hits} hits)", lz, err, exact, hits, draws,
                   time.perf_counter() - t0))
    print()
    print(_summary("scan", values, errors, exact))


def paper_runs(seeds: int) -> None:
    from inference.config.runfile import load_run_config
    from inference.samplers.model import RunModel

    for name in ("paper_scan_kappa_nonzero", "paper_scan_kappa_zero"):
        config = load_run_config(HERE.parent / "runs" / f"{name}.yaml")
        model = RunModel(config)
        model.warm_up()
        problem = model.problem()
        print(f"\n{name} (r_normalisation {config.theory.theory_options().r_normalisation}):\n")
        print("| run | ln Z | pull | Kish ESS | calls | wall |\n| --- | --- | --- | --- | --- | --- |")
        values, errors = [], []
        with tempfile.TemporaryDirectory() as tmp:
            for seed in range(seeds):
                t0 = time.perf_counter()
                out = run_sampler("scan", problem, dict(config.sampler.settings), Path(tmp) / str(seed), seed=seed)
                print(_row(f"seed {seed}", out.logz, out.logz_err or 0.0, None, out.info["kish_ess"],
                           out.info["ncall"], time.perf_counter() - t0))
                values.append(out.logz)
                errors.append(out.logz_err or 0.0)
        print()
        print(_summary(name, values, errors, None))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--brute", type=float, default=2e8, help="brute-force draws on the analytic target")
    ap.add_argument("--runs", action="store_true", help="also the two paper-scan run files")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} (2-core machine shared with other jobs: "
          "wall times are approximate)\n")
    analytic(args.seeds, int(args.brute))
    if args.runs:
        paper_runs(args.seeds)
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
