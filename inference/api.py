"""darkportal from Python (notebooks, scripts): a run, one point, a sampler, a result, in a few calls.

    from inference import api

    run = api.load_run("runs/kappa_nonzero.yaml")          # checked as `darkportal validate` checks it
    point = api.benchmark("BP1")                            # paper units: kappa in TeV^-1, masses in MeV
    ev = run.evaluate(point)                                # the run's own likelihood at one point
    ev.loglike, ev.pulls["Delta_a_mu"], ev.predictions["R_MiniBooNE"]
    print(ev.table())                                       # what `darkportal predict` prints

    run = api.build_run(seed=1, parameters={"kappa": {"fixed": 0}},
                        likelihood={"data": "2023"}, sampler={"name": "dynesty", "settings": {"nlive": 200}})
    result = run.sample("results/my_run")                   # what `darkportal run` does; returns the result
    result = api.load_result("results/kappa_nonzero")       # .posterior (ArviZ DataTree), .summary, .evidence
    api.evaluate(point, data="2025", mode="cuts")           # one point without a run

Points are mappings in the paper's units (the names of ``physics.PARAM_NAMES``); a run fills its fixed parameters
itself. Errors are the named errors of the rest of darkportal (RunConfigError, ResultsError, ...).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from inference.config.runfile import RunConfig, parse_run_config, validate_run_config
from inference.output.results import Results, read_results

__all__ = ["PointEvaluation", "Run", "benchmark", "build_run", "evaluate", "load_result", "load_run"]


@dataclass(frozen=True)
class PointEvaluation:
    """One parameter point under one likelihood: the total log L, every term, every prediction.

    ``details`` is the object ``darkportal predict --json`` prints (same keys); the attributes are views of it.
    """

    details: dict[str, Any]
    label: str = "point"

    @property
    def loglike(self) -> float:
        """Total log-likelihood (-inf outside a cut or the physics domain)."""
        value = self.details["loglike"]
        return float(value) if value is not None else float("nan")

    @property
    def terms(self) -> dict[str, float]:
        """log L of each enabled term."""
        return {c["name"]: _float(c["loglike"]) for c in self.details["constraints"] if c["enabled"]}

    @property
    def pulls(self) -> dict[str, float]:
        """Pull of each term in gaussian-mode sigma (enabled or not; NaN for hard bounds, which have none)."""
        return {c["name"]: _float(c["pull"]) for c in self.details["constraints"]}

    @property
    def passed(self) -> dict[str, bool]:
        """Whether each term's condition (the paper's cut) holds."""
        return {c["name"]: bool(c["passed"]) for c in self.details["constraints"]}

    @property
    def predictions(self) -> dict[str, float]:
        """SM + NP value of every observable, in its registry unit."""
        return {name: _float(o["total"]) for name, o in self.details["observables"].items()}

    def table(self) -> str:
        """The observables and constraints as ``darkportal predict`` prints them (100 columns)."""
        from inference.cli.predict import render_text

        return render_text(self.details, self.label)


def _float(x: Any) -> float:
    if x is None:
        return float("nan")
    return float(x)  # "inf" / "-inf" strings of the JSON form read back as floats


def benchmark(name: str) -> dict[str, float]:
    """A benchmark point of the paper's Table II (BP1 ... BP7), in paper units."""
    from physics.benchmarks import benchmark_table

    table = benchmark_table()
    if name not in table:
        from inference.errors import suggestion

        raise KeyError(f"unknown benchmark {name!r}. {suggestion(name, list(table))}")
    return dict(table[name])


def evaluate(point: Mapping[str, float], data: str = "2023", mode: str | None = None,
             scenario: str = "paper", softening: float = 0.0) -> PointEvaluation:
    """One point (paper units, all eight parameters) under a shipped measurement set, as ``darkportal predict``;
    ``mode`` defaults to a run file's default (gaussian)."""
    from inference.cli.predict import evaluate_point
    from inference.config.sections import DEFAULT_MODE

    details = evaluate_point(dict(point), data, scenario, mode or DEFAULT_MODE, softening)
    return PointEvaluation(details)


class Run:
    """A checked run configuration with its likelihood; see the module docstring."""

    def __init__(self, config: RunConfig, run_file: Path | None = None) -> None:
        self.config = config
        self.run_file = run_file

    def __repr__(self) -> str:
        c = self.config
        return (f"Run({c.name!r}: {c.priors.ndim} free parameters, data {c.likelihood.data}, "
                f"{c.likelihood.mode} mode, sampler {c.sampler.name}, output {c.output})")

    @cached_property
    def model(self) -> Any:
        """The run's prior and likelihood as the samplers see them (``inference.samplers.model.RunModel``)."""
        from inference.samplers.model import RunModel

        return RunModel(self.config)

    def evaluate(self, point: Mapping[str, float], label: str = "point") -> PointEvaluation:
        """The run's likelihood (its data set, mode, term overrides, measurements file, theory options) at one point
        in paper units; parameters the run fixes may be left out and take the run's values."""
        from inference.cli.predict import evaluate_point
        from physics.params import PARAM_NAMES

        values = {**self.config.priors.fixed, **dict(point)}
        missing = [n for n in PARAM_NAMES if n not in values]
        if missing:
            raise ValueError(f"point: missing {', '.join(missing)} (paper units; the run fixes only "
                             f"{', '.join(self.config.priors.fixed) or 'none'})")
        details = evaluate_point({n: float(values[n]) for n in PARAM_NAMES}, self.config.likelihood.data,
                                 self.config.theory.scenario, self.config.likelihood.mode,
                                 likelihood=self.model.likelihood)
        return PointEvaluation(details, label)

    def sample(self, outdir: str | Path | None = None, *, resume: bool = False, force: bool = False) -> Results:
        """Run the sampler exactly as ``darkportal run`` does (checkpoints, resume, atomic results) into ``outdir``
        (default: the run's ``output``) and return the result read back from the folder."""
        from inference.cli import run as cmd_run

        out = Path(outdir) if outdir is not None else Path(self.config.output)
        args = ["--out", str(out)] + (["--resume"] if resume else []) + (["--force"] if force else [])
        if self.run_file is not None:
            cmd_run.main([str(self.run_file), *args])
        else:  # built in Python: the resolved run file (its entries inline) goes through the same command
            with tempfile.TemporaryDirectory(prefix="darkportal-") as tmp:
                path = Path(tmp) / f"{self.config.name}.yaml"
                path.write_text(self.config.to_yaml(), encoding="utf-8")
                cmd_run.main([str(path), *args])
        return read_results(out)


def load_run(path: str | Path) -> Run:
    """A run file, checked as ``darkportal validate`` checks it (schema, likelihood, prior inside the domain)."""
    return Run(validate_run_config(path), Path(path))


def build_run(config: Mapping[str, Any] | None = None, /, **sections: Any) -> Run:
    """A run from Python data in the run-file schema (a mapping, or the top-level keys as keyword arguments),
    checked as a run file is; a relative ``likelihood.measurements`` path is read from the working directory."""
    data = {**dict(config or {}), **sections}
    data.setdefault("name", "notebook")
    return Run(parse_run_config(data, "<run file>"))


def load_result(outdir: str | Path) -> Results:
    """A finished run's folder as a frozen `Results`: ``.posterior`` (ArviZ DataTree), ``.summary``, ``.evidence``
    and ``.provenance`` (typed records, `inference.output.records`), ``.config``; refuses an unfinished folder or
    another results-format version."""
    return read_results(Path(outdir))
