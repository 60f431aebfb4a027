"""How much of ln B(A vs B) is the prior, and which measurement drives it: ln B under prior and likelihood variants.

Each variant changes both resolved run files the same way (a change that does not touch a run, such as
kappa's range for a kappa = 0 run, leaves it as it is). Each run's ln Z under the variant comes from importance
reweighting of its own samples where that is valid and the effective sample size stays above the threshold
(``inference.analysis.reweight_results``), else from a rerun with a quick dynesty setting (``scan`` for the cuts
variant, whose likelihood is a plateau). Every row says which, with the ESS and the reason for a rerun.

Variants (``default_variants``): the baseline (reweighting to the same run file: ratio 1 unless the code's
physics changed since the runs) and the baseline rerun with the quick settings (the reference for rerun rows,
whose few live points can shift ln Z); kappa's upper edge halved and doubled; eta_t, g_D, |U_mu4| log-uniform over three
decades below their upper edges (|eta_c| as well once the priors have a sign-flipped log-uniform; today's
log_uniform needs min > 0 and eta_c is negative); eta_d up to 1.5 (the paper's BP7 has 1.40); each enabled
term dropped in turn; the 2025 measurement set; NA62's K+ -> pi+ X(invisible) on; the paper's cuts instead of
the gaussian likelihood.
"""

from __future__ import annotations

import copy
import logging
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inference.analysis.comparability import check_comparable
from inference.analysis.reweight import DEFAULT_MIN_ESS, NotReweightableError
from inference.analysis.reweight_results import model_for, reweight_results, run_config_of
from inference.config.runfile import RunConfig, parse_run_config
from inference.output.results import Results
from inference.samplers.model import RunModel

log = logging.getLogger(__name__)

Config = dict[str, Any]
NA62 = "NA62 K+->pi+X(invisible)"
LOG_UNIFORM_COUPLINGS = ("eta_t", "g_D", "U_mu4")
LOG_DECADES = 3.0
QUICK_NLIVE = 250
QUICK_DYNESTY: dict[str, Any] = {"nlive": QUICK_NLIVE, "dlogz": 0.5, "bound": "multi", "sample": "rwalk",
                                 "checkpoint_every": 1e9}
MC_DRAWS = 200_000  # prior draws for the region a dropped hard bound releases
MC_MIN_ESS = 50.0
QUICK_SCAN: dict[str, Any] = {"n_eff": 2000, "batch_size": 4096, "max_calls": 5_000_000}


@dataclass(frozen=True)
class Variant:
    """A named change of a resolved run file (returns a changed deep copy)."""

    name: str
    kind: str  # "baseline" | "prior" | "likelihood"
    description: str
    change: Callable[[Config], Config]
    force_rerun: bool = False  # the baseline rerun with the quick settings (the reference of rerun rows)


@dataclass(frozen=True)
class RunEstimate:
    """ln Z of one run under one variant and how it was obtained."""

    logz: float
    logz_err: float
    method: str  # "reweight" | "rerun (dynesty)" | "rerun (scan)" | "unchanged"
    ess: float | None
    note: str = ""


@dataclass(frozen=True)
class Row:
    variant: Variant
    a: RunEstimate
    b: RunEstimate

    @property
    def ln_b(self) -> float:
        return self.a.logz - self.b.logz

    @property
    def ln_b_err(self) -> float:
        return float(np.hypot(self.a.logz_err, self.b.logz_err))


# ------------------------------------------------------------------------------------------------ variants
def _free(config: Config, name: str) -> bool:
    spec = (config.get("parameters") or {}).get(name) or {}
    return "fixed" not in spec


def _with_param(name: str, **spec: Any) -> Callable[[Config], Config]:
    def change(config: Config) -> Config:
        out = copy.deepcopy(config)
        if _free(out, name):
            entry = out["parameters"][name]
            unit = entry.get("unit")
            entry.clear()
            entry.update(spec, **({"unit": unit} if unit else {}))
        return out
    return change


def _scaled_edge(name: str, factor: float) -> Callable[[Config], Config]:
    def change(config: Config) -> Config:
        out = copy.deepcopy(config)
        if _free(out, name):
            out["parameters"][name]["max"] = float(out["parameters"][name]["max"]) * factor
        return out
    return change


def _log_uniform(config: Config) -> Config:
    out = copy.deepcopy(config)
    for name in LOG_UNIFORM_COUPLINGS:
        if _free(out, name):
            entry = out["parameters"][name]
            hi = float(entry["max"])
            entry.update(prior="log_uniform", min=hi * 10.0 ** -LOG_DECADES, max=hi)
    return out


def _likelihood(**fields: Any) -> Callable[[Config], Config]:
    def change(config: Config) -> Config:
        out = copy.deepcopy(config)
        out["likelihood"].update(copy.deepcopy(fields))
        return out
    return change


