"""`--pool mpi`: a small dynesty and emcee job under `mpiexec -n 2` (rank 0 drives, rank 1 evaluates).

The job runs this file as a script under mpiexec; rank 0 writes what it saw to a JSON file.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from inference.samplers import run_sampler
from inference.samplers.pool import make_pool
from inference.samplers.problem import SamplingProblem

HERE = Path(__file__).resolve().parent
MPIEXEC = Path(sys.executable).parent / "mpiexec"
if not MPIEXEC.exists():
    found = shutil.which("mpiexec")
    MPIEXEC = Path(found) if found else MPIEXEC


class Square:
    """Uniform prior on [-3, 3]^2 (transform and log-density)."""

    def transform(self, u: np.ndarray) -> np.ndarray:
        return -3.0 + 6.0 * u

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        return np.where(np.all(np.abs(x) <= 3.0, axis=1), -2 * np.log(6.0), -np.inf)


class StdNormal:
    """Normalised standard normal log-likelihood in 2-D."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return -0.5 * np.sum(x**2, axis=1) - np.log(2 * np.pi)


def mpi_rank(_: object) -> int:
    from mpi4py import MPI

    return int(MPI.COMM_WORLD.Get_rank())


def script_main(outdir: Path) -> int:
    square = Square()
    problem = SamplingProblem(("x", "y"), square.transform, square.logpdf, StdNormal())
    with make_pool("mpi") as pool:
        if not pool.is_master:
            return 0
        ranks = pool.map(mpi_rank, range(4))
        dyn = run_sampler("dynesty", problem, {"nlive": 60, "sample": "unif"}, outdir / "dynesty", 1, pool=pool)
        mc = run_sampler("emcee", problem, {"nwalkers": 8, "max_steps": 100, "check_every": 50},
                         outdir / "emcee", 1, pool=pool)
        report = {"size": pool.size, "worker_ranks": ranks, "logz": dyn.logz, "logz_err": dyn.logz_err,
                  "emcee_steps": mc.info["niter"]}
    (outdir / "report.json").write_text(json.dumps(report))
    return 0


@pytest.mark.mpi
@pytest.mark.skipif(not MPIEXEC.exists(), reason="mpiexec not found (install the mpi extra)")
def test_samplers_under_mpiexec_n_2(tmp_path: Path) -> None:
    proc = subprocess.run([str(MPIEXEC), "-n", "2", sys.executable, str(Path(__file__).resolve()), str(tmp_path)],
                          capture_output=True, text=True, timeout=120, cwd=HERE)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["size"] == 1 and report["worker_ranks"] == [1, 1, 1, 1]  # work ran on rank 1
    # the box's volume 36 and the normal's mass inside [-3, 3]^2, erf(3 / sqrt 2)^2 (the importance-sampled
    # ln Z is precise to ~0.002, so the 0.5 % outside matters)
    true_logz = -2 * np.log(6.0) + 2 * np.log(math.erf(3 / math.sqrt(2)))
    assert abs(report["logz"] - true_logz) < 3 * report["logz_err"]
    assert report["emcee_steps"] == 100


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    import test_pool_mpi

    raise SystemExit(test_pool_mpi.script_main(Path(sys.argv[1])))
