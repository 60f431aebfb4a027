"""Performance table of issue 6, from ONE run on this machine, printed as ratios (never timed tests).

    .venv/bin/python benchmarks/run_all.py            # everything (~5 min on 2 cores when idle)
    .venv/bin/python benchmarks/run_all.py --no-runs  # skip the darkportal runs (dynesty and emcee)
    .venv/bin/python benchmarks/run_all.py --profile  # also print the cProfile tops (README)

Rows: (1) single-point log L as dynesty calls it (the compiled path), against dynesty's own cost per
likelihood call, measured here with a trivial 8-D likelihood at the kappa runs' dynesty settings; the
compiled call alone, the kernel as plain Python (DARKPORTAL_JIT=0) and the reference path; the prior
transform; (2) batch throughput on 1e5 points, and the posterior predictions stored per sample; (3) the
same observables "the usual way" (one call per observable and point, R and the CHARM-II ratio by direct
quadrature); (4) wall time, likelihood calls and
peak memory of ``darkportal run runs/kappa_{nonzero,zero}.yaml``, serial and with ``--pool processes
--nprocs 2``, the same for a run on the expensive reference path (two-loop Barr-Zee g-2 on, capped at
8000 calls), ``runs/emcee_kappa_{nonzero,zero}.yaml`` (``benchmarks/emcee_rows.py``: steps, tau, R-hat, ESS and
the agreement with the dynesty runs' posteriors) and ``runs/paper_scan_kappa_nonzero.yaml`` (output in
bench_* folders of the system temporary directory, never results/).
``--profile`` prints the profiles that guided the optimisations.
Load averages are printed before and after.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import json
import os
import platform
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RUNS = ("kappa_nonzero", "kappa_zero")
DYNESTY_SETTINGS = {"nlive": 300, "dlogz": 0.5, "bound": "multi", "sample": "rwalk"}  # as in runs/kappa_*.yaml


def _per_call(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds per call of fn over ``repeat`` calls (each timed alone)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _median_over_points(fn: Callable[[np.ndarray], object], x: np.ndarray) -> float:
    times = []
    for row in x:
        row2 = row[None, :]
        t0 = time.perf_counter()
        fn(row2)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# ------------------------------------------------------------------------------------------ dynesty own cost

class _Trivial:
    """A Gaussian in the unit cube: the cheapest likelihood of dimension ndim dynesty can run on."""

    def __init__(self, ndim: int):
        self.ndim = ndim

    def __call__(self, v: np.ndarray) -> float:
        d = (v - 0.5) / 0.1
        return float(-0.5 * np.dot(d, d))


def _identity(u: np.ndarray) -> np.ndarray:
    return u


def dynesty_own_cost(ndim: int, seed: int = 1) -> dict[str, float]:
    """Seconds per likelihood call that dynesty spends on itself (trivial likelihood's own cost removed)."""
    import dynesty

    loglike = _Trivial(ndim)
    sampler = dynesty.NestedSampler(loglike, _identity, ndim, nlive=DYNESTY_SETTINGS["nlive"],
                                    bound=DYNESTY_SETTINGS["bound"], sample=DYNESTY_SETTINGS["sample"],
                                    rstate=np.random.default_rng(seed))
    t0 = time.perf_counter()
    sampler.run_nested(dlogz=DYNESTY_SETTINGS["dlogz"], print_progress=False)
    wall = time.perf_counter() - t0
    ncall = int(np.sum(sampler.results["ncall"]))
    v = np.random.default_rng(seed).random(ndim)
    trivial = _per_call(lambda: loglike(v), 20000)
    return {"wall": wall, "ncall": ncall, "per_call": wall / ncall - trivial, "trivial": trivial}


# ------------------------------------------------------------------------------------------ likelihood paths

_PLAIN_PYTHON_TIMING = """
import json, sys, time
import numpy as np
from inference.config.runfile import load_run_config
from inference.samplers.model import RunModel
from inference.samplers.problem import PointLogLikelihood
run, n_single, n_batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
model = RunModel(load_run_config(run))
model.warm_up()
x = model.prior_transform(np.random.default_rng(7).random((max(n_single, n_batch), model._columns.ndim)))
point = PointLogLikelihood(model.problem())
single = []
for row in x[:n_single]:
    t0 = time.perf_counter()
    point(row)
    single.append(time.perf_counter() - t0)
t0 = time.perf_counter()
model.log_likelihood(x[:n_batch])
print(json.dumps({"single": float(np.median(single)), "batch": (time.perf_counter() - t0) / n_batch}))
"""


def plain_python_timings(run: str, n_single: int, n_batch: int) -> dict[str, float]:
    """Single-point and batch log L of the run with the kernel as plain Python (DARKPORTAL_JIT=0: what runs
    without numba), timed in a child process, since numba's switch is read at import."""
    env = dict(os.environ, DARKPORTAL_JIT="0")
    out = subprocess.run([sys.executable, "-c", _PLAIN_PYTHON_TIMING, str(ROOT / "runs" / f"{run}.yaml"),
                          str(n_single), str(n_batch)], env=env, cwd=ROOT, check=True, capture_output=True,
                         text=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def likelihood_timings(run: str, n_single: int, n_batch: int) -> dict[str, float]:
    from inference.config.runfile import load_run_config
    from inference.samplers.model import RunModel
    from inference.samplers.problem import PointLogLikelihood, PointPriorTransform

    model = RunModel(load_run_config(ROOT / "runs" / f"{run}.yaml"))
    model.warm_up()  # tables, kernel path, compiled code
    python = plain_python_timings(run, min(n_single, 1000), min(n_batch, 2000))
    rng = np.random.default_rng(7)
    x = model.prior_transform(rng.random((max(n_single, 1000), model._columns.ndim)))
    model.reference_log_likelihood(x[:2])
    point = PointLogLikelihood(model.problem())
    compiled = model._kernel_path
    assert compiled is not None, "the compiled path is off (numba missing or DARKPORTAL_JIT=0)"
    out = {
        "single_dynesty_wrapper": _median_over_points(lambda r: point(r[0]), x[:n_single]),
        "single_compiled": _median_over_points(lambda r: compiled.point(r[0]), x[:n_single]),
        "single_python": python["single"],
        "single_reference": _median_over_points(model.reference_log_likelihood, x[:200]),
    }
    u = rng.random((n_single, model._columns.ndim))
    from inference.samplers.model import _uniform_box_point
    transform, box = PointPriorTransform(model.problem()), model._columns.uniform
    assert box is not None  # the kappa runs have uniform priors
    uncompiled = getattr(_uniform_box_point, "py_func", _uniform_box_point)  # what DARKPORTAL_JIT=0 runs

    def python_transform(row: np.ndarray) -> np.ndarray:
        values = np.empty(len(box))
        uncompiled(row, box, values)
        return values

    out["prior_transform"] = _median_over_points(lambda r: transform(r[0]), u)
    out["prior_transform_python"] = _median_over_points(lambda r: python_transform(r[0]), u)
    xb = model.prior_transform(rng.random((n_batch, model._columns.ndim)))
    out["batch_fast"] = min(_timed(lambda: model.log_likelihood(xb)) for _ in range(3)) / n_batch
    out["batch_python"] = python["batch"]
    out["batch_reference"] = _timed(lambda: model.reference_log_likelihood(xb)) / n_batch
    # posterior predictions (what a run stores per sample): per-term log L and the predicted observables,
    # on 2e4 points with a finite likelihood (the reference path: they include the electron g-2 quadrature)
    inside = xb[np.isfinite(model.log_likelihood(xb))][:20000]
    model.blobs(inside[:10])
    extras: list[Any] = []
    out["blobs"] = _timed(lambda: extras.append(model.blobs(inside))) / len(inside)
    out["blob_columns"] = len(extras[-1].term_logl) + len(extras[-1].predictions)
    ref = model.reference_log_likelihood(xb[:2000])
    fin = np.isfinite(ref)
    single = np.array([point(row) for row in xb[:2000]])
    out["max_rel_diff"] = max(float(np.max(np.abs(got[fin] / ref[fin] - 1.0)))
                              for got in (model.log_likelihood(xb[:2000]), single))
    out["finite_fraction"] = float(fin.mean())
    return out


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def usual_way_per_point(run: str, n: int) -> float:
    """Seconds per point for the likelihood's observables computed one function call per observable and
    point, with R_MiniBooNE by direct flux quadrature and the CHARM-II cross sections by direct integration."""
    from inference.config.runfile import load_run_config
    from inference.samplers.model import RunModel
    from physics import miniboone, predict
    from physics.decays import s_widths
    from physics.scattering import OXYGEN16, SILICON28, sigma_at_energy

    model = RunModel(load_run_config(ROOT / "runs" / f"{run}.yaml"))
    opts = model.config.theory.theory_options()
    names = [o for o in model.likelihood.observables if o not in ("R_MiniBooNE", "R_CHARMII")]
    x = model.prior_transform(np.random.default_rng(8).random((n, model._columns.ndim)))
    t0 = time.perf_counter()
    for i in range(n):
        p = model.config.to_params(x[i:i + 1])
        for name in names:
            predict(p, [name], opts)
        br_vis = s_widths(p).br_vis
        miniboone.r_miniboone_direct(p, br_vis, opts)
        for target in (SILICON28, OXYGEN16):
            sigma_at_energy("scalar", opts.charm_E, p.m_nu4, p.m_S, target)
            sigma_at_energy("zp", opts.charm_E, p.m_nu4, opts.zp_m_Zp, target)
    return (time.perf_counter() - t0) / n


# ------------------------------------------------------------------------------------------ full runs

def expensive_run_file() -> Path:
    """runs/kappa_nonzero.yaml with the two-loop Barr-Zee g-2 terms on (no kernel path: predict + terms, ~1 ms
    per call) and a call cap, for the pool's speed-up where the likelihood dominates. Edited as YAML, so that a
    change of the run file's layout cannot silently leave the terms off."""
    import yaml

    run = yaml.safe_load((ROOT / "runs" / "kappa_nonzero.yaml").read_text())
    run["theory"].setdefault("options", {})["g2_two_loop_bz"] = True
    run["sampler"]["settings"] = {"nlive": 200, "dlogz": 0.5, "bound": "multi", "sample": "rwalk", "maxcall": 8000}
    path = Path(tempfile.gettempdir()) / "bench_expensive.yaml"
    path.write_text(yaml.safe_dump(run, sort_keys=False))
    return path


def time_run(run: str, pool: bool) -> dict[str, float | int | str]:
    """Wall time, calls and peak memory of ``darkportal run`` on runs/<run>.yaml (or a path to a run file)."""
    run_file = run if run.endswith(".yaml") else f"runs/{run}.yaml"
    out = Path(tempfile.gettempdir()) / f"bench_{Path(run_file).stem}{'_pool' if pool else ''}"
    shutil.rmtree(out, ignore_errors=True)  # a fresh folder: every run starts from the beginning
    # the peak memory of the run's process tree, read by a small parent process (no /usr/bin/time needed)
    measure = ("import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
               "ru = resource.getrusage(resource.RUSAGE_CHILDREN); kb = ru.ru_maxrss; "
               "print(f'CPU seconds: {ru.ru_utime + ru.ru_stime:.1f}', file=sys.stderr); "
               "print(f'Maximum resident set size (kbytes): {kb}', file=sys.stderr); sys.exit(rc)")
    cmd = [sys.executable, "-c", measure, str(ROOT / ".venv" / "bin" / "darkportal"), "run",
           run_file, "--out", str(out), "--force"]
    if pool:
        cmd += ["--pool", "processes", "--nprocs", "2"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        return {"wall": wall, "error": proc.stderr.split("CPU seconds")[0][-600:].replace("\n", " ")}
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    cpu = re.search(r"CPU seconds: ([0-9.]+)", proc.stderr)
    evidence = json.loads((out / "evidence.json").read_text())
    prov = json.loads((out / "provenance.json").read_text())
    nan = float("nan")
    return {"wall": wall, "sampling": float(prov.get("wall_time_s", nan)), "ncall": int(evidence["ncall"]),
            "peak_rss_mb": int(rss.group(1)) / 1024 if rss else nan,
            "logz": nan if evidence["logz"] is None else float(evidence["logz"]),
            "logz_err": nan if evidence["logz_err"] is None else float(evidence["logz_err"]),
            "niter": int(evidence.get("niter") or 0), "cpu": float(cpu.group(1)) if cpu else nan,
            "outdir": str(out)}


def _run_row(label: str, r: dict[str, Any], note: Callable[[dict[str, Any]], str]) -> tuple[str, str, str]:
    """A table row for one ``time_run`` result: wall time and ``note(r)``, or FAILED with the error."""
    if "error" in r:
        return label, "FAILED", str(r["error"])
    return label, f"{float(r['wall']):.1f} s wall", note(r)


def _dynesty_note(r: dict[str, Any], serial_sampling: float | None, timings: dict[str, float] | None) -> str:
    """Calls, sampling time, memory and ln Z of a dynesty run; the speed-up over ``serial_sampling`` (a pool
    run) or the split of the time per call using the likelihood ``timings`` (a serial run)."""
    extra = f", sampling speed-up {serial_sampling / float(r['sampling']):.2f}x" if serial_sampling else ""
    if timings is not None:
        per_call = float(r["sampling"]) / int(r["ncall"])
        extra += (f"; {per_call * 1e6:.1f} us per call in all, of which the likelihood "
                  f"{timings['single_dynesty_wrapper'] * 1e6:.1f} us and the prior transform "
                  f"{timings['prior_transform'] * 1e6:.1f} us")
    return (f"{r['ncall']} calls, sampling {float(r['sampling']):.1f} s, peak RSS {float(r['peak_rss_mb']):.0f} MB "
            f"(largest process), ln Z = {float(r['logz']):.2f} +/- {float(r['logz_err']):.2f}{extra}")


# ------------------------------------------------------------------------------------------ profiles

def print_profiles(run: str) -> None:
    """cProfile tops: the compiled path as dynesty calls it, the reference path, and a short dynesty run on the
    compiled likelihood (where the time goes now). (The profile of the kernel as plain Python, which motivated
    compiling it, is in benchmarks/README.md.)"""
    from inference.config.runfile import load_run_config
    from inference.samplers import dynesty_backend
    from inference.samplers.model import RunModel
    from inference.samplers.problem import PointLogLikelihood

    model = RunModel(load_run_config(ROOT / "runs" / f"{run}.yaml"))
    model.warm_up()
    x = model.prior_transform(np.random.default_rng(9).random((20000, model._columns.ndim)))
    model.reference_log_likelihood(x[:2])
    point = PointLogLikelihood(model.problem())

    def short_dynesty_run() -> None:
        opts = dict(dynesty_backend.DEFAULTS, nlive=300)
        sampler = dynesty_backend._new_sampler(model.problem(), opts, 1, None)
        sampler.run_nested(dlogz=0.5, print_progress=False)

    jobs: list[tuple[str, Callable[[], object]]] = [
        ("compiled path as dynesty calls it, 3000 single points", lambda: [point(row) for row in x[:3000]]),
        ("reference path, 300 single points", lambda: [model.reference_log_likelihood(x[i:i + 1]) for i in range(300)]),
        ("compiled path, one batch of 2e4", lambda: model.log_likelihood(x)),
        ("dynesty run on the compiled likelihood (nlive 300, dlogz 0.5, serial)", short_dynesty_run),
    ]
    for title, job in jobs:
        prof = cProfile.Profile()
        prof.enable()
        job()
        prof.disable()
        print(f"\n### profile: {title} (top 10 by own time)\n```")
        stats = pstats.Stats(prof, stream=sys.stdout)
        stats.strip_dirs().sort_stats("tottime").print_stats(10)
        print("```")


# ------------------------------------------------------------------------------------------ table

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-runs", action="store_true", help="skip the dynesty runs of runs/kappa_*.yaml")
    ap.add_argument("--profile", action="store_true", help="print cProfile tops of both likelihood paths")
    ap.add_argument("--single", type=int, default=3000, help="points for the single-point medians")
    ap.add_argument("--batch", type=int, default=100_000, help="points of the batch")
    args = ap.parse_args(argv)
    os.chdir(ROOT)
    load0 = os.getloadavg()
    print(f"# benchmarks/run_all.py on {platform.node()}: {os.cpu_count()} cores, {platform.processor() or '?'}, "
          f"Python {platform.python_version()}, numpy {np.__version__}")
    print(f"load average at start (1, 5, 15 min): {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}\n")

    dyn = dynesty_own_cost(8)
    own = dyn["per_call"]
    rows = [("dynesty's own cost per call (trivial 8-D likelihood, nlive 300, dlogz 0.5, multi, rwalk)",
             f"{own * 1e6:.1f} us", f"{dyn['ncall']} calls in {dyn['wall']:.1f} s")]
    timings = {}
    for run in RUNS:
        t = timings[run] = likelihood_timings(run, args.single, args.batch)
        usual = usual_way_per_point(run, 5)
        rows += [
            (f"{run}: **single-point log L as dynesty calls it** (PointLogLikelihood -> compiled path; median "
             f"over {args.single} prior points)", f"{t['single_dynesty_wrapper'] * 1e6:.2f} us",
             f"**{t['single_dynesty_wrapper'] / own:.3f}** of dynesty's own cost (target <= 0.25, moonshot 0.1)"),
            (f"{run}: the compiled call alone (CompiledLoglike.point)", f"{t['single_compiled'] * 1e6:.2f} us",
             f"{t['single_compiled'] / own:.3f}"),
            (f"{run}: single point, kernel as plain Python (DARKPORTAL_JIT=0)",
             f"{t['single_python'] * 1e6:.1f} us", f"{t['single_python'] / own:.3f}; compiled "
             f"{t['single_python'] / t['single_dynesty_wrapper']:.0f}x faster"),
            (f"{run}: single point, reference path (predict + terms)", f"{t['single_reference'] * 1e6:.0f} us",
             f"compiled {t['single_reference'] / t['single_dynesty_wrapper']:.0f}x faster"),
            (f"{run}: one prior transform as dynesty calls it (compiled)", f"{t['prior_transform'] * 1e6:.2f} us",
             f"uncompiled (DARKPORTAL_JIT=0) {t['prior_transform_python'] * 1e6:.1f} us"),
            (f"{run}: batch of {args.batch:.0e} points, compiled", f"{1 / t['batch_fast']:.3g} points/s",
             f"target >= 1e6; kernel as plain Python (DARKPORTAL_JIT=0) {1 / t['batch_python']:.3g} points/s, "
             f"reference "
             f"{1 / t['batch_reference']:.3g} points/s ({t['batch_reference'] / t['batch_fast']:.0f}x)"),
            (f"{run}: 'usual way' (one call per observable, R by quadrature), per point", f"{usual * 1e3:.0f} ms",
             f"{usual / t['single_dynesty_wrapper']:.0f}x the compiled single point, "
             f"{usual / t['batch_fast']:.0f}x the compiled batch"),
            (f"{run}: posterior predictions per sample ({t['blob_columns']:.0f} values: per-term log L and "
             "predicted observables, reference path)", f"{1 / t['blobs']:.3g} samples/s",
             "a run stores 1-2e4 samples: ~0.1-0.2 s; not optimised further"),
            (f"{run}: compiled vs reference, max relative difference (2000 points, single and batch, "
             f"{t['finite_fraction']:.0%} finite)", f"{t['max_rel_diff']:.1e}",
             "tests/physics/test_fast_paths.py asserts < 1e-10"),
        ]
    if not args.no_runs:
        serial: dict[str, float] = {}
        for run in (*RUNS, str(expensive_run_file())):
            label_run = run if run in RUNS else "kappa_nonzero + g2_two_loop_bz (reference path), maxcall 8000"
            for pool in (False, True):
                r = time_run(run, pool)
                label = (f"`darkportal run runs/{run}.yaml`" if run in RUNS else label_run) + (
                    " --pool processes --nprocs 2" if pool else "")
                if not pool and "error" not in r:
                    serial[run] = float(r["sampling"])
                describe = functools.partial(_dynesty_note, serial_sampling=serial.get(run) if pool else None,
                                             timings=None if pool else timings.get(run))
                rows.append(_run_row(label, r, describe))

        def scan_note(r: dict[str, Any]) -> str:
            return (f"{r['ncall']} calls in {r['niter']} batches, sampling {float(r['sampling']):.1f} s "
                    f"({int(r['ncall']) / float(r['sampling']):.3g} calls/s in all), ln Z = "
                    f"{float(r['logz']):.2f} +/- {float(r['logz_err']):.2f}, "
                    f"peak RSS {float(r['peak_rss_mb']):.0f} MB")

        from emcee_rows import emcee_rows  # (benchmarks/ is on sys.path when this file runs as a script)

        rows += emcee_rows({run: str(Path(tempfile.gettempdir()) / f"bench_{run}") for run in RUNS},
                           per_point=timings[RUNS[0]]["batch_fast"])
        rows.append(_run_row("`darkportal run runs/paper_scan_kappa_nonzero.yaml` (cuts mode, scan sampler, "
                             "batches)", time_run("paper_scan_kappa_nonzero", False), scan_note))
    print("| quantity | measured | ratio / note |\n|---|---|---|")
    for name, value, note in rows:
        print(f"| {name} | {value} | {note} |")
    load1 = os.getloadavg()
    print(f"\nload average at end (1, 5, 15 min): {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    if args.profile:
        print_profiles(RUNS[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
