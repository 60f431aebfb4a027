"""Islands of a finished run's posterior: separate regions of the weighted samples, each with its mass,
its best point and the observables predicted there.

Method (docs/analysis.md has the reasoning and the references):

1. **Support.** Samples with zero weight or log L = -inf are left out; of the rest, the lightest ones that
   together hold ``tail`` (default 1e-3) of the mass are set aside (nested sampling's early dead points fill
   the whole prior and would join everything). They are given to an island at the end, so the island
   weights still add up to one.
2. **Coordinates.** Each parameter goes through its prior's CDF (the sampler's unit cube, so a log-uniform
   prior is searched in its logarithm), then is standardised by the weighted mean and standard deviation of
   the support: all parameters count alike whatever their units. A rank transform was not used: it squeezes
   an empty gap between two islands to nothing.
3. **Density-based clustering** (DBSCAN, Ester et al. 1996, on the k-nearest-neighbour graph): k = 2 d
   neighbours (the rule of Sander et al. 1998), and the distance cut ``eps`` is read off the data as a
   quantile (default 0.9) of every point's distance to its k-th neighbour. Points whose k-th neighbour is
   within ``eps`` are core points; core points joined by a k-NN edge not longer than ``eps`` belong to the
   same island (connected components, single linkage). A component of fewer than k core points is noise.
   Every other point (noise, non-core, the set-aside tail) joins the island of its nearest core point. Two
   clusters that touch are therefore one island: only a gap wider than the local sample spacing separates.
   The clustering reads positions only; the weights enter the standardisation and each island's mass.
4. **Per island**: weight = sum of its normalised weights; its error from a bootstrap over the samples
   (labels held fixed, ``n_boot`` resamples), beside the binomial error sqrt(p (1 - p) / ESS) from Kish's
   effective sample size. Neither includes nested sampling's own error on the weights (the shrinkage of
   the prior volume), which can move a small island's weight by a factor ~2 (README, Savage-Dickey
   paragraph). The best point is the sample of highest log L, optionally polished by the fit's bounded
   simplex (``inference.analysis.fit.minimise_chi2``) and kept only if the polished point still belongs to
   the island (its nearest core point is the island's); the predicted observables there are those of
   ``darkportal predict`` with the run's likelihood.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from inference.errors import DarkportalError
from inference.output.summary import kish_ess, weighted_quantiles

FloatArray = np.ndarray
IntArray = np.ndarray

#: mass of the lightest samples left out of the clustering (assigned to the nearest island afterwards)
TAIL = 1e-3
#: quantile of the k-th-neighbour distances that sets the distance cut eps
EPS_QUANTILE = 0.9
#: bootstrap resamples for the error of each island's weight
N_BOOT = 200


class IslandsError(DarkportalError, ValueError):
    """The samples cannot be split into islands (too few with weight, or a bad argument)."""

    def __init__(self, message: str, n_samples: int | None = None) -> None:
        super().__init__(message)
        self.n_samples = n_samples


@dataclass(frozen=True, eq=False)
class Clustering:
    """The islands of a set of points: one label per sample (0 = heaviest island) and how they were found.
    (Compared by identity: it holds arrays and a k-d tree.)"""

    labels: IntArray          # (n,) island of every sample, -1 for the samples without weight or finite log L
    weights: FloatArray       # (n_islands,) sum of the normalised weights, heaviest first
    weight_errs: FloatArray   # (n_islands,) bootstrap standard deviation
    weight_errs_kish: FloatArray  # (n_islands,) sqrt(p (1 - p) / ESS_Kish)
    core: np.ndarray          # (n,) bool: core points
    k: int
    eps: float
    n_clustered: int          # samples clustered (the support less the set-aside tail)
    n_boot: int
    shift: FloatArray         # the standardisation: z = (coords - shift) / scale
    scale: FloatArray
    core_tree: cKDTree        # the core points (standardised) and their islands, to place other points
    core_labels: IntArray

    @property
    def n_islands(self) -> int:
        return len(self.weights)

    def assign(self, coords: FloatArray) -> IntArray:
        """Island of each row of ``coords`` (the coordinates given to find_islands): its nearest core point's."""
        z = (np.atleast_2d(np.asarray(coords, dtype=float)) - self.shift) / self.scale
        return np.asarray(self.core_labels[self.core_tree.query(z, k=1)[1]])


