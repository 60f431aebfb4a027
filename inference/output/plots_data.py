"""What the figures and the report need from a finished run, as plain arrays: :class:`RunView`.

A `RunView` is built either from arrays (tests, notebooks) with :meth:`RunView.build`, or from a results
folder with :func:`load_run_view`, which reads it through :func:`inference.output.results.read_results`:

* parameters come from the ``posterior`` group (equally weighted draws, paper units: kappa in TeV^-1,
  masses in MeV); parameters held fixed in the run file (kappa = 0) are filled from ``run.yaml``;
* per-term log-likelihoods from the ``log_likelihood`` group and the total log L from ``sample_stats``;
* predictions (SM + NP totals) from the ``posterior_predictive`` group.  Each stored observable is
  checked against ``physics.predict`` on a few draws (so a stored new-physics-only part is never drawn
  as a total); observables that are missing or disagree are recomputed for all draws with the run's
  theory options.

Measured values and limits for Fig. 3 are passed to the plots as :class:`Reference` records, built here
from the likelihood layer's measurement database when it can be read, else from the SM values of
``physics/data/sm_predictions.yaml``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from physics import PARAM_NAMES, REGISTRY, ModelParams, TheoryOptions, predict, scenario

log = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]

#: run colours, in the order the runs are given (every figure uses the same colour for the same run)
RUN_COLOURS: tuple[str, ...] = ("tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange", "tab:brown",
                                "tab:pink", "tab:olive", "tab:cyan", "tab:gray")
#: relative agreement required between a stored prediction and physics.predict
_CHECK_RTOL = 1e-6
_CHECK_POINTS = 16


@dataclass
class RunView:
    """One run as the plots see it.  All arrays have the same length n (one entry per sample).

    name: run name (folder name); label: legend text; colour: the run's colour in every figure (see
    :func:`style_runs`).
    samples: parameter -> values in the paper's units (kappa TeV^-1, masses MeV).
    weights: normalised sample weights (1/n for equally weighted draws).
    observables: observable -> SM + NP total prediction per sample.
    terms: likelihood term -> log L per sample.  logl: total log L per sample (NaN if unknown).
    best: index of the sample with the largest log L.  kappa_zero: True for the kappa = 0 case.
    raw_samples, raw_weights: the sampler's raw weighted samples (nested sampling), used for the corner
    plot's weighted contours when present; None otherwise.
    bounds: parameter -> (low, high) prior range of the free parameters (bounds the density contours).
    mode: the likelihood mode of the run ("gaussian", "cuts"; "" if unknown). Cuts-mode runs are the paper's
    allowed points: Figs. 2 and 3 draw them as points, and gaussian-mode runs beside them as contours only.
    """

    name: str
    label: str
    colour: str
    samples: dict[str, FloatArray]
    weights: FloatArray
    observables: dict[str, FloatArray] = field(default_factory=dict)
    terms: dict[str, FloatArray] = field(default_factory=dict)
    logl: FloatArray = field(default_factory=lambda: np.zeros(0))
    best: int = 0
    kappa_zero: bool = False
    raw_samples: dict[str, FloatArray] | None = None
    raw_weights: FloatArray | None = None
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    mode: str = ""

    @classmethod
    def build(cls, name: str, samples: Mapping[str, Any], weights: Any = None, *,
              observables: Mapping[str, Any] | None = None, terms: Mapping[str, Any] | None = None,
              logl: Any = None, label: str | None = None, kappa_zero: bool | None = None,
              colour: str = RUN_COLOURS[0], bounds: Mapping[str, tuple[float, float]] | None = None) -> RunView:
        """A view from plain arrays; the best point is the one of largest log L."""
        smp = {k: np.asarray(v, dtype=float).ravel() for k, v in samples.items()}
        if not smp:
            raise ValueError(f"run {name!r}: no parameter samples")
        n = len(next(iter(smp.values())))
        bad = [k for k, v in smp.items() if len(v) != n]
        if bad:
            raise ValueError(f"run {name!r}: samples of {bad} differ in length from the others ({n})")
        w = np.full(n, 1.0 / n) if weights is None else np.asarray(weights, dtype=float).ravel()
        if len(w) != n or np.any(w < 0) or not np.isfinite(w).all() or w.sum() <= 0:
            raise ValueError(f"run {name!r}: weights must be {n} finite non-negative numbers, not all zero")
        obs = _aligned(name, "observable", observables or {}, n)
        trm = _aligned(name, "term", terms or {}, n)
        if logl is not None:
            ll = np.asarray(logl, dtype=float).ravel()
        elif trm:
            ll = np.sum(list(trm.values()), axis=0)
        else:
            ll = np.full(n, np.nan)
        if kappa_zero is None:
            kappa_zero = "kappa" in smp and bool(np.all(smp["kappa"] == 0.0))
        score = np.where(np.isnan(ll), -np.inf, ll)
        best = int(np.argmax(score)) if np.any(np.isfinite(score)) else int(np.argmax(w))
        return cls(name, label or default_label(name, kappa_zero), colour, smp, w / w.sum(), obs, trm,
                   ll, best, kappa_zero, bounds=dict(bounds or {}))

    @property
    def size(self) -> int:
        return len(self.weights)

    def resample(self, n: int, seed: int = 0) -> np.ndarray:
        """Indices of n equally weighted draws (with replacement, probability = weight), fixed seed."""
        rng = np.random.default_rng(seed)
        return rng.choice(self.size, size=n, replace=True, p=self.weights)

    def best_terms(self) -> dict[str, float]:
        """Per-term log L at the best point."""
        return {k: float(v[self.best]) for k, v in self.terms.items()}

    def best_point(self) -> dict[str, float]:
        return {k: float(v[self.best]) for k, v in self.samples.items()}


def default_label(name: str, kappa_zero: bool) -> str:
    return rf"{name} ($\kappa {'=' if kappa_zero else r'\neq'} 0$)"


def style_runs(views: list[RunView], folders: list[Path] | None = None) -> list[RunView]:
    """Give each run its own colour (RUN_COLOURS in order) and a label that tells it from the others: the run
    name, or, where two runs share a name, the folder path that differs (e.g. "ref/kappa_nonzero")."""
    names = [v.name for v in views]
    for i, v in enumerate(views):
        v.colour = RUN_COLOURS[i % len(RUN_COLOURS)]
        if folders is not None and names.count(v.name) > 1:
            parts = Path(folders[i]).resolve().parts
            others = [Path(f).resolve().parts for j, f in enumerate(folders) if j != i and names[j] == v.name]
            depth = 1
            while depth < len(parts) and any(o[-depth:] == parts[-depth:] for o in others):
                depth += 1
            v.label = default_label("/".join(parts[-depth:]), v.kappa_zero)
    return views


def _aligned(run: str, what: str, values: Mapping[str, Any], n: int) -> dict[str, FloatArray]:
    out = {}
    for k, v in values.items():
        a = np.asarray(v, dtype=float).ravel()
        if len(a) != n:
            raise ValueError(f"run {run!r}: {what} {k!r} has {len(a)} values, the samples {n}")
        out[k] = a
    return out


# ----------------------------------------------------------------------------------------- from results
def theory_options(config: Mapping[str, Any]) -> TheoryOptions:
    """The run's theory options from its resolved run file (``theory: {scenario, options}``)."""
    theory = config.get("theory") or {}
    return scenario(str(theory.get("scenario", "paper")), **dict(theory.get("options") or {}))


