"""``validate``'s last check: the likelihood is finite (or -inf) wherever the prior puts mass.

The schema checks bound each parameter by its physical meaning; this check finds what they cannot
foresee: a value at which the physics overflows (such as eta_t = 1e200, whose rates are inf and whose
ratios of them NaN). It evaluates the run's own likelihood at prior draws and at the corners of the prior
box (its most extreme points). A NaN or +inf is a :class:`RunConfigError` naming the parameter whose value
causes it (found by moving one parameter at a time to an ordinary value) and its key in the run file.
"""

from __future__ import annotations

import itertools
import warnings
from typing import TYPE_CHECKING

import numpy as np

from inference.config.checks import Source
from priors import default_prior

if TYPE_CHECKING:
    from inference.config.runfile import RunConfig

MAX_CORNERS = 256  # 2^8: every corner of an eight-parameter box


def box_corners(config: RunConfig, tail: float = 1e-6) -> np.ndarray:
    """The corners of the prior box (free parameters at the ends of their support; quantiles ``tail`` and
    ``1 - tail`` for unbounded priors), at most MAX_CORNERS of them."""
    ends = []
    for name in config.priors.names:
        prior = config.priors[name]
        lo, hi = prior.support
        if not np.isfinite(lo):
            lo = float(prior.ppf(np.array([tail]))[0])
        if not np.isfinite(hi):
            hi = float(prior.ppf(np.array([1.0 - tail]))[0])
        ends.append((lo, hi))
    corners = itertools.islice(itertools.product(*ends), MAX_CORNERS)
    return np.array(list(corners), dtype=float).reshape(-1, len(ends))


def _beyond_paper_range(name: str, value: float) -> float:
    """How far ``value`` lies outside the paper's scan range of ``name``, in widths of that range."""
    lo, hi = default_prior(name).support
    return float(max(lo - value, value - hi, 0.0) / (hi - lo))


def check_finite_likelihood(config: RunConfig, src: Source, draws: np.ndarray) -> None:
    """Raise a RunConfigError if the likelihood is NaN or +inf at a prior draw or a corner of the box."""
    from likelihoods import JointLikelihood
    from physics.params import PARAM_NAMES, ModelParams

    lik = config.likelihood
    joint = JointLikelihood.from_config(lik.data, lik.mode, softening=lik.softening or 0.0, overrides=lik.terms,
                                        options=config.theory.theory_options())
    full = config.priors.to_dict(np.vstack([draws, box_corners(config)]))

    def failure(point: dict[str, np.ndarray]) -> str | None:
        """None if the likelihood is finite or -inf at every row, else what went wrong (first row)."""
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                values = np.asarray(joint.evaluate(ModelParams.from_paper_units(point))[0], dtype=float)
            except (ArithmeticError, ValueError, OverflowError) as exc:
                return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        bad = np.isnan(values) | (values == np.inf)
        return f"log L = {values[np.flatnonzero(bad)[0]]}" if bad.any() else None

    problem = failure(full)
    if problem is None:
        return
    n = len(next(iter(full.values())))
    rows = [{k: v[i:i + 1] for k, v in full.items()} for i in range(n)]
    bad_row = next((r for r in rows if failure(r) is not None), rows[0])
    ordinary = {name: np.array([float(default_prior(name).ppf(np.array([0.5]))[0])]) for name in PARAM_NAMES}
    alone = [n for n in PARAM_NAMES if failure({**ordinary, n: bad_row[n]}) is not None]
    cures = [n for n in PARAM_NAMES if failure({**bad_row, n: ordinary[n]}) is None]
    for name in sorted(alone or cures, key=lambda n: -_beyond_paper_range(n, float(bad_row[n][0])))[:1]:
        why = failure({**ordinary, name: bad_row[name]}) or failure(bad_row)
        value = float(bad_row[name][0])
        prior = config.priors[name]
        if prior.is_fixed:
            key: tuple[str, ...] = ("parameters", name, "fixed")
        else:
            lo, hi = prior.support
            key = ("parameters", name, "max" if abs(hi) >= abs(lo) else "min")  # overflow: the larger magnitude
        lo_p, hi_p = default_prior(name).support
        src.fail(key, f"the likelihood cannot be computed at {name} = {value:g} ({why}): the physics overflows "
                 "there", f"Keep {name} to physically sensible values, such as the paper's range [{lo_p:g}, {hi_p:g}]")
    where = ", ".join(f"{k}={float(v[0]):.6g}" for k, v in bad_row.items())
    src.fail(("parameters",), f"the likelihood cannot be computed at {where} ({problem})",
             "Narrow the prior ranges towards the paper's")
