"""Start points of the emcee walkers: independent prior draws per ensemble, or distinct posterior draws.

`initial: prior` (default): each ensemble draws its walkers from the prior (prior transform of uniform
draws) with its own seed (`SeedSequence([seed, 3]).spawn(ensembles)`), keeping draws with a finite
log-posterior.

`initial: PATH` (a results folder or its `posterior.nc`): walkers are distinct rows of that run's
posterior draws with a finite log-posterior under this run, drawn without replacement. Rows are
deduplicated first: a nested-sampling posterior resampled to equal weights repeats points (13 529 draws
with 6 237 distinct ones in `results/kappa_nonzero`), and two walkers on one point stall the DE moves
(a zero difference vector) and break the snooker move (a zero-length direction).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from inference.errors import DarkportalError
from inference.samplers.problem import SamplingProblem, evaluate_log_posterior

log = logging.getLogger(__name__)


class StartPointError(DarkportalError, ValueError):
    """The walkers cannot be started as asked (too few finite or distinct points)."""


def initial_walkers(problem: SamplingProblem, nwalkers: int, ensembles: int, seed: int,
                    initial: str = "prior") -> np.ndarray:
    """(ensembles x nwalkers, d) start points, ensemble after ensemble."""
    if initial == "prior":
        seeds = np.random.SeedSequence([seed, 3]).spawn(ensembles)
        return np.concatenate([_prior_walkers(problem, nwalkers, np.random.default_rng(s)) for s in seeds])
    return posterior_walkers(problem, nwalkers * ensembles, Path(initial), np.random.default_rng([seed, 4]))


def _prior_walkers(problem: SamplingProblem, nwalkers: int, rng: np.random.Generator,
                   tries: int = 100) -> np.ndarray:
    found: list[np.ndarray] = []
    n, batch = 0, max(4 * nwalkers, 256)
    for _ in range(tries):
        x = np.asarray(problem.prior_transform(rng.random((batch, problem.ndim))), dtype=float)
        good = x[np.isfinite(evaluate_log_posterior(problem, x)[0])]
        found.append(good)
        n += len(good)
        if n >= nwalkers:
            return np.concatenate(found)[:nwalkers]
    raise StartPointError(f"emcee: only {n} of {tries * batch} prior draws have a finite posterior, fewer than "
                          f"the {nwalkers} walkers; widen the prior or use the scan sampler")


def read_posterior_draws(path: Path, names: tuple[str, ...]) -> np.ndarray:
    """The posterior draws (rows, in the order of `names`) of a results folder or posterior.nc file."""
    import xarray as xr

    file = path / "posterior.nc" if path.is_dir() else path
    if not file.exists():
        raise StartPointError(f"emcee setting initial: {file} does not exist; give a results folder of a "
                              "finished run (or its posterior.nc), or initial: prior")
    with xr.open_datatree(file, engine="h5netcdf") as dt:
        if "posterior" not in dt.children:
            raise StartPointError(f"emcee setting initial: {file} has no posterior group")
        ds = dt["posterior"].ds
        missing = [n for n in names if n not in ds]
        if missing:
            raise StartPointError(f"emcee setting initial: {file} has no draws of {', '.join(missing)}; start "
                                  "from a run with the same free parameters, or initial: prior")
        return np.column_stack([np.asarray(ds[n].values, dtype=float).reshape(-1) for n in names])


def posterior_walkers(problem: SamplingProblem, total: int, path: Path, rng: np.random.Generator) -> np.ndarray:
    """`total` distinct rows of the draws at `path` with a finite log-posterior here, in random order."""
    draws = read_posterior_draws(path, problem.names)
    distinct = np.unique(draws, axis=0)
    finite = distinct[np.isfinite(evaluate_log_posterior(problem, distinct)[0])]
    log.info("emcee: starting from %s: %d draws, %d distinct, %d with a finite posterior here", path, len(draws),
             len(distinct), len(finite))
    if len(finite) < total:
        raise StartPointError(f"emcee setting initial: {path} has only {len(finite)} distinct draws with a finite "
                              f"posterior, fewer than the {total} walkers; use fewer walkers or initial: prior")
    return finite[rng.choice(len(finite), size=total, replace=False)]
