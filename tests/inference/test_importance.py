"""Evidence accuracy of the importance refinement and of merged dynesty runs on analytic targets.

Targets with known evidence under a uniform prior box [-5, 5]^d (volume 10^d): a normalised correlated
Gaussian (Z = mass inside the box / 10^d, the mass 1 to < 2e-4 since every mean is >= 4 sigma inside each
face) and a two-component mixture of normalised Gaussians with weights 0.7 / 0.3 (the same Z; the
refinement must find both modes). Tolerances are multiples of each run's own quoted error, so the tests
check that the error is honest, not that the run is fast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal, norm

from inference.samplers import importance, run_sampler
from inference.samplers.problem import SamplingProblem


class Box:
    def __init__(self, d: int) -> None:
        self.lo, self.hi = np.full(d, -5.0), np.full(d, 5.0)

    def transform(self, u: np.ndarray) -> np.ndarray:
        return self.lo + u * (self.hi - self.lo)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        inside = np.all((x >= self.lo) & (x <= self.hi), axis=1)
        return np.where(inside, -np.sum(np.log(self.hi - self.lo)), -np.inf)


class GaussMix:
    """sum_k w_k N(x; m_k, C_k), normalised, as a log-likelihood (vectorised; dynesty calls it point by point,
    so the densities are written out rather than taken from scipy.stats, which costs ~0.1 ms per call)."""

    def __init__(self, weights: list[float], means: list[list[float]], covs: list[np.ndarray]) -> None:
        self.weights, self.means, self.covs = weights, means, covs
        self._inv = [np.linalg.inv(np.linalg.cholesky(c)) for c in covs]
        self._const = [np.log(w) - 0.5 * len(m) * np.log(2 * np.pi) - 0.5 * np.linalg.slogdet(c)[1]
                       for w, m, c in zip(weights, means, covs, strict=True)]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(x)
        parts = []
        for m, inv, const in zip(self.means, self._inv, self._const, strict=True):
            z = (x - np.asarray(m)) @ inv.T
            parts.append(const - 0.5 * np.einsum("ij,ij->i", z, z))
        return np.asarray(logsumexp(parts, axis=0))


D = 4
COV = 0.3 * np.eye(D) + 0.2  # correlated, sd ~0.7
ONE = GaussMix([1.0], [[0.5, -1.0, 0.0, 1.0]], [COV])
TWO = GaussMix([0.7, 0.3], [[-2.0, -2.0, 0.0, 0.0], [2.0, 1.5, 0.0, 0.0]], [0.2 * np.eye(D), 0.1 * np.eye(D)])
TRUE_LOGZ = -D * np.log(10.0)  # box volume 10^D, Gaussian mass inside ~1 (ln mass > -2e-4)


def problem(like: GaussMix) -> SamplingProblem:
    box = Box(D)
    return SamplingProblem(tuple("abcd"), box.transform, box.logpdf, like)


@pytest.mark.parametrize("like", [ONE, TWO], ids=["gaussian", "two-mode mixture"])
def test_refinement_recovers_the_evidence_and_its_error_is_honest(tmp_path: Path, like: GaussMix) -> None:
    settings = {"nlive": 150, "dlogz": 0.5, "refine": "importance", "refine_target_err": 0.01, "n_resample": 0}
    out = run_sampler("dynesty", problem(like), settings, tmp_path, seed=11)
    info = out.info["importance"]
    assert out.info["evidence_method"] == "nested sampling + importance refinement"
    assert out.logz_err is not None and 0 < out.logz_err < 0.02
    assert abs(out.logz - TRUE_LOGZ) < 4 * out.logz_err, (out.logz, out.logz_err, TRUE_LOGZ)
    # the spread of the 20 batches predicts the same error (within the ~16 % scatter of a 20-batch spread)
    assert 0.5 < info["batch_err"] / info["standard_error"] < 2.0, info
    assert info["stage_scale"] >= 1.0
    assert out.logz_err == pytest.approx(info["stage_scale"] * max(info["batch_err"], info["standard_error"]))
    assert out.logz_resampled == []  # nothing that is not an error of this ln Z is offered as one
    # the posterior: mode weights and means from the weighted draws
    share = float(np.sum(out.weights[out.samples[:, 0] < 0]))
    # P(a < 0): the normal's Phi(-0.5 / 0.5^0.5); for the mixture its first mode's weight (tails < 1e-5)
    expect = float(norm.cdf(-0.5 / np.sqrt(COV[0, 0]))) if like is ONE else 0.7
    assert abs(share - expect) < 0.02, (share, expect)
    if like is ONE:
        mean = np.average(out.samples, axis=0, weights=out.weights)
        np.testing.assert_allclose(mean, like.means[0], atol=0.05)


def test_refinement_errors_match_the_spread_over_seeds() -> None:
    """Five seeds of the refinement alone (from one rough posterior): the scatter of ln Z agrees with the
    quoted errors (chi^2 of 5 values below its 99.9 % point, 20.5) and the mean is unbiased."""
    prob = problem(ONE)
    rng = np.random.default_rng(0)
    # a deliberately poor starting posterior: off-centre, uncorrelated and five times too narrow
    u = np.clip(0.52 + 0.015 * rng.standard_normal((2000, D)), 0, 1)
    values, errors = [], []
    for seed in range(5):
        ref = importance.refine(prob, u, np.ones(len(u)), {"adapt": 3, "adapt_draws": 20_000,
                                                          "min_draws": 40_000, "max_draws": 200_000,
                                                          "target_err": 0.01}, np.random.default_rng(seed))
        values.append(ref.logz)
        errors.append(ref.logz_err)
    chi2 = float(np.sum(((np.asarray(values) - TRUE_LOGZ) / np.asarray(errors)) ** 2))
    assert chi2 < 20.5, (values, errors)


def test_quoted_error_matches_the_spread_over_40_seeds() -> None:
    """The quoted error is honest on average: over 40 seeds (each a new rough starting posterior, as a new
    nested run would give, and new draws) the spread of ln Z about the truth, divided by the RMS quoted
    error, is 1 within [0.7, 1.4]. With 40 values the ratio scatters by ~11 %, so the band is about 3 sigma
    wide on either side: an error too small or too large by a factor 1.5 fails (the 1.8x once reported for
    kappa = 0 would fail), and so does a biased mean (the spread is taken about the true ln Z). Measured: 0.89
    (1.03 without the stage scale factor, which errs on the safe side when the stages agree)."""
    prob = problem(TWO)
    centres = [np.array([0.3, 0.3, 0.5, 0.5]), np.array([0.7, 0.65, 0.5, 0.5])]  # TWO's modes in the unit cube
    values, errors = [], []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        u = np.concatenate([centres[0] + 0.06 * rng.standard_normal((300, D)),
                            centres[1] + 0.04 * rng.standard_normal((100, D))])
        ref = importance.refine(prob, np.clip(u, 0, 1), np.ones(len(u)),
                                {"components": 4, "adapt": 3, "adapt_draws": 5000, "min_draws": 20_000,
                                 "max_draws": 20_000, "n_eff": 1000}, rng)
        values.append(ref.logz)
        errors.append(ref.logz_err)
    dev = np.asarray(values) - TRUE_LOGZ
    ratio = float(np.sqrt(np.mean(dev**2)) / np.sqrt(np.mean(np.square(errors))))
    assert 0.7 < ratio < 1.4, (ratio, float(np.mean(dev)), float(np.sqrt(np.mean(np.square(errors)))))


def test_stage_scale_is_the_scale_factor_of_inconsistent_estimates() -> None:
    assert importance.stage_scale([(1.0, 0.1), (1.05, 0.1), (0.95, 0.1)]) == 1.0  # consistent: no scaling
    # two estimates 4 sigma apart (each +-0.1, difference 0.4): chi^2 = 8 on 1 degree of freedom
    assert importance.stage_scale([(0.0, 0.1), (0.4, 0.1)]) == pytest.approx(np.sqrt(8.0))
    assert importance.stage_scale([(0.0, 0.1), (np.inf, 0.1), (-np.inf, np.inf)]) == 1.0  # one finite left


def test_merged_runs_halve_the_variance(tmp_path: Path) -> None:
    """Two merged runs of 100 live points are one run of 200: the error shrinks by ~sqrt(2)."""
    settings = {"nlive": 100, "dlogz": 0.1, "refine": "none", "n_resample": 0}
    one = run_sampler("dynesty", problem(ONE), settings, tmp_path / "one", seed=5)
    two = run_sampler("dynesty", problem(ONE), {**settings, "nruns": 2}, tmp_path / "two", seed=5)
    assert two.info["nruns"] == 2 and (tmp_path / "two" / "dynesty_1.save").exists()
    assert one.logz_err is not None and two.logz_err is not None
    assert 0.55 < two.logz_err / one.logz_err < 0.85
    assert abs(two.logz - TRUE_LOGZ) < 3 * two.logz_err
    assert two.info["niter"] > 1.6 * one.info["niter"]


def test_thinning_keeps_heavy_points_and_the_weighted_mean() -> None:
    rng = np.random.default_rng(3)
    u = rng.random((50_000, 2))
    logw = np.log(u[:, 0] + 1e-3) * 3
    got = importance.Draws(u, logw, np.zeros(len(u)), len(u))
    tu, _, tw = importance.thin(got, 5000, rng)
    assert 4000 < len(tu) < 6000 and tw.sum() == pytest.approx(1.0)
    w = np.exp(logw - logw.max())
    assert np.average(tu[:, 0], weights=tw) == pytest.approx(np.average(u[:, 0], weights=w), abs=0.01)
    # a point whose weight is above 1/c (p = 1) is always kept
    heavy = importance.Draws(u, np.where(np.arange(len(u)) < 10, 20.0, logw), np.zeros(len(u)), len(u))
    hu, _, _ = importance.thin(heavy, 5000, rng)
    assert np.all(np.isin(u[:10, 0], hu[:, 0]))


def test_fast_density_equals_scipy() -> None:
    x = np.random.default_rng(1).normal(size=(5, D))
    want = np.log(0.7 * multivariate_normal.pdf(x, TWO.means[0], TWO.covs[0])
                  + 0.3 * multivariate_normal.pdf(x, TWO.means[1], TWO.covs[1]))
    np.testing.assert_allclose(TWO(x), want, rtol=1e-12)