def _term(name: str, enabled: bool) -> Callable[[Config], Config]:
    def change(config: Config) -> Config:
        out = copy.deepcopy(config)
        terms = dict(out["likelihood"].get("terms") or {})
        terms[name] = {**terms.get(name, {}), "enabled": enabled}
        out["likelihood"]["terms"] = terms
        return out
    return change


def default_variants(config_a: Config, tested: tuple[str, ...] = ("kappa",)) -> list[Variant]:
    """The variants of the module docstring for runs shaped like ``config_a`` (the run with ``tested`` free)."""
    model = RunModel(parse_run_config(config_a, "<run A>"))
    out = [Variant("baseline", "baseline", "the runs as they are", copy.deepcopy),
           Variant("baseline, quick rerun", "baseline", "the runs as they are, rerun with the quick settings of "
                   "the rerun rows (their reference)", copy.deepcopy, force_rerun=True)]
    for name in tested:
        out += [Variant(f"{name} upper edge halved", "prior", f"{name} prior max x 0.5", _scaled_edge(name, 0.5)),
                Variant(f"{name} upper edge doubled", "prior", f"{name} prior max x 2", _scaled_edge(name, 2.0))]
    out += [Variant("log-uniform couplings", "prior",
                    f"{', '.join(LOG_UNIFORM_COUPLINGS)} log-uniform over {LOG_DECADES:.0f} decades below the upper "
                    "edge", _log_uniform),
            Variant("eta_d up to 1.5", "prior", "eta_d uniform on [0, 1.5]", _with_param("eta_d", prior="uniform",
                                                                                        min=0.0, max=1.5))]
    for term in model.likelihood.term_names:
        out.append(Variant(f"drop {term}", "likelihood", f"term {term!r} disabled", _term(term, False)))
    if config_a["likelihood"].get("data") != "2025":
        out.append(Variant("2025 data", "likelihood", "the 2025 measurement set", _likelihood(data="2025", terms={})))
    if NA62 not in model.likelihood.term_names:
        out.append(Variant("NA62 on", "likelihood", f"term {NA62!r} enabled", _term(NA62, True)))
    if config_a["likelihood"].get("mode") != "cuts":
        out.append(Variant("cuts", "likelihood", "the paper's pass/fail cuts instead of gaussian terms",
                           _likelihood(mode="cuts", softening=0.0)))
    return out


# ---------------------------------------------------------------------------------------------- estimation
def rerun_logz(config: Config, nlive: int, workdir: str) -> tuple[float, float, str]:
    """ln Z of a run file (as a resolved dict) by a quick sampler run; (ln Z, error, method)."""
    from inference.samplers import run_sampler

    run = parse_run_config(config, "<variant>")
    cuts = run.likelihood.mode == "cuts" and not run.likelihood.softening
    name, settings = ("scan", dict(QUICK_SCAN)) if cuts else ("dynesty", {**QUICK_DYNESTY, "nlive": nlive})
    out = run_sampler(name, RunModel(run).problem(), settings, Path(workdir), run.seed)
    err = out.logz_err if out.logz_err is not None else float(np.std(out.logz_resampled, ddof=1))
    return float(out.logz), float(err), f"rerun ({name})"


def _rerun_task(args: tuple[Config, int]) -> tuple[float, float, str]:
    config, nlive = args
    with tempfile.TemporaryDirectory(prefix="darkportal-sensitivity-") as tmp:
        return rerun_logz(config, nlive, tmp)


def _evidence(res: Results) -> tuple[float, float]:
    ev = res.evidence
    if not ev.has_logz:
        raise ValueError(f"{res.outdir} has no evidence (sampler {ev.sampler}); sensitivity needs dynesty "
                         "or scan runs")
    return ev.logz, float(ev.logz_err or 0.0)


@dataclass(frozen=True)
class RerunRequest:
    """A variant run that reweighting cannot give, and why."""

    config: Config
    why: str


def estimate(res: Results, changed: Config, min_ess: float, baseline: bool = False) -> RunEstimate | RerunRequest:
    """ln Z of ``res`` under the changed run file: 'unchanged' when the variant does not touch this run (not for
    the baseline, which is always reweighted to test that ratio 1 comes out), else reweighted, else a request to
    rerun with the reason."""
    if not baseline and _strip(changed) == _strip(res.config):
        logz, err = _evidence(res)
        return RunEstimate(logz, err, "unchanged", float(res.evidence.kish_ess or np.nan))
    new = parse_run_config(changed, res.outdir / "run.yaml")
    try:
        run = reweight_results(res, new, min_ess)
    except NotReweightableError as exc:
        if not exc.bound_released or run_config_of(res).priors != new.priors:
            return RerunRequest(changed, exc.reason)
        try:
            return released_bound_estimate(res, new, min_ess)
        except NotReweightableError as exc2:
            return RerunRequest(changed, exc2.reason)
    r = run.result
    return RunEstimate(r.logz, r.logz_err, "reweight", r.ess)


