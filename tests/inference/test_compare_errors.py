"""The Monte Carlo error of compare-posteriors' quantile misses, on targets with a known answer (issue 14).

The error of F(x_q) at a tail quantile is set by the effective sample size of the indicator I(x <= x_q), not by
the bulk ESS (MCMC) or Kish's ESS (weighted samples). Each test draws many independent repetitions of a
sample whose exact CDF is known, and checks that miss / error spreads like a unit normal (standard deviation
near 1: an error too large gives a spread well below 1, one too small well above), and that the estimator the
module replaced does not (so the test can tell them apart).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.signal import lfilter
from scipy.stats import norm
from test_emcee_gate import Box, Mixture

from inference.analysis.posterior_compare import Draws, EssKind, box_fraction, quantile_agreement
from inference.samplers import run_sampler
from inference.samplers.mcmc_stats import bulk_ess
from inference.samplers.problem import SamplingProblem

Q = np.array([0.025, 0.16, 0.5, 0.84, 0.975])


def ar1_chains(rho: float, chains: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """(chains, draws) of a stationary AR(1) with unit marginal variance (the start drawn from N(0, 1))."""
    noise = rng.normal(size=(chains, draws)) * np.sqrt(1 - rho**2)
    noise[:, 0] = rng.normal(size=chains)
    return np.asarray(lfilter([1.0], [1.0, -rho], noise, axis=1))


def test_quantile_ess_is_arviz_quantile_ess_at_the_chains_own_quantile() -> None:
    import arviz as az

    x = ar1_chains(0.9, 8, 2000, np.random.default_rng(1))
    draws = Draws.mcmc(x.reshape(-1, 1), 8)
    for q in Q:
        xq = float(np.quantile(x, q))
        got = draws.indicator_ess(draws.samples <= xq)[0]
        assert got == pytest.approx(float(az.ess(x, method="quantile", prob=q)), rel=1e-12)


def test_mcmc_error_from_the_quantile_ess_spreads_as_a_unit_normal() -> None:
    """AR(1) chains (rho 0.95, 8 chains x 2500 draws), 200 repetitions, exact N(0, 1) CDF: miss / error with
    the quantile ESS has standard deviation ~1 at every q; with the bulk ESS the tails come out ~0.6 (the
    bulk ESS is smaller than the tail indicator's: the error it gives is too large)."""
    rng = np.random.default_rng(5)
    z_quantile, z_bulk = [], []
    for _ in range(200):
        x = ar1_chains(0.95, 8, 2500, rng)
        draws = Draws.mcmc(x.reshape(-1, 1), 8)
        xq = np.quantile(x, Q)
        miss = norm.cdf(xq) - Q
        ess = draws.indicator_ess(draws.samples <= xq[None, :])
        z_quantile.append(miss / np.sqrt(Q * (1 - Q) / ess))
        z_bulk.append(miss / np.sqrt(Q * (1 - Q) / bulk_ess(x)))
    sd_quantile, sd_bulk = np.std(z_quantile, axis=0), np.std(z_bulk, axis=0)
    assert np.all((sd_quantile > 0.8) & (sd_quantile < 1.25)), sd_quantile
    assert sd_bulk[0] < 0.75 and sd_bulk[-1] < 0.75, sd_bulk


@pytest.mark.slow
def test_walkers_that_share_a_component_need_the_ensemble_averaged_ess() -> None:
    """4 ensembles of 8 walkers, each walker sqrt(1/2) (its ensemble's AR(1) + its own AR(1)): marginally N(0, 1),
    but walkers of one ensemble are correlated, as emcee's are. 200 repetitions: with the ensembles as the
    independent units miss / error spreads as a unit normal; counting every walker as a chain makes the
    errors too small (spread ~1.7)."""
    rng = np.random.default_rng(13)
    z_ens: list[np.ndarray] = []
    z_walkers: list[np.ndarray] = []
    for _ in range(200):
        common = np.repeat(ar1_chains(0.9, 4, 2000, rng), 8, axis=0)
        x = np.sqrt(0.5) * (common + ar1_chains(0.9, 32, 2000, rng))
        xq = np.quantile(x, Q)
        miss = norm.cdf(xq) - Q
        for draws, z in ((Draws.mcmc(x.reshape(-1, 1), 32, ensembles=4), z_ens),
                         (Draws.mcmc(x.reshape(-1, 1), 32), z_walkers)):
            z.append(miss / np.sqrt(Q * (1 - Q) / draws.indicator_ess(draws.samples <= xq[None, :])))
    sd_ens, sd_walkers = np.std(z_ens, axis=0), np.std(z_walkers, axis=0)
    assert np.all((sd_ens > 0.8) & (sd_ens < 1.3)), sd_ens
    assert np.all(sd_walkers > 1.4), sd_walkers


def test_weighted_error_from_the_indicator_ess_spreads_as_a_unit_normal_kish_does_not() -> None:
    """Uniform draws weighted by a two-mode mixture density (as the prior-draw reference is made), 400 seeds:
    miss / error has standard deviation ~1 at every q with the delta-method ESS; with Kish's ESS ~0.5 in the
    tails (Kish's ESS is far smaller than the tail indicator's there)."""
    mix = Mixture([0.7, 0.3], [[-1.5, 0.0], [3.0, 1.0]], [1.0, 0.8])
    exact = np.array([brentq(lambda v, q=q: float(mix.cdf(v, 0)) - q, -20.0, 20.0) for q in Q])
    rng = np.random.default_rng(1)
    z, z_kish = [], []
    for _ in range(400):
        u = rng.uniform(-8.0, 8.0, size=(20_000, 2))
        draws = Draws.weighted(u, np.exp(mix(u)))
        inside = draws.samples[:, :1] <= exact[None, :]
        miss = draws.weights @ inside - Q
        z.append(miss / np.sqrt(Q * (1 - Q) / draws.indicator_ess(inside)))
        z_kish.append(miss / np.sqrt(Q * (1 - Q) / draws.kish))
    sd, sd_kish = np.std(z, axis=0), np.std(z_kish, axis=0)
    assert np.all((sd > 0.85) & (sd < 1.15)), sd
    assert sd_kish[0] < 0.7 and sd_kish[-1] < 0.7, sd_kish


def test_comparison_of_an_mcmc_and_a_weighted_run_of_the_same_target() -> None:
    """The whole comparison (both sides' errors): AR(1) chains against likelihood-weighted uniform draws, both
    N(0, 1), 150 repetitions: miss / error spreads as a unit normal; and B moved up by 0.1 sigma is seen
    (F_B(A's quantile) falls: miss / error ~ -2 on average)."""
    rng = np.random.default_rng(7)
    z, z_shift = [], []
    for _ in range(150):
        a = Draws.mcmc(ar1_chains(0.9, 8, 1500, rng).reshape(-1, 1), 8)
        u = rng.uniform(-6.0, 6.0, size=(30_000, 1))
        b = Draws.weighted(u, norm.pdf(u[:, 0]))
        row = quantile_agreement(("x",), a, b)[0]
        assert row.ess_kind_a is EssKind.CHAINS and row.ess_kind_b is EssKind.WEIGHTED
        z.append(row.z)
        z_shift.append(quantile_agreement(("x",), a, Draws.weighted(u + 0.1, b.weights))[0].z)
    sd = np.std(z, axis=0)
    assert np.all((sd > 0.75) & (sd < 1.3)), sd
    assert abs(np.mean(z)) < 0.15 and np.mean(z_shift) < -1.5, (np.mean(z), np.mean(z_shift))


def test_box_mass_error_uses_the_indicator_ess() -> None:
    """The mass of x > 1 of AR(1) chains: its stated error matches the spread over 200 repetitions."""
    rng = np.random.default_rng(11)
    z = []
    for _ in range(200):
        draws = Draws.mcmc(ar1_chains(0.95, 8, 2000, rng).reshape(-1, 1), 8)
        p, err, ess = box_fraction(("x",), draws, {"x": (1.0, np.inf)})
        assert 0 < ess < len(draws.samples)
        z.append((p - norm.sf(1.0)) / err)
    assert 0.8 < np.std(z) < 1.25, np.std(z)


@pytest.mark.slow
def test_emcee_runs_of_a_mixture_give_misses_within_their_errors(tmp_path: Path) -> None:
    """24 emcee runs (the default move mixture, 4 ensembles x 16 walkers, stopped by the gate) of a 2-D
    two-mode mixture with exact marginal CDFs: miss / error over the 240 comparisons (the ensemble-averaged
    indicator's ESS, exact CDF on the other side) spreads as a unit normal. (Measured over 60 runs: standard
    deviation 1.015; 1.03 with every walker counted as a chain.)"""
    mix = Mixture([0.7, 0.3], [[-1.5, 0.0], [3.0, 1.0]], [1.0, 0.8])
    box = Box(-10.0, 10.0, 2)
    settings = {"nwalkers": 16, "thin_by": 2, "check_every": 200, "max_steps": 20000, "progress_every": 600.0}
    z = []
    for seed in range(24):
        out = run_sampler("emcee", SamplingProblem(("x", "y"), box.transform, box.logpdf, mix), settings,
                          tmp_path / str(seed), seed=seed)
        assert out.converged, out.stop.text
        draws = Draws.mcmc(out.samples, out.chains, out.info["ensembles"])
        assert draws.kind is EssKind.ENSEMBLES
        for j in range(2):
            xq = np.quantile(out.samples[:, j], Q)
            ess = draws.indicator_ess(draws.samples[:, j, None] <= xq[None, :])
            z.append((mix.cdf(xq, j) - Q) / np.sqrt(Q * (1 - Q) / ess))
    sd = float(np.std(z))
    assert 0.8 < sd < 1.25 and np.max(np.abs(z)) < 4.5, (sd, np.max(np.abs(z)))
