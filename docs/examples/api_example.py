"""darkportal from a notebook: a run, one point, a sampler, a result.

Run it as a script (``.venv/bin/python docs/examples/api_example.py [OUTDIR]``) or cell by cell (``# %%`` marks
the cells for Jupyter, VS Code and Spyder). It samples a small run (dynesty, 100 live points, a loose stop: seconds, not
physics) into OUTDIR (default: a temporary folder). tests/docs/test_api_example.py runs this file.
"""

# %% A run file, checked as `darkportal validate` checks it
import sys
import tempfile
from pathlib import Path

import arviz as az

from inference import api

ROOT = Path(__file__).resolve().parents[2]
run = api.load_run(ROOT / "runs" / "kappa_nonzero.yaml")
print(run)

# %% One point: the paper's BP1 (paper units: kappa in TeV^-1, masses in MeV) under the run's likelihood
bp1 = api.benchmark("BP1")
ev = run.evaluate(bp1, label="BP1")
print(f"log L = {ev.loglike:.3f}")
print("pulls:", {name: round(pull, 2) for name, pull in ev.pulls.items() if abs(pull) > 0.5})
print(f"R_MiniBooNE = {ev.predictions['R_MiniBooNE']:.3f}, Delta a_mu = {ev.predictions['Delta_a_mu']:.3g}")
print(ev.table())

# %% The same point with the paper's pass/fail cuts on the 2025 data, without a run file
cuts = api.evaluate(bp1, data="2025", mode="cuts")
print("fails:", [name for name, ok in cuts.passed.items() if not ok], "log L =", cuts.loglike)

# %% A run built in Python (the run-file schema as data), sampled as `darkportal run` samples it
outdir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="darkportal-example-"))
quick = api.build_run(
    name="notebook_kappa_zero",
    seed=7,
    parameters={"kappa": {"fixed": 0}},               # every parameter left out gets the paper's range
    likelihood={"data": "2023", "mode": "gaussian"},
    sampler={"name": "dynesty", "settings": {"nlive": 100, "dlogz": 1.0, "n_resample": 4}},
)
result = quick.sample(outdir / "notebook_kappa_zero", force=True)

# %% The result: evidence, summary, and the posterior in ArviZ
print(f"ln Z = {result.evidence.logz:.2f} +- {result.evidence.logz_err:.2f}")
print(az.summary(result.posterior, kind="stats"))

# %% Read a finished run back later (any results folder, e.g. results/kappa_nonzero after `make run`)
again = api.load_result(outdir / "notebook_kappa_zero")
print(again.provenance.environment["packages"]["dynesty"], again.config["sampler"]["settings"]["nlive"])
