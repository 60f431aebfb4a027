"""The gate's vectorised R-hat and bulk ESS against ArviZ's (an independent implementation of the same
estimators, Vehtari et al. 2021), on chains with known structure."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

from inference.samplers.mcmc_stats import bulk_ess, split_rhat


def ar1(rho: float, chains: int, draws: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.empty((chains, draws))
    x[:, 0] = rng.normal(size=chains)
    noise = rng.normal(size=(chains, draws)) * np.sqrt(1 - rho**2)
    for t in range(1, draws):
        x[:, t] = rho * x[:, t - 1] + noise[:, t]
    return x


@pytest.mark.parametrize(("rho", "chains", "draws", "shift"),
                         [(0.0, 4, 1000, 0.0), (0.9, 8, 2001, 0.0), (0.5, 16, 500, 0.0), (0.7, 4, 800, 0.3)])
def test_rhat_and_bulk_ess_equal_arviz(rho: float, chains: int, draws: int, shift: float) -> None:
    x = ar1(rho, chains, draws, seed=int(100 * rho) + chains)
    x[0] += shift  # one chain off: R-hat must grow the same way in both
    assert split_rhat(x) == pytest.approx(float(az.rhat(x)), rel=1e-6)
    assert bulk_ess(x) == pytest.approx(float(az.ess(x, method="bulk")), rel=1e-6)


def test_bulk_ess_of_ar1_chains_matches_the_formula() -> None:
    """AR(1): tau = (1 + rho) / (1 - rho); 16 chains x 4000 draws at rho = 0.8 -> ESS = 64000 / 9."""
    ess = bulk_ess(ar1(0.8, 16, 4000, seed=5))
    assert ess == pytest.approx(64000 / 9, rel=0.1)
