"""Reweighting a results folder for a new run file, and writing the reweighted run as a results folder.

What may change: any prior that stays inside the old one's support (narrower ranges, another shape on the same
or a smaller range), and anything in the likelihood (terms on or off, another kind, the data set, the mode,
theory options) that keeps the run's hard bounds; the effective sample size decides whether the result is
usable. What may not: the free parameters or the values of the fixed ones (the samples live in another
space), a prior wider than the run's, and dropping or changing a hard bound of the run (0 or -inf: a cuts-mode
term, ctau_S < 0.1 mm, ...), because the run has no samples where it fails. The math is in
:mod:`inference.analysis.reweight`.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.analysis.reweight import DEFAULT_MIN_ESS, NotReweightableError, Reweighting, importance_reweight
from inference.config.runfile import RunConfig, parse_run_config
from inference.output.results import Results, collect_provenance, write_results
from inference.samplers import SamplerOutput, StopKind, StopReason, compute_blobs
from inference.samplers.model import RunModel
from likelihoods import Term, TermSpec

log = logging.getLogger(__name__)

#: relative slack when comparing prior edges (edges written in YAML with rounding)
_EDGE_TOL = 1e-12


@dataclass(frozen=True)
class ReweightedRun:
    """A reweighting of one results folder: the samples it kept, the new configuration and the numbers."""

    source: Path
    config: RunConfig
    samples: np.ndarray
    result: Reweighting


_MODELS: OrderedDict[str, RunModel] = OrderedDict()
_MODELS_KEPT = 4  # the two runs' own models and the variant at hand (each holds tables and compiled code)


def model_for(config: RunConfig) -> RunModel:
    """A RunModel of ``config``, reused for the same configuration (a sensitivity table asks for the two runs'
    own models once per variant; building one loads tables and the compiled likelihood, ~1 s)."""
    key = config.to_yaml()
    model = _MODELS.pop(key, None) or RunModel(config)
    _MODELS[key] = model
    while len(_MODELS) > _MODELS_KEPT:
        _MODELS.popitem(last=False)
    return model


def run_config_of(res: Results) -> RunConfig:
    """The RunConfig a results folder was made with (from its resolved run.yaml)."""
    return parse_run_config(res.config, res.outdir / "run.yaml")


def check_reweightable(old: RunConfig, new: RunConfig, released_bounds: bool = False) -> None:
    """Raise NotReweightableError when ``new`` cannot be reached from samples of ``old`` (module docstring).

    released_bounds=True skips the hard-bound check: for callers that add the evidence of the released region
    themselves (``inference.analysis.sensitivity`` does, by Monte Carlo over the prior)."""
    if tuple(old.priors.names) != tuple(new.priors.names):
        raise NotReweightableError(f"the free parameters differ: the run has {', '.join(old.priors.names)}, the new "
                                   f"run file {', '.join(new.priors.names)}")
    if old.priors.fixed != new.priors.fixed:
        raise NotReweightableError(f"the fixed parameters differ: the run has {old.priors.fixed}, the new run file "
                                   f"{new.priors.fixed}")
    old_hard, new_hard = _hard_terms(old), _hard_terms(new)
    for name, spec in old_hard.items():
        if not released_bounds and new_hard.get(name) != spec:
            raise NotReweightableError(
                f"the run's likelihood has the hard bound {name!r} (zero where it fails), which the new run file "
                "drops or changes: the run has no samples where that bound fails", bound_released=True)
    for name, (lo_old, hi_old), (lo_new, hi_new) in zip(new.priors.names, old.priors.bounds, new.priors.bounds,
                                                         strict=True):
        slack = _EDGE_TOL * max(abs(lo_old), abs(hi_old), 1.0)
        if lo_new < lo_old - slack or hi_new > hi_old + slack:
            raise NotReweightableError(
                f"the prior of {name} is wider than the run's: [{lo_new:g}, {hi_new:g}] against [{lo_old:g}, "
                f"{hi_old:g}]; the run has no samples outside its own prior")


def _hard_terms(config: RunConfig) -> dict[str, TermSpec]:
    """Enabled terms that are 0 or -inf (hard bounds, and every unsoftened term in cuts mode)."""
    def hard(t: Term) -> bool:
        width = t.spec.softening if t.spec.softening is not None else t.softening
        return t.spec.kind == "hard_bound" or (t.mode == "cuts" and not width)

    return {t.name: t.spec for t in model_for(config).likelihood.terms if hard(t)}


def reweight_results(res: Results, new: RunConfig, min_ess: float = DEFAULT_MIN_ESS,
                     released_bounds: bool = False) -> ReweightedRun:
    """Reweight the weighted samples of ``res`` to the prior and likelihood of ``new`` (see check_reweightable
    for ``released_bounds``)."""
    old = run_config_of(res)
    check_reweightable(old, new, released_bounds)
    ws = res.posterior["weighted_samples"].ds
    names = list(new.priors.names)
    samples = np.column_stack([np.asarray(ws[n], dtype=float) for n in names])
    weights = np.asarray(ws["weights"], dtype=float)
    keep = weights > 0
    samples, weights = samples[keep], weights[keep]
    logl_old = np.asarray(ws["logl"], dtype=float)[keep]
    logp_old = np.asarray(old.priors.logpdf(samples), dtype=float)
    logp_new = np.asarray(new.priors.logpdf(samples), dtype=float)
    logl_new = np.full(len(samples), -np.inf)
    inside = np.isfinite(logp_new)
    if np.any(inside):
        logl_new[inside] = model_for(new).log_likelihood(samples[inside])
    ev = res.evidence
    result = importance_reweight(weights, logl_old, logp_old, logl_new, logp_new, ev.logz, ev.logz_err, min_ess)
    return ReweightedRun(res.outdir, new, samples, result)


def write_reweighted(outdir: Path, run: ReweightedRun, run_file: str, force: bool = False) -> Path:
    """The reweighted run as a results folder (posterior.nc, summary, evidence.json, ...; COMPLETE last)."""
    r = run.result
    keep = r.weights > 0
    samples = run.samples[keep]
    info = {"reweighting": r.summary(), "reweighted_from": str(run.source)}
    output = SamplerOutput(names=tuple(run.config.priors.names), samples=samples, weights=r.weights[keep],
                           logl=r.logl[keep], logz=r.logz, logz_err=None if not np.isfinite(r.logz_err) else r.logz_err,
                           info=info, sampler="reweight",
                           stop=StopReason(StopKind.REWEIGHTED, f"importance reweighting of {run.source}"))
    blobs = compute_blobs(RunModel(run.config).problem(), samples)
    config = run.config
    provenance = collect_provenance(config.seed, "reweight", {}, measurement_set=config.likelihood.data,
                                    run_file=run_file, likelihood_mode=config.likelihood.mode,
                                    theory_options=config.theory.theory_options().as_dict(),
                                    reweighted_from=str(run.source), reweighting=r.summary())
    return write_results(outdir, output, blobs, config.to_dict(), provenance, force=force)