@dataclass(frozen=True)
class ParamRange:
    """One parameter inside one island: weighted 2.5 %, 50 % and 97.5 % quantiles (paper units)."""

    name: str
    q025: float
    median: float
    q975: float


@dataclass(frozen=True)
class IslandObservable:
    """One observable at an island's best point, as `darkportal predict` prints it (SM, NP, total, unit)."""

    name: str
    sm: float | None
    np: float | None
    total: float | None
    unit: str


@dataclass(frozen=True)
class Island:
    """One island of a run's posterior (everything islands.json holds about it)."""

    index: int
    weight: float
    weight_err: float            # bootstrap over samples
    weight_err_kish: float       # binomial, from Kish's ESS of the whole run
    n_samples: int
    ess: float                   # Kish's ESS of the island's own weights
    ranges: tuple[ParamRange, ...]
    best_sample: dict[str, float]    # all eight parameters, paper units
    best_sample_loglike: float
    best: dict[str, float]           # the polished point (= best_sample when not polished or not improved)
    best_loglike: float
    polished: bool
    observables: tuple[IslandObservable, ...] = ()

    @property
    def chi2(self) -> float:
        return -2.0 * self.best_loglike

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "weight": self.weight, "weight_err_bootstrap": self.weight_err,
                "weight_err_kish": self.weight_err_kish, "n_samples": self.n_samples, "ess_kish": self.ess,
                "ranges": [{"parameter": r.name, "q2.5": r.q025, "median": r.median, "q97.5": r.q975}
                           for r in self.ranges],
                "best_sample": {"parameters": self.best_sample, "loglike": self.best_sample_loglike},
                "best_point": {"parameters": self.best, "loglike": self.best_loglike, "chi2": self.chi2,
                               "polished": self.polished},
                "observables": [{"name": o.name, "sm": o.sm, "np": o.np, "total": o.total, "unit": o.unit}
                                for o in self.observables]}


