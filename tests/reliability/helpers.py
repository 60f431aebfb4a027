"""Small builders shared by the issue-12 reliability tests: run files, finished results without sampling, and
the CLI run in-process with its output captured."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import numpy as np

from inference.output.results import write_results
from inference.samplers import FINISHED, SamplerOutput, StopReason
from inference.samplers.problem import SampleExtras

RUN_FILE = """\
name: tiny
seed: 5
parameters:
  kappa: {fixed: 0}
likelihood: {data: "2023", mode: gaussian}
sampler:
  name: dynesty
  settings: {nlive: 40, dlogz: 5.0, maxcall: 2000, checkpoint_every: 1}
"""

EMCEE_FILE = """\
name: tiny_emcee
seed: 5
parameters:
  kappa: {fixed: 0}
likelihood: {data: "2023", mode: gaussian}
sampler:
  name: emcee
  settings: {nwalkers: 16, max_steps: 200}
"""

SCAN_FILE = EMCEE_FILE.replace("name: tiny_emcee", "name: tiny_scan").replace(
    "name: emcee\n  settings: {nwalkers: 16, max_steps: 200}", "name: scan\n  settings: {n_eff: 100}")


def write_run(tmp_path: Path, text: str = RUN_FILE, name: str = "tiny.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def resolved(run_file: Path) -> dict[str, Any]:
    from inference.config.runfile import load_run_config

    return load_run_config(run_file).to_dict()


def fake_result(outdir: Path, config: dict[str, Any], logz: float = -5.0, stop: StopReason | None = None,
                n: int = 400, seed: int = 0) -> Path:
    """A finished results folder written by write_results from random draws inside the run's prior box
    (no sampling)."""
    from inference.config.runfile import parse_run_config

    priors = parse_run_config(config, outdir / "run.yaml").priors
    x = priors.sample(np.random.default_rng(seed), n)
    out = SamplerOutput(tuple(priors.names), x, np.full(n, 1 / n), np.zeros(n), logz, 0.1,
                        logz_resampled=[logz, logz + 0.1, logz - 0.1], sampler="dynesty", stop=stop or FINISHED)
    write_results(outdir, out, SampleExtras(), config, {"seed": 1})
    return outdir


def cli(*args: str) -> tuple[int, str, str]:
    """`darkportal ARGS` in this process: (exit code, stdout, stderr)."""
    from inference.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


RAW = ("Traceback", "Errno", "Ran out of input", "Unable to synchronously open", "Expecting value",
       "float() argument", "JSONDecodeError", "UnpicklingError", "maximum recursion depth")


def assert_clean(message: str) -> None:
    """No raw library text in a user-facing message."""
    for raw in RAW:
        assert raw not in message, f"raw library text {raw!r} in: {message}"
