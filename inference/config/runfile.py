"""Run files: load, validate and resolve one YAML file into a frozen :class:`RunConfig`.

Schema (paper units; unknown keys anywhere are errors; see runs/kappa_nonzero.yaml)::

    name: kappa_nonzero            # optional, default: the file's stem
    description: "free text"       # optional
    output: results/kappa_nonzero  # optional, default results/<name>
    seed: 20240215                 # required integer >= 0
    parameters: {kappa: {prior: uniform, min: 0, max: 2, unit: TeV^-1}, ...}   # omitted -> paper range
    likelihood: {data: "2023", mode: gaussian | cuts, softening: 0.0, terms: {NAME: {enabled, kind}},
                 measurements: my_measurements.yaml}   # optional: entries replacing or adding terms
    theory: {scenario: paper, options: {r_normalisation: recast}}
    sampler: {name: dynesty | emcee | scan, settings: {...}}

Every error is a :class:`RunConfigError` reading ``<file>: <key.path>: <what is wrong>. <how to fix>``.
The resolved configuration (defaults filled in) dumps back to YAML with :meth:`RunConfig.to_yaml` and
loads again to an equal RunConfig.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import ArrayLike

from inference.config.checks import KeyPath, Source
from inference.config.measurements import MeasurementsFile
from inference.config.params import parse_parameters
from inference.config.sections import (
    LikelihoodApi,
    check_sampler_dimension,
    likelihood_api,
    parse_likelihood,
    parse_sampler,
    parse_theory,
)
from inference.config.strict_yaml import read_yaml
from inference.errors import RunConfigError
from physics.options import TheoryOptions, scenario
from physics.params import ModelParams
from priors import PAPER_UNITS, PriorSet
from priors.base import FloatArray

log = logging.getLogger(__name__)

TOP_KEYS = ("name", "description", "output", "seed", "parameters", "likelihood", "theory", "sampler")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

__all__ = ["LikelihoodConfig", "RunConfig", "RunConfigError", "SamplerConfig", "TheoryConfig", "from_params",
           "load_run_config", "parse_run_config", "to_params", "validate_run_config"]


@dataclass(frozen=True)
class LikelihoodConfig:
    """Measurement set, mode (gaussian | cuts), softening of the cuts (None in gaussian mode) and the
    per-term overrides."""

    data: str
    mode: str
    softening: float | None = None
    terms: dict[str, dict[str, Any]] = field(default_factory=dict)
    measurements: MeasurementsFile | None = None  # the run file's own measurements file, if it names one

    @property
    def extra_entries(self) -> tuple[dict[str, Any], ...]:
        """The user's measurement entries (empty without a measurements file)."""
        return self.measurements.entries if self.measurements is not None else ()


@dataclass(frozen=True)
class TheoryConfig:
    """A named scenario of physics.options and the fields the run file overrides."""

    scenario: str = "paper"
    options: dict[str, Any] = field(default_factory=dict)

    def theory_options(self) -> TheoryOptions:
        return scenario(self.scenario, **self.options)


@dataclass(frozen=True)
class SamplerConfig:
    """Sampler name and its full settings (the adapter's defaults overlaid with the file's values)."""

    name: str
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunConfig:
    """One validated run file. ``priors`` are in paper units; ``to_params`` converts to physics units."""

    name: str
    seed: int
    priors: PriorSet
    likelihood: LikelihoodConfig
    theory: TheoryConfig
    sampler: SamplerConfig
    output: str
    description: str = ""
    source: str | None = None

    def rng(self) -> np.random.Generator:
        """The run's one random generator."""
        return np.random.default_rng(self.seed)

    def to_params(self, x: ArrayLike) -> ModelParams:
        return to_params(self.priors, x)

    def from_params(self, params: ModelParams) -> FloatArray:
        return from_params(self.priors, params)

    def to_dict(self) -> dict[str, Any]:
        """The resolved run file as plain data (YAML-safe); loading it gives an equal RunConfig."""
        parameters = {}
        for name, prior in self.priors.items():
            entry = prior.to_config()
            if PAPER_UNITS[name] != "1":
                entry["unit"] = PAPER_UNITS[name]
            parameters[name] = entry
        likelihood: dict[str, Any] = {"data": self.likelihood.data, "mode": self.likelihood.mode}
        if self.likelihood.softening is not None:
            likelihood["softening"] = self.likelihood.softening
        if self.likelihood.measurements is not None:
            likelihood["measurements"] = self.likelihood.measurements.to_dict()
        likelihood["terms"] = {k: dict(v) for k, v in self.likelihood.terms.items()}
        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        out.update({
            "output": self.output,
            "seed": self.seed,
            "parameters": parameters,
            "likelihood": likelihood,
            "theory": {"scenario": self.theory.scenario, "options": self.theory.theory_options().as_dict()},
            "sampler": {"name": self.sampler.name, "settings": dict(self.sampler.settings)},
        })
        return out

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None, width=110)


def to_params(priors: PriorSet, x: ArrayLike) -> ModelParams:
    """Sampler vectors (..., ndim) in paper units -> ModelParams in GeV units, fixed values filled."""
    return ModelParams.from_paper_units(priors.to_dict(np.atleast_2d(np.asarray(x, dtype=float))))