def _fixed_parameters(config: Mapping[str, Any]) -> dict[str, float]:
    params = config.get("parameters") or {}
    return {k: float(v["fixed"]) for k, v in params.items() if isinstance(v, Mapping) and "fixed" in v}


def _flat_group(tree: Any, group: str, n: int | None = None) -> dict[str, FloatArray]:
    """Variables of one DataTree group flattened over (chain, draw); those of another length dropped."""
    if group not in tree.children:
        return {}
    out = {}
    for key, var in tree[group].ds.data_vars.items():
        if "chain" not in var.dims:
            continue
        a = np.asarray(var.values, dtype=float).ravel()
        if n is None or len(a) == n:
            out[str(key)] = a
        else:
            log.warning("%s/%s has %d values, the posterior %d: not used", group, key, len(a), n)
    return out


def complete_observables(samples: Mapping[str, FloatArray], stored: Mapping[str, FloatArray],
                         wanted: Iterable[str], options: TheoryOptions | None = None) -> dict[str, FloatArray]:
    """SM + NP totals of `wanted` (and every stored observable) at the parameter samples (paper units).

    Stored values are kept where they agree with ``physics.predict`` on a few samples; others are
    recomputed at every sample.  Needs all eight parameters; without them only stored values are returned.
    """
    out = {k: np.asarray(v, dtype=float) for k, v in stored.items()}
    wanted = [w for w in wanted if w in REGISTRY]
    if not all(p in samples for p in PARAM_NAMES):
        missing = sorted(set(PARAM_NAMES) - set(samples))
        log.warning("parameters %s missing: predictions taken as stored, none recomputed", missing)
        return out
    params = ModelParams.from_paper_units({p: samples[p] for p in PARAM_NAMES})
    check = [k for k in out if k in REGISTRY]
    redo = []
    if check and params.size:
        sub = np.linspace(0, params.size - 1, min(_CHECK_POINTS, params.size)).astype(int)
        ref = predict(params.take(sub), check, options)
        for k in check:
            if not np.allclose(out[k][sub], ref[k].total, rtol=_CHECK_RTOL, atol=0.0, equal_nan=True):
                log.warning("stored prediction %r differs from physics.predict (SM + NP): recomputed", k)
                redo.append(k)
    todo = [w for w in dict.fromkeys([*wanted, *redo]) if w in redo or w not in out]
    if todo:
        pred = predict(params, todo, options)
        out.update({k: np.asarray(pred[k].total, dtype=float) for k in todo})
    return out


