"""What the report shows of one finished run, as plain typed records (no HTML here).

:func:`run_section` reads a results folder into a :class:`RunSection`: the posterior summary with units,
the prior table, the evidence, the convergence verdict, the best fit (the highest-likelihood sample of the
run, with each likelihood term's value and pull re-evaluated by the run's own likelihood), the measurements
against the posterior predictions, and the provenance.  Every cell is a number, a short string or None
(shown as a dash), never a list or a JSON blob.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inference.output.records import Evidence, Provenance
from inference.output.results import Results, read_results
from inference.output.run_priors import run_priors
from inference.output.summary import convergence_verdict, weighted_quantiles

log = logging.getLogger(__name__)

Row = dict[str, Any]
#: packages whose versions the provenance table lists, in this order (others follow)
_VERSION_ORDER = ("darkportal", "numpy", "scipy", "dynesty", "emcee", "arviz", "xarray")


@dataclass
class BestFit:
    """The highest-likelihood sample: parameter values and the likelihood terms evaluated there."""

    logl: float
    params: list[Row]
    terms: list[Row]
    source: str  # how the terms were obtained
    observables: dict[str, str] = field(default_factory=dict)  # term -> the observable it constrains
    applies_to: dict[str, str] = field(default_factory=dict)  # term -> "np" or "total"


@dataclass
class RunSection:
    name: str
    label: str
    folder: Path
    summary: list[Row]
    priors: list[Row]
    evidence: list[Row]
    converged: bool
    convergence: list[str]
    best: BestFit | None
    measurements: list[Row]
    provenance: list[Row]
    settings: list[Row]
    config_text: str
    tables: dict[str, list[Row]] = field(default_factory=dict)


def _unit(name: str) -> str:
    from physics import REGISTRY

    unit = REGISTRY[name].unit if name in REGISTRY else ""
    return "" if unit == "1" else unit


def summary_rows(res: Results) -> list[Row]:
    out = []
    for r in res.summary:
        row: Row = {"parameter": r.parameter, "unit": _unit(r.parameter), "mean": r.mean, "sd": r.sd,
                    "median": r.median, "68 % interval": (r.q16, r.q84), "95 % interval": (r.q2_5, r.q97_5)}
        for title, value in (("ESS (Kish)", r.ess_kish), ("R-hat", r.r_hat), ("ESS bulk", r.ess_bulk),
                             ("ESS tail", r.ess_tail)):
            if value is not None:
                row[title] = value
        out.append(row)
    return out


def prior_rows(config: dict[str, Any]) -> list[Row]:
    return [{"parameter": p.name, "unit": "" if p.unit == "1" else p.unit, "prior": p.describe(),
             "low": p.low if p.free and math.isfinite(p.low) else None,
             "high": p.high if p.free and math.isfinite(p.high) else None} for p in run_priors(config).values()]


def evidence_rows(ev: Evidence) -> list[Row]:
    rows = [("ln Z", ev.logz if ev.has_logz else None), ("ln Z error (sampler)", ev.logz_err),
            ("spread of ln Z over resampled runs", ev.logz_resampled_std),
            ("resampled runs", len(ev.logz_resampled) or None),
            ("Kish effective sample size", ev.kish_ess), ("likelihood calls", ev.ncall),
            ("iterations", ev.niter), ("sampling efficiency", ev.efficiency),
            ("stopped because", ev.stop.text if ev.stop is not None else None)]
    return [{"quantity": k, "value": v} for k, v in rows if v is not None and not _nan(v)]


def _nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def provenance_rows(prov: Provenance) -> tuple[list[Row], list[Row]]:
    """(provenance rows, sampler-settings rows); nested values become rows of their own."""
    rows: list[Row] = []
    for key in ("version", "git_revision", "seed", "sampler", "measurement_set", "started_at", "written_at",
                "format_version"):
        value = getattr(prov, key)
        if value is not None:
            rows.append({"item": key.replace("_", " "), "value": value})
    versions = dict(prov.versions)
    for pkg in [*(p for p in _VERSION_ORDER if p in versions), *sorted(set(versions) - set(_VERSION_ORDER))]:
        rows.append({"item": f"{pkg} version", "value": versions[pkg]})
    info = prov.sampler_info
    for key in ("wall_time", "resumed_from_iteration", "information"):
        if info.get(key) is not None:
            rows.append({"item": key.replace("_", " ") + (" [s]" if key == "wall_time" else ""), "value": info[key]})
    settings = dict(prov.sampler_settings or info.get("settings") or {})
    return rows, [{"setting": k, "value": "default" if v is None else v} for k, v in sorted(settings.items())
                  if not isinstance(v, dict | list)]


def _best_index(res: Results) -> tuple[dict[str, float], float] | None:
    """Parameters and log L of the highest-likelihood sample (raw samples when stored, else the draws)."""
    tree = res.posterior
    if "weighted_samples" in tree.children and "logl" in tree["weighted_samples"].ds:
        ds = tree["weighted_samples"].ds
        names = [n for n in tree["posterior"].ds.data_vars if n in ds]
        logl = np.asarray(ds["logl"].values, dtype=float)
        i = int(np.argmax(np.where(np.isnan(logl), -np.inf, logl)))
        return {str(n): float(ds[n].values[i]) for n in names}, float(logl[i])
    post, stats = tree["posterior"].ds, tree["sample_stats"].ds
    if "logl" not in stats:
        return None
    logl = np.asarray(stats["logl"].values, dtype=float).ravel()
    i = int(np.argmax(np.where(np.isnan(logl), -np.inf, logl)))
    return {str(n): float(np.asarray(post[n].values).ravel()[i]) for n in post.data_vars}, float(logl[i])


def _full_point(config: dict[str, Any], free: dict[str, float]) -> dict[str, float]:
    priors = run_priors(config)
    return {n: free[n] if n in free else float(p.fixed if p.fixed is not None else np.nan)
            for n, p in priors.items()}


def best_fit(res: Results) -> BestFit | None:
    """The best fit; its terms are empty when the run file cannot be rebuilt here."""
    found = _best_index(res)
    if found is None:
        return None
    free, logl = found
    point = _full_point(res.config, free)
    params = [{"parameter": n, "unit": _unit(n), "value": v, "note": "fixed in the run file" if n not in free else ""}
              for n, v in point.items()]
    try:
        from inference.config.runfile import parse_run_config
        from inference.samplers.model import RunModel
        from physics import ModelParams, predict

        model = RunModel(parse_run_config(res.config, res.outdir / "run.yaml"))
        like = model.likelihood
        preds = predict(ModelParams.from_paper_units({k: [v] for k, v in point.items()}), None,
                        model.config.theory.theory_options())
        report = like.report(preds, include_disabled=False)
        terms = [{"term": r.name, "condition": r.condition, "value": float(r.value[0]),
                  "unit": "" if r.unit == "1" else r.unit,
                  "pull [sigma]": float(r.pull[0]), "ln L": float(r.loglike[0]), "passes": bool(r.passed[0])}
                 for r in report]
        return BestFit(logl, params, terms, "re-evaluated with the run's likelihood",
                       {r.name: r.observable for r in report}, {r.name: r.applies_to for r in report})
    except Exception as exc:  # an older run file, another version: the stored per-term log L still tell much
        log.warning("%s: best fit not re-evaluated (%s); using the stored per-term log L", res.outdir, exc)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return BestFit(logl, params, [], f"not re-evaluated ({reason})")


def measurement_rows(res: Results, best: BestFit | None) -> list[Row]:
    """Each enabled term: its condition, the posterior prediction of what the term constrains (the NP part or
    the SM + NP total) as median and 68 % interval over the equally weighted draws, and the best fit."""
    if best is None or not best.terms:
        return []
    from inference.output.plots_data import run_view_from_results, theory_options
    from physics import ModelParams, predict

    view = run_view_from_results(res)
    params = ModelParams.from_paper_units({k: view.samples[k] for k in run_priors(res.config)})
    names = [o for o in dict.fromkeys(best.observables.values()) if o]
    preds = predict(params, names, theory_options(res.config))
    rows = []
    for term in best.terms:
        obs = best.observables.get(term["term"], "")
        interval = med = None
        if obs in preds:
            p = preds[obs]
            values = np.asarray(p.np if best.applies_to.get(term["term"]) == "np" else p.total, dtype=float)
            values = np.broadcast_to(values, view.weights.shape)
            med, lo, hi = (float(v) for v in weighted_quantiles(values, view.weights, (0.5, 0.16, 0.84)))
            interval = (lo, hi)
        rows.append({"term": term["term"], "measurement or limit": term["condition"], "unit": term["unit"],
                     "posterior median": med, "68 % interval": interval, "best fit": term["value"],
                     "best-fit pull [sigma]": term["pull [sigma]"]})
    return rows


def run_section(run_dir: str | Path, label: str | None = None) -> RunSection:
    """Everything the report shows of one run (see the module docstring)."""
    run_dir = Path(run_dir)
    res = read_results(run_dir)
    name = str(res.config.get("name") or run_dir.name)
    converged, reasons = convergence_verdict(res.summary, res.evidence)
    best = best_fit(res)
    try:
        measurements = measurement_rows(res, best)
    except Exception as exc:
        log.warning("%s: measurements against predictions skipped (%s)", run_dir, exc)
        measurements = []
    prov, settings = provenance_rows(res.provenance)
    config_path = run_dir / "run.yaml"
    return RunSection(name=name, label=label or name, folder=run_dir, summary=summary_rows(res),
                      priors=prior_rows(res.config), evidence=evidence_rows(res.evidence), converged=converged,
                      convergence=reasons, best=best, measurements=measurements, provenance=prov,
                      settings=settings,
                      config_text=config_path.read_text(encoding="utf-8") if config_path.exists() else "")