def standardisation(u: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(shift, scale) per column: the weighted mean and standard deviation (scale 1 for a column without
    spread, which then contributes nothing to distances)."""
    w = np.asarray(w, dtype=float) / np.sum(w)
    mean = w @ u
    sd = np.sqrt(w @ (u - mean) ** 2)
    return mean, np.where(sd > 0, sd, 1.0)


def _support(w: FloatArray, logl: FloatArray, tail: float) -> tuple[np.ndarray, np.ndarray]:
    """(usable, clustered) masks: usable = positive weight and finite log L; clustered = usable less the
    lightest samples holding ``tail`` of the mass."""
    usable = (w > 0) & np.isfinite(logl) & np.isfinite(w)
    clustered = usable.copy()
    if tail > 0:
        idx = np.flatnonzero(usable)
        order = idx[np.argsort(w[idx], kind="stable")]
        light = np.cumsum(w[order]) / np.sum(w[idx]) <= tail
        clustered[order[light]] = False
    return usable, clustered


def find_islands(coords: FloatArray, weights: FloatArray, logl: FloatArray | None = None, *, tail: float = TAIL,
                 eps_quantile: float = EPS_QUANTILE, k: int | None = None, n_boot: int = N_BOOT,
                 rng: np.random.Generator | None = None) -> Clustering:
    """Cluster weighted samples into islands (method: the module docstring, steps 1-4 less the best points).

    coords: (n, d) coordinates in which a unit step means the same in every parameter up to a scale (the
    prior's unit cube); they are standardised here. logl: samples with log L = -inf are left out.
    """
    x = np.atleast_2d(np.asarray(coords, dtype=float))
    w = np.asarray(weights, dtype=float)
    n, d = x.shape
    ll = np.zeros(n) if logl is None else np.asarray(logl, dtype=float)
    if w.shape != (n,) or ll.shape != (n,):
        raise IslandsError(f"weights and log L need one value per sample ({n}), got {w.shape} and {ll.shape}")
    if not 0.0 <= tail < 0.5 or not 0.0 < eps_quantile <= 1.0:
        raise IslandsError(f"tail must be in [0, 0.5) and eps_quantile in (0, 1], got {tail} and {eps_quantile}")
    usable, clustered = _support(w, ll, tail)
    k = int(k if k is not None else max(4, 2 * d))
    if int(clustered.sum()) < 2 * (k + 1):
        raise IslandsError(f"only {int(clustered.sum())} samples carry the posterior mass; at least {2 * (k + 1)} "
                           f"are needed to find islands with {k} neighbours", int(clustered.sum()))
    shift, scale = standardisation(x[usable], w[usable])
    z = (x - shift) / scale
    zc = z[clustered]
    tree = cKDTree(zc)
    dist, nbr = tree.query(zc, k=k + 1)  # the first neighbour is the point itself
    r_k = dist[:, -1]
    eps = float(np.quantile(r_k, eps_quantile))
    core = r_k <= eps
    m = len(zc)
    rows = np.repeat(np.arange(m), k)
    cols, lens = nbr[:, 1:].ravel(), dist[:, 1:].ravel()
    keep = core[rows] & core[cols] & (lens <= eps)
    graph = coo_matrix((np.ones(int(keep.sum())), (rows[keep], cols[keep])), shape=(m, m))
    _, comp = connected_components(graph, directed=False)
    sizes = np.bincount(comp[core], minlength=comp.max() + 1)
    big = np.flatnonzero(sizes >= k)
    if len(big) == 0:  # no component is large enough: all of it is one island
        big = np.array([int(np.argmax(sizes))])
    core_idx = np.flatnonzero(core & np.isin(comp, big))
    core_tree = cKDTree(zc[core_idx])
    core_comp = comp[core_idx]
    label_raw = np.full(n, -1)
    label_raw[usable] = core_comp[core_tree.query(z[usable], k=1)[1]]
    label_raw[np.flatnonzero(clustered)[core_idx]] = core_comp  # a core point is in its own component
    # islands ordered by weight, heaviest first
    w_norm = np.where(usable, w, 0.0) / np.sum(w[usable])
    masses = {int(c): float(w_norm[label_raw == c].sum()) for c in big}
    order = sorted(masses, key=lambda c: -masses[c])
    relabel = np.full(int(comp.max()) + 2, -1)  # component -> island; the last entry maps -1 to -1
    relabel[np.asarray(order, dtype=int)] = np.arange(len(order))
    labels, core_labels = relabel[label_raw], relabel[core_comp]
    n_isl = len(order)
    p = np.array([masses[c] for c in order])
    ess = kish_ess(w_norm[usable]) if p.size else 0.0
    err_kish = np.sqrt(np.clip(p * (1.0 - p), 0.0, None) / max(ess, 1.0))
    err_boot = bootstrap_weights(w_norm[usable], labels[usable], n_isl, n_boot,
                                 rng if rng is not None else np.random.default_rng(0))
    core_all = np.zeros(n, dtype=bool)
    core_all[np.flatnonzero(clustered)[core_idx]] = True
    return Clustering(labels, p, err_boot, err_kish, core_all, k, eps, m, n_boot, shift, scale, core_tree,
                      core_labels)


def bootstrap_weights(w: FloatArray, labels: IntArray, n_islands: int, n_boot: int,
                      rng: np.random.Generator) -> FloatArray:
    """Standard deviation of each island's share of the weight over ``n_boot`` resamples of the samples
    (drawn with replacement, same number, labels fixed)."""
    if n_boot < 2:
        return np.full(n_islands, np.nan)
    n = len(w)
    shares = np.empty((n_boot, n_islands))
    for b in range(n_boot):
        idx = rng.integers(0, n, n)
        wb = w[idx]
        shares[b] = np.bincount(labels[idx], weights=wb, minlength=n_islands) / wb.sum()
    return np.asarray(shares.std(axis=0, ddof=1))


def param_ranges(samples: FloatArray, w: FloatArray, names: Sequence[str]) -> tuple[ParamRange, ...]:
    """Weighted 2.5 / 50 / 97.5 % quantiles of each column."""
    return tuple(ParamRange(n, *(float(v) for v in weighted_quantiles(samples[:, j], w, (0.025, 0.5, 0.975))))
                 for j, n in enumerate(names))


@dataclass(frozen=True)
class IslandsResult:
    """Everything `darkportal islands` writes: the islands of one run and how they were found."""

    run: str
    source: str
    names: tuple[str, ...]
    islands: tuple[Island, ...]
    k: int
    eps: float
    eps_quantile: float
    tail: float
    n_samples: int
    n_clustered: int
    n_boot: int
    ess: float
    data_set: str = ""
    likelihood_mode: str = ""
    theory_options: tuple[tuple[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run, "source": self.source, "data_set": self.data_set,
                "likelihood_mode": self.likelihood_mode, "theory_options": dict(self.theory_options),
                "free_parameters": list(self.names),
                "n_islands": len(self.islands), "islands": [i.to_dict() for i in self.islands],
                "method": {"coordinates": "prior CDF (unit cube), standardised by the weighted mean and sd",
                           "clustering": "DBSCAN on the k-nearest-neighbour graph: core points have their k-th "
                                         "neighbour within eps; core points linked by k-NN edges <= eps form an "
                                         "island; every other sample joins its nearest core point's island",
                           "k": self.k, "eps": self.eps, "eps_quantile": self.eps_quantile,
                           "tail_set_aside": self.tail, "samples": self.n_samples,
                           "samples_clustered": self.n_clustered, "ess_kish": self.ess,
                           "weight_error": f"bootstrap over samples ({self.n_boot} resamples, labels fixed); "
                                           "weight_err_kish = sqrt(p (1 - p) / ESS_Kish)",
                           "best_point": "highest-log L sample of the island, polished by a bounded simplex "
                                         "(inference.analysis.fit) when the result stays in the island"}}


def run_islands(result_dir: Any, *, polish: bool = True, maxfev: int = 3000, tail: float = TAIL,
                eps_quantile: float = EPS_QUANTILE, n_boot: int = N_BOOT, seed: int = 0) -> IslandsResult:
    """The islands of the finished run in ``result_dir`` (method: the module docstring)."""
    from pathlib import Path

    from inference.analysis.fit import Fitter, minimise_chi2
    from inference.cli.predict import evaluate_point
    from inference.config.runfile import parse_run_config
    from inference.output.results import read_results
    from inference.samplers.model import RunModel

    result_dir = Path(result_dir)
    res = read_results(result_dir)
    config = parse_run_config(res.config, result_dir / "run.yaml")
    model = RunModel(config)
    names = model.names
    ws = res.posterior["weighted_samples"].ds
    samples = np.column_stack([np.asarray(ws[n], dtype=float) for n in names])
    logl, w = np.asarray(ws["logl"], dtype=float), np.asarray(ws["weights"], dtype=float)
    unit = np.asarray(config.priors.cdf(samples), dtype=float)
    cl = find_islands(unit, w, logl, tail=tail, eps_quantile=eps_quantile, n_boot=n_boot,
                      rng=np.random.default_rng(seed))
    fitter = Fitter(model)
    gaussian = not (config.likelihood.mode == "cuts" and not config.likelihood.softening)
    islands = []
    for i in range(cl.n_islands):
        members = np.flatnonzero(cl.labels == i)
        wi = w[members]
        j = members[int(np.argmax(logl[members]))]
        best_x, best_ll, polished = samples[j], float(logl[j]), False
        if polish and gaussian:  # a cuts likelihood is flat: nothing to polish
            u, chi2, _, _ = minimise_chi2(fitter.chi2_u, unit[j], maxfev=maxfev)
            x = model.point_prior_transform(np.asarray(u, dtype=np.float64))
            inside = int(cl.assign(np.asarray(config.priors.cdf(x[None, :]), dtype=float))[0]) == i
            if inside and -0.5 * chi2 > best_ll:
                best_x, best_ll, polished = x, -0.5 * chi2, True
        point = fitter.full_params(best_x)
        pred = evaluate_point(point, config.likelihood.data, config.theory.scenario, config.likelihood.mode,
                              likelihood=model.likelihood)
        observables = tuple(IslandObservable(name, o["sm"], o["np"], o["total"], o["unit"])
                            for name, o in pred["observables"].items())
        islands.append(Island(i, float(cl.weights[i]), float(cl.weight_errs[i]), float(cl.weight_errs_kish[i]),
                              len(members), kish_ess(wi), param_ranges(samples[members], wi, names),
                              fitter.full_params(samples[j]), float(logl[j]), point, best_ll, polished,
                              observables))
    usable = (w > 0) & np.isfinite(logl)
    return IslandsResult(config.name, str(result_dir), tuple(names), tuple(islands), cl.k, cl.eps, eps_quantile,
                         tail, len(w), cl.n_clustered, cl.n_boot, kish_ess(w[usable]), config.likelihood.data,
                         config.likelihood.mode, tuple(config.theory.theory_options().as_dict().items()))
