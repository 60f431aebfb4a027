"""Importance reweighting (inference.analysis.reweight) against analytic evidences and against reruns.

Analytic target: d = 2, uniform prior on [-5, 5]^2, log L = log N(x; 0, 1) + log N(y; 0.5, 0.8^2) plus a weak
third term -((x - 1) / 3)^2 / 2. Variants: (a) the prior of x narrowed to [-1, 5]: Z' = mass of N(0, 1) in
[-1, 5] x mass of N(0.5, 0.8^2) in [-5, 5] / (6 x 10); (b) the weak term dropped: Z' = masses in the box / 100.
Each is checked over three seeds against the exact value and, for one seed, against a rerun of dynesty on
the changed problem, within the combined errors (3 sigma).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm
from test_samplers import Box  # the uniform-box prior of the sampler tests

from inference.analysis.reweight import LowESSError, NotReweightableError, importance_reweight, kish_ess
from inference.samplers import SamplerOutput, run_sampler
from inference.samplers.problem import SamplingProblem


class Like:
    def __init__(self, weak_term: bool) -> None:
        self.weak_term = weak_term

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(x)
        out = -0.5 * x[:, 0] ** 2 - 0.5 * ((x[:, 1] - 0.5) / 0.8) ** 2 - np.log(2.0 * np.pi * 0.8)  # two normal pdfs
        return out - 0.5 * ((x[:, 0] - 1.0) / 3.0) ** 2 if self.weak_term else out


WIDE, NARROW = Box([-5.0, -5.0], [5.0, 5.0]), Box([-1.0, -5.0], [5.0, 5.0])
MASS_Y = norm.cdf(5.0, 0.5, 0.8) - norm.cdf(-5.0, 0.5, 0.8)
LOGZ_NARROW = float(np.log((norm.cdf(5.0) - norm.cdf(-1.0)) * MASS_Y / 60.0))   # variant (a), no weak term
LOGZ_DROPPED = float(np.log((norm.cdf(5.0) - norm.cdf(-5.0)) * MASS_Y / 100.0))  # variant (b)


def sample(box: Box, like: Like, seed: int, tmp: Path) -> SamplerOutput:
    problem = SamplingProblem(("x", "y"), box.transform, box.logpdf, like)
    return run_sampler("dynesty", problem, {"nlive": 200, "dlogz": 0.05, "sample": "unif",
                                                    "checkpoint_every": 1000}, tmp, seed)


def reweighted(out: SamplerOutput, old_box: Box, new_box: Box, new_like: Like, min_ess: float = 200.0):  # type: ignore[no-untyped-def]
    logp_new = new_box.logpdf(out.samples)
    logl_new = np.where(np.isfinite(logp_new), new_like(out.samples), -np.inf)
    return importance_reweight(out.weights, out.logl, old_box.logpdf(out.samples), logl_new, logp_new,
                               out.logz, out.logz_err, min_ess)


@pytest.fixture(scope="module")
def plain_runs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], SamplerOutput]:
    """The run on the wide prior without the weak term, by seed, made once per module (both tests use seed 1)."""
    folder = tmp_path_factory.mktemp("plain")
    return cache(lambda seed: sample(WIDE, Like(False), seed, folder / str(seed)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_reweighted_evidence_and_posterior_match_the_exact_values(seed: int, tmp_path: Path,
                                                                    plain_runs: Callable[[int], SamplerOutput]) -> None:
    with_weak = sample(WIDE, Like(True), seed, tmp_path / "a")
    plain = plain_runs(seed)
    dropped = reweighted(with_weak, WIDE, WIDE, Like(False))
    assert abs(dropped.logz - LOGZ_DROPPED) < 3.0 * dropped.logz_err
    narrow = reweighted(plain, WIDE, NARROW, Like(False))
    assert abs(narrow.logz - LOGZ_NARROW) < 3.0 * narrow.logz_err
    # posterior mean of x under the narrowed prior: a normal truncated to [-1, 5]
    mean_x = float(np.sum(narrow.weights * plain.samples[:, 0]))
    true_mean = (norm.pdf(-1.0) - norm.pdf(5.0)) / (norm.cdf(5.0) - norm.cdf(-1.0))
    sd_x = np.sqrt(np.sum(narrow.weights * (plain.samples[:, 0] - mean_x) ** 2))
    assert abs(mean_x - true_mean) < 4.0 * sd_x / np.sqrt(narrow.ess)
    assert narrow.ess == pytest.approx(kish_ess(narrow.weights))
    assert 0 < narrow.ess < narrow.ess_old  # the narrowed prior throws samples away


def test_reweighted_evidence_agrees_with_a_rerun(tmp_path: Path, plain_runs: Callable[[int], SamplerOutput]) -> None:
    rerun = sample(NARROW, Like(False), 11, tmp_path / "rerun")
    plain = plain_runs(1)  # seed 1, independent of the rerun's seed 11
    narrow = reweighted(plain, WIDE, NARROW, Like(False))
    assert rerun.logz_err is not None
    assert abs(narrow.logz - rerun.logz) < 3.0 * np.hypot(narrow.logz_err, rerun.logz_err)


def test_refusals_carry_the_reason_and_the_number() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-5, 5, (4000, 2))
    logl = Like(False)(x)
    w = np.exp(logl - logl.max())
    w /= w.sum()
    # a far-away new likelihood: ESS collapses and the error says how far
    with pytest.raises(LowESSError) as err:
        importance_reweight(w, logl, WIDE.logpdf(x), -0.5 * ((x[:, 0] - 4.0) / 0.05) ** 2, WIDE.logpdf(x), -4.0, 0.1)
    assert err.value.ess < err.value.threshold
    assert f"{err.value.ess:.0f}" in str(err.value)
    # the new target non-zero where the old one was zero: no samples there
    old = np.where(x[:, 0] > 0, logl, -np.inf)
    with pytest.raises(NotReweightableError, match="where the run's was zero"):
        importance_reweight(w, old, WIDE.logpdf(x), logl, WIDE.logpdf(x), -4.0, 0.1)