def from_params(priors: PriorSet, params: ModelParams) -> FloatArray:
    """ModelParams -> (N, ndim) sampler vectors in paper units (inverse of :func:`to_params`)."""
    return priors.from_dict(params.to_paper_units())


def parse_run_config(data: Any, file: str | Path = "<run file>", lines: dict[KeyPath, int] | None = None,
                     api: LikelihoodApi | None = None) -> RunConfig:
    """Validate already-parsed YAML ``data`` (a mapping) into a RunConfig; ``file`` is used in messages."""
    src = Source(str(file), dict(lines or {}))
    top = src.mapping(data, (), "a run file", "seed: 1, likelihood: {...}, sampler: {...}")
    src.known_keys(top, (), TOP_KEYS)
    stem = Path(str(file)).stem if str(file) != "<run file>" else "run"
    name = top.get("name", stem)
    if not isinstance(name, str) or not _NAME.match(name):
        src.fail(("name",), f"the run name must be a simple folder name, got {name!r}",
                 "Use letters, digits, '_', '-' and '.', such as kappa_nonzero")
    description = top.get("description") or ""
    src.string(description, ("description",))
    output = top.get("output", f"results/{name}")
    src.string(output, ("output",), hint="Write a folder path such as results/my_run")
    if output.strip() in {"", ".", "./", "/"} or output != output.strip() or "\0" in output:
        src.fail(("output",), f"output {output!r} is not a folder of its own: the results would be written into the "
                 "current or root folder (or a name with stray spaces)",
                 f"Write a folder path such as results/{name}, or leave output out for that default")
    if "seed" not in top or top["seed"] is None:
        src.fail(("seed",), "'seed' is required but missing",
                 "Add seed: with an integer, such as seed: 12345")
    seed = src.integer(top["seed"], ("seed",), low=0, hint="Write the seed as a whole number such as 12345")
    priors = parse_parameters(top.get("parameters"), src)
    likelihood = parse_likelihood(top.get("likelihood"), src, api or likelihood_api())
    theory = parse_theory(top.get("theory"), src)
    sampler = parse_sampler(top.get("sampler"), src)
    check_sampler_dimension(sampler, priors.ndim, src)
    return RunConfig(name=name, seed=seed, priors=priors, likelihood=LikelihoodConfig(**likelihood),
                     theory=TheoryConfig(**theory), sampler=SamplerConfig(**sampler), output=output,
                     description=description, source=str(file))


def load_run_config(path: str | Path, api: LikelihoodApi | None = None) -> RunConfig:
    """Read and validate the run file at ``path``; raises :class:`RunConfigError`."""
    data, lines = read_yaml(path)
    config = parse_run_config(data, path, lines, api)
    log.debug("loaded run file %s: %d free parameters %s", path, config.priors.ndim, config.priors.names)
    return config


def validate_run_config(path: str | Path, api: LikelihoodApi | None = None) -> RunConfig:
    """Everything :func:`load_run_config` checks, plus the likelihood and physics checks.

    Builds the joint likelihood (so a term override whose kind needs data the measurement lacks is
    caught) and draws 512 points from the prior (seeded with the run's seed) and asks ``physics.domain_violations``
    about them, so a prior that reaches outside the model's domain is caught without running; then evaluates
    the likelihood there and at the corners of the prior box (``inference.config.points``), so a value where
    the physics overflows is caught too.
    """
    data, lines = read_yaml(path)
    config = parse_run_config(data, path, lines, api)
    src = Source(str(path), lines)
    _check_likelihood_builds(config, src)
    from physics import domain_violations

    points = config.priors.sample(config.rng(), 512)
    params = config.to_params(points)
    for reason, mask in domain_violations(params).items():
        if np.any(mask):
            bad = points[int(np.flatnonzero(mask)[0])]
            where = ", ".join(f"{n}={v:.6g}" for n, v in zip(config.priors.names, bad, strict=True))
            src.fail(("parameters",), f"the prior reaches outside the model's domain ({reason}), "
                     f"for example at {where}", "Narrow the prior ranges")
    from inference.config.points import check_finite_likelihood

    check_finite_likelihood(config, src, points)
    return config


def _check_likelihood_builds(config: RunConfig, src: Source) -> None:
    """Build the joint likelihood once; its LikelihoodConfigError becomes a RunConfigError."""
    from likelihoods import JointLikelihood, LikelihoodConfigError

    lik = config.likelihood
    try:
        JointLikelihood.from_config(lik.data, lik.mode, softening=lik.softening or 0.0, overrides=lik.terms,
                                    options=config.theory.theory_options(), extra_entries=lik.extra_entries)
    except LikelihoodConfigError as exc:
        if exc.term is not None and exc.term in lik.terms:  # the error names an overridden term: point at it
            raise src.error(("likelihood", "terms", exc.term), f"the likelihood cannot be built: {exc.problem}",
                            "Change or remove this term override (a kind needs data the measurement provides)"
                            ) from None
        raise src.error(("likelihood",), f"the likelihood cannot be built: {exc}",
                        "Check the likelihood section") from None