def run_view_from_results(res: Any, wanted: Iterable[str] = (), label: str | None = None) -> RunView:
    """A :class:`RunView` of a run read by :func:`inference.output.results.read_results`."""
    samples = _flat_group(res.posterior, "posterior")
    if not samples:
        raise ValueError(f"{res.outdir / 'posterior.nc'}: the posterior group holds no parameters")
    n = len(next(iter(samples.values())))
    fixed = _fixed_parameters(res.config)
    for name, value in fixed.items():
        samples.setdefault(name, np.full(n, value))
    stats = _flat_group(res.posterior, "sample_stats", n)
    terms = _flat_group(res.posterior, "log_likelihood", n)
    stored = _flat_group(res.posterior, "posterior_predictive", n)
    observables = complete_observables(samples, stored, wanted, theory_options(res.config))
    name = str(res.config.get("name") or Path(res.outdir).name)
    kappa_zero = "kappa" in samples and bool(np.all(samples["kappa"] == 0.0))
    ordered = {p: samples[p] for p in PARAM_NAMES if p in samples}
    ordered.update({k: v for k, v in samples.items() if k not in ordered})
    from inference.output.run_priors import prior_bounds

    view = RunView.build(name, ordered, None, observables=observables, terms=terms, logl=stats.get("logl"),
                         label=label, kappa_zero=kappa_zero, bounds=prior_bounds(res.config))
    view.mode = str((res.config.get("likelihood") or {}).get("mode") or "")
    raw = _raw_samples(res, fixed)
    if raw is not None:
        view.raw_samples, view.raw_weights = raw
    return view