def released_bound_estimate(res: Results, new: RunConfig, min_ess: float, n_draws: int = MC_DRAWS) -> RunEstimate:
    """ln Z when the new run file drops or loosens a hard bound of the run (same prior): the run's samples,
    reweighted, give the part where the old bound held (Z r); the released region, where the old likelihood was
    zero and the new one is not, is integrated by plain Monte Carlo over ``n_draws`` prior draws (dZ):
    Z' = Z r + dZ. Refused (NotReweightableError) when dZ matters (its 3-sigma upper bound above 1 % of Z r) and
    rests on fewer than MC_MIN_ESS effective draws."""
    old = run_config_of(res)
    run = reweight_results(res, new, min_ess, released_bounds=True)
    r = run.result
    rng = np.random.default_rng(np.random.SeedSequence([new.seed, 1616]))
    x = old.priors.sample(rng, n_draws)
    logl_old = np.asarray(model_for(old).log_likelihood(x), dtype=float)
    logl_new = np.asarray(model_for(new).log_likelihood(x), dtype=float)
    released = ~np.isfinite(logl_old) & np.isfinite(logl_new)
    z_kept = float(np.exp(r.logz))
    values = np.where(released, np.exp(np.where(released, logl_new, -np.inf)), 0.0)
    dz, dz_err = float(values.mean()), float(values.std(ddof=1) / np.sqrt(n_draws))
    n_released = int(released.sum())
    mc_ess = float(values.sum() ** 2 / np.sum(values**2)) if n_released and values.sum() > 0 else 0.0
    if n_released == 0:  # no draw in the released region: its prior volume is below ~3 / n_draws (rule of three)
        dz_err = 3.0 / n_draws * float(np.exp(np.max(r.logl[np.isfinite(r.logl)])))
    if dz + 3.0 * dz_err > 0.01 * z_kept and mc_ess < MC_MIN_ESS:
        raise NotReweightableError(
            f"the released bound's region matters (dZ = {dz:.3g} +- {dz_err:.3g} against Z = {z_kept:.3g}) but only "
            f"{mc_ess:.0f} of {n_draws} prior draws carry it (threshold {MC_MIN_ESS:.0f})", fix="")
    total = z_kept + dz
    err = float(np.hypot(r.logz_err * z_kept, dz_err) / total)
    return RunEstimate(float(np.log(total)), err, "reweight + prior MC", r.ess,
                       f"released region: {n_released} of {n_draws} prior draws, dZ/Z = {dz / total:.3g}")


def _strip(config: Config) -> Config:
    return {k: v for k, v in config.items() if k not in ("name", "output", "description", "sampler", "seed")}


def sensitivity(res_a: Results, res_b: Results, variants: list[Variant] | None = None,
                min_ess: float = DEFAULT_MIN_ESS, nlive: int = QUICK_NLIVE, jobs: int = 1) -> list[Row]:
    """One row per variant (module docstring). Reruns go to ``jobs`` worker processes."""
    tested = check_comparable(res_a.config, res_b.config, str(res_a.outdir), str(res_b.outdir))
    variants = variants if variants is not None else default_variants(res_a.config, tested or ("kappa",))
    pending: list[tuple[int, str, RerunRequest]] = []
    found: dict[tuple[int, str], RunEstimate] = {}
    for i, v in enumerate(variants):
        for side, res in (("A", res_a), ("B", res_b)):
            got = (RerunRequest(v.change(res.config), "the reference of the rerun rows") if v.force_rerun else
                   estimate(res, v.change(res.config), min_ess, baseline=v.kind == "baseline"))
            if isinstance(got, RunEstimate):
                found[(i, side)] = got
            else:
                pending.append((i, side, got))
        log.info("variant %d/%d (%s): A %s, B %s", i + 1, len(variants), v.name,
                 found[(i, "A")].method if (i, "A") in found else "rerun",
                 found[(i, "B")].method if (i, "B") in found else "rerun")
    if pending:
        log.info("rerunning %d variant runs (quick dynesty, %d live points; scan for cuts) on %d process(es)",
                 len(pending), nlive, jobs)
        tasks = [(req.config, nlive) for _, _, req in pending]
        if jobs > 1:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                outcomes = list(pool.map(_rerun_task, tasks))
        else:
            outcomes = [_rerun_task(t) for t in tasks]
        for (i, side, req), (logz, err, method) in zip(pending, outcomes, strict=True):
            found[(i, side)] = RunEstimate(logz, err, method, None, req.why)
    return [Row(v, found[(i, "A")], found[(i, "B")]) for i, v in enumerate(variants)]
