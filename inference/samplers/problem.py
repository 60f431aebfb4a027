"""The record every sampler adapter consumes, and picklable per-point / posterior wrappers around it.

A `SamplingProblem` is built by the run-file layer from a prior set and a joint likelihood; the samplers
know nothing else about the physics (README.md, Layout: only inference imports samplers).

Pickling: process and MPI pools send the problem's callables to worker processes, and dynesty pickles
them into its checkpoint file.  Build a problem from module-level functions or from instances of
module-level classes (not lambdas or closures) so that `pickle.dumps(problem)` works.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from physics.errors import NonFiniteLikelihoodError  # the one class (likelihoods.errors re-exports it)

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class SampleExtras:
    """Per-sample extras of a batch of points, each array with one entry per point.

    term_logl: term name -> that term's log-likelihood (written to posterior.nc's `log_likelihood` group).
    predictions: observable -> its SM + NP prediction, NaN outside the physics domain (`posterior_predictive`).
    """

    term_logl: Mapping[str, FloatArray] = field(default_factory=dict)
    predictions: Mapping[str, FloatArray] = field(default_factory=dict)

    def __len__(self) -> int:
        """The number of points (0 without any array)."""
        arrays = [*self.term_logl.values(), *self.predictions.values()]
        return len(arrays[0]) if arrays else 0

    @classmethod
    def concatenate(cls, parts: Iterable[SampleExtras]) -> SampleExtras:
        """The extras of consecutive batches joined row-wise (each part has the same names)."""
        parts = list(parts)
        if not parts:
            return cls()

        def join(pick: Callable[[SampleExtras], Mapping[str, FloatArray]]) -> dict[str, FloatArray]:
            return {k: np.concatenate([np.asarray(pick(p)[k], dtype=float) for p in parts]) for k in pick(parts[0])}

        return cls(join(lambda p: p.term_logl), join(lambda p: p.predictions))


@dataclass(frozen=True)
class SamplingProblem:
    """What a sampler needs: names, prior transform, log-prior, log-likelihood and optional extras.

    Every callable is vectorised over rows: (N, d) in, (N,) or (N, d) out.  `log_likelihood` may return
    -inf (outside the allowed region) but never NaN or +inf.  `blobs` returns the per-sample extras
    (`SampleExtras`: per-term log-likelihoods and predictions).
    """

    names: tuple[str, ...]
    prior_transform: Callable[[FloatArray], FloatArray]
    log_prior: Callable[[FloatArray], FloatArray]
    log_likelihood: Callable[[FloatArray], FloatArray]
    blobs: Callable[[FloatArray], SampleExtras] | None = None
    # optional: log L at one point (d,) -> float, never NaN or +inf (the per-point path of dynesty)
    point_log_likelihood: Callable[[FloatArray], float] | None = None
    # optional: prior transform of one point (d,) -> (d,) (the per-point path of dynesty)
    point_prior_transform: Callable[[FloatArray], FloatArray] | None = None
    # optional, vectorised like log_likelihood: a smooth version of it whose tempered targets
    # prior x exp(beta * pilot) approach prior x L as beta grows (cuts mode: the cuts softened); the scan
    # sampler's pilot uses it to find a small allowed region, never for an estimate
    pilot_log_likelihood: Callable[[FloatArray], FloatArray] | None = None

    @property
    def ndim(self) -> int:
        return len(self.names)


def _check_values(values: FloatArray, x: FloatArray, names: tuple[str, ...], what: str) -> FloatArray:
    """Raise `NonFiniteLikelihoodError` naming the first point whose value is NaN or +inf."""
    bad = np.isnan(values) | (values == np.inf)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise NonFiniteLikelihoodError(what, float(values[i]),
                                       {n: float(v) for n, v in zip(names, x[i], strict=True)})
    return values


def evaluate_log_likelihood(problem: SamplingProblem, x: FloatArray) -> FloatArray:
    """Vectorised log-likelihood of the rows of `x`, checked for NaN / +inf."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    values = np.asarray(problem.log_likelihood(x), dtype=float).reshape(len(x))
    return _check_values(values, x, problem.names, "log_likelihood")


def evaluate_pilot_log_likelihood(problem: SamplingProblem, x: FloatArray) -> FloatArray:
    """Vectorised `pilot_log_likelihood` of the rows of `x` (inside the prior support), checked like the
    log-likelihood."""
    if problem.pilot_log_likelihood is None:
        raise ValueError("this problem has no pilot_log_likelihood")
    x = np.atleast_2d(np.asarray(x, dtype=float))
    values = np.asarray(problem.pilot_log_likelihood(x), dtype=float).reshape(len(x))
    return _check_values(values, x, problem.names, "pilot_log_likelihood")


def evaluate_log_posterior(problem: SamplingProblem, x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(log-prior + log-likelihood, log-likelihood) of the rows of `x`.

    The likelihood is evaluated only where the prior is non-zero, so the physics never sees a point
    outside the prior box; elsewhere both values are -inf.
    """
    x = np.atleast_2d(np.asarray(x, dtype=float))
    lp = _check_values(np.asarray(problem.log_prior(x), dtype=float).reshape(len(x)), x,
                       problem.names, "log_prior")
    logl = np.full(len(x), -np.inf)
    inside = np.isfinite(lp)
    if np.any(inside):
        logl[inside] = evaluate_log_likelihood(problem, x[inside])
    return lp + logl, logl


class PointLogLikelihood:
    """log L at one point (d,) -> float, for dynesty, which evaluates points one at a time."""

    _point: Callable[[FloatArray], float] | None = None  # also for instances pickled before it existed

    def __init__(self, problem: SamplingProblem) -> None:
        self.problem = problem
        self._point = problem.point_log_likelihood

    def __call__(self, x: FloatArray) -> float:
        if self._point is not None:
            return self._point(x)
        return float(evaluate_log_likelihood(self.problem, np.asarray(x)[None, :])[0])


class PointPriorTransform:
    """Unit cube (d,) -> parameters (d,), for dynesty."""

    _point: Callable[[FloatArray], FloatArray] | None = None  # also for instances pickled before it existed

    def __init__(self, problem: SamplingProblem) -> None:
        self.problem = problem
        self._point = problem.point_prior_transform

    def __call__(self, u: FloatArray) -> FloatArray:
        if self._point is not None:
            return self._point(u)
        return np.asarray(self.problem.prior_transform(np.asarray(u)[None, :]), dtype=float)[0]


class VectorLogPosterior:
    """(N, d) -> (N,) log-posterior, for emcee with `vectorize=True` and for pool chunks."""

    def __init__(self, problem: SamplingProblem) -> None:
        self.problem = problem

    def __call__(self, x: FloatArray) -> FloatArray:
        return evaluate_log_posterior(self.problem, x)[0]


class VectorLogLikelihood:
    """(N, d) -> (N,) checked log-likelihood, for pool chunks in the scan sampler."""

    def __init__(self, problem: SamplingProblem) -> None:
        self.problem = problem

    def __call__(self, x: FloatArray) -> FloatArray:
        return evaluate_log_likelihood(self.problem, x)