def _raw_samples(res: Any, fixed: Mapping[str, float]) -> tuple[dict[str, FloatArray], FloatArray] | None:
    """The `weighted_samples` group (raw samples and normalised weights), fixed parameters filled."""
    if "weighted_samples" not in res.posterior.children:
        return None
    ds = res.posterior["weighted_samples"].ds
    if "weights" not in ds:
        return None
    w = np.asarray(ds["weights"].values, dtype=float)
    if len(w) == 0 or not np.isfinite(w).all() or w.sum() <= 0:
        return None
    raw = {p: np.asarray(ds[p].values, dtype=float) if p in ds else np.full(len(w), fixed[p])
           for p in PARAM_NAMES if p in ds or p in fixed}
    return raw, w / w.sum()


def load_run_view(run_dir: str | Path, wanted: Iterable[str] = (), label: str | None = None) -> RunView:
    """A :class:`RunView` of a finished run folder (see the module docstring for what is read)."""
    from inference.output.results import read_results

    return run_view_from_results(read_results(Path(run_dir)), wanted, label)


# ------------------------------------------------------------------------------------------ references
RefKind = Literal["measurement", "upper_limit", "sm"]


@dataclass(frozen=True)
class Reference:
    """A value drawn on a plot axis: a measurement (value, errors), an upper limit, or the SM value."""

    observable: str
    kind: RefKind
    value: float
    error_up: float = 0.0
    error_down: float = 0.0
    label: str = ""


def sm_references(names: Iterable[str]) -> dict[str, list[Reference]]:
    """The SM value of each named observable that has one (physics/data/sm_predictions.yaml)."""
    out: dict[str, list[Reference]] = {}
    for name in names:
        sm = REGISTRY[name].sm if name in REGISTRY else None
        if sm is not None:
            out[name] = [Reference(name, "sm", sm.value, sm.error_up, sm.error_down, "SM")]
    return out


def _short_reference(text: str, limit: int = 24) -> str:
    head = text.split(",")[0].split("(")[0].strip()
    return head if len(head) <= limit else head[: limit - 1] + "…"


def measurement_references(names: Iterable[str], data_set: str = "2023") -> dict[str, list[Reference]]:
    """SM values plus the measurements and limits of `data_set` (likelihoods/data/measurements.yaml).

    Plots show SM + NP totals, so a limit on the new-physics part alone (applies_to: np, with an SM value)
    is drawn at limit + SM central value, which is the same condition on the total.  Entries restricted to
    windows of another observable (NA62's m_S windows) are not drawn; entries the set leaves disabled
    are labelled "(not in fit)".
    """
    wanted = list(names)
    out = sm_references(wanted)
    try:
        from likelihoods import load_measurements

        entries = load_measurements(data_set)
    except Exception as exc:  # the plots still work with SM lines only
        log.warning("measurement set %r not readable (%s): Fig. 3 shows SM values only", data_set, exc)
        return out
    for e in entries:
        if e.observable not in wanted or e.windows:
            continue
        shift = e.sm.value if (e.applies_to == "np" and e.sm is not None) else 0.0
        suffix = ("" if e.enabled else " (not in fit)") + (" (NP) + SM" if shift else "")
        who = _short_reference(e.reference or e.source)
        d = e.data
        if e.kind in ("gaussian", "asymmetric_gaussian") and "central" in d:
            up = d.get("error_up", d.get("error", 0.0))
            down = d.get("error_down", d.get("error", 0.0))
            ref = Reference(e.observable, "measurement", d["central"] + shift, up, down, who + suffix)
        elif "limit" in d or "high" in d:
            limit = d.get("limit", d.get("high", np.inf))
            cl = f" {100 * d['cl']:.0f}% CL" if "cl" in d else ""
            ref = Reference(e.observable, "upper_limit", limit + shift, label=f"{who}{cl}{suffix}")
        else:
            continue
        out.setdefault(e.observable, []).append(ref)
    return out
