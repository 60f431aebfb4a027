"""Contract tests run over every prior class, plus the class-specific numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from priors import Fixed, LogUniform, Normal, Prior, PriorError, Uniform

CONTINUOUS: list[Prior] = [
    Uniform(-0.5, 0.0),
    Uniform(10.0, 150.0),
    LogUniform(1e-4, 0.02),
    Normal(1.0, 0.5),
    Normal(1.0, 0.5, min=0.0, max=3.5),
    Normal(0.0, 1.0, min=0.5),
    Normal(0.0, 1.0, max=-1.0),
]
IDS = [repr(p) for p in CONTINUOUS]


@pytest.mark.parametrize("prior", CONTINUOUS, ids=IDS)
def test_density_integrates_to_one(prior: Prior) -> None:
    lo, hi = prior.support
    value, _ = integrate.quad(lambda x: float(prior.pdf(x)), lo, hi, limit=200)
    assert value == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize("prior", CONTINUOUS, ids=IDS)
def test_cdf_is_the_integral_of_the_density(prior: Prior) -> None:
    lo, hi = prior.support
    x = float(prior.ppf(0.3))
    start = lo if math.isfinite(lo) else -np.inf
    value, _ = integrate.quad(lambda t: float(prior.pdf(t)), start, x, limit=200)
    assert value == pytest.approx(0.3, rel=1e-6)
    assert prior.cdf(hi if math.isfinite(hi) else 1e300) == pytest.approx(1.0)


@pytest.mark.parametrize("prior", CONTINUOUS, ids=IDS)
def test_ppf_ends_are_the_support(prior: Prior) -> None:
    lo, hi = prior.support
    assert float(prior.ppf(0.0)) == lo
    assert float(prior.ppf(1.0)) == hi


@pytest.mark.parametrize("prior", CONTINUOUS, ids=IDS)
def test_logpdf_outside_support_is_minus_inf(prior: Prior) -> None:
    lo, hi = prior.support
    outside = [x for x in (lo - 1.0, hi + 1.0) if math.isfinite(x)]
    assert np.all(prior.logpdf(np.array([*outside, np.nan])) == -np.inf)


@pytest.mark.parametrize("prior", CONTINUOUS, ids=IDS)
def test_vectorised_shapes(prior: Prior) -> None:
    u = np.linspace(0.05, 0.95, 12).reshape(3, 4)
    x = prior.ppf(u)
    assert x.shape == (3, 4)
    assert prior.logpdf(x).shape == (3, 4)
    assert prior.cdf(x).shape == (3, 4)
    np.testing.assert_allclose(prior.cdf(x), u, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("prior", CONTINUOUS, ids=IDS)
def test_sample_uses_only_the_generator(prior: Prior) -> None:
    a = prior.sample(np.random.default_rng(7), 1000)
    b = prior.sample(np.random.default_rng(7), 1000)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (1000,)
    c = prior.sample(np.random.default_rng(8), 1000)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("prior", CONTINUOUS, ids=IDS)
def test_samples_follow_the_cdf(prior: Prior) -> None:
    """Kolmogorov-Smirnov test of 4000 draws against the prior's own CDF (p > 1e-3 at a fixed seed)."""
    draws = prior.sample(np.random.default_rng(11), 4000)
    assert stats.kstest(draws, lambda x: prior.cdf(x)).pvalue > 1e-3


@pytest.mark.parametrize("prior", CONTINUOUS, ids=IDS)
def test_ppf_rejects_u_outside_unit_interval(prior: Prior) -> None:
    with pytest.raises(ValueError, match=r"u in \[0, 1\]"):
        prior.ppf(np.array([0.5, 1.2]))
    with pytest.raises(ValueError):
        prior.ppf(np.nan)


@pytest.mark.parametrize("prior", [*CONTINUOUS, Fixed(0.0)], ids=[*IDS, "Fixed"])
def test_config_round_trip(prior: Prior) -> None:
    config = prior.to_config()
    kind = config.pop("prior", "fixed")
    rebuilt = {"uniform": Uniform, "log_uniform": LogUniform, "normal": Normal}.get(kind)
    clone = Fixed(config["fixed"]) if rebuilt is None else rebuilt(**config)
    assert clone == prior
    assert hash(clone) == hash(prior)


def test_uniform_numbers() -> None:
    p = Uniform(10.0, 150.0)
    assert float(p.logpdf(20.0)) == pytest.approx(-math.log(140.0))
    assert float(p.cdf(45.0)) == pytest.approx(0.25)
    assert float(p.ppf(0.5)) == pytest.approx(80.0)
    assert float(p.logpdf(150.0)) == pytest.approx(-math.log(140.0))  # closed interval


def test_log_uniform_numbers() -> None:
    p = LogUniform(1e-4, 1e-2)
    assert float(p.ppf(0.5)) == pytest.approx(1e-3)
    assert float(p.cdf(1e-3)) == pytest.approx(0.5)
    assert float(p.logpdf(1e-3)) == pytest.approx(-math.log(1e-3) - math.log(math.log(100.0)))


def test_normal_matches_scipy() -> None:
    x = np.linspace(-2.0, 4.0, 13)
    np.testing.assert_allclose(Normal(1.0, 0.5).logpdf(x), stats.norm(1.0, 0.5).logpdf(x), rtol=1e-12)
    trunc = Normal(1.0, 0.5, min=0.0, max=3.5)
    ref = stats.truncnorm(-2.0, 5.0, loc=1.0, scale=0.5)
    inside = x[(x >= 0.0) & (x <= 3.5)]
    np.testing.assert_allclose(trunc.logpdf(inside), ref.logpdf(inside), rtol=1e-10)
    assert trunc.truncated and not Normal(1.0, 0.5).truncated


def test_fixed_is_a_point_mass() -> None:
    p = Fixed(0.0)
    assert p.is_fixed and p.support == (0.0, 0.0)
    np.testing.assert_array_equal(p.logpdf(np.array([0.0, 1e-9])), [0.0, -np.inf])
    np.testing.assert_array_equal(p.sample(np.random.default_rng(1), 3), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(p.cdf(np.array([-1.0, 0.0, 1.0])), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(p.ppf(np.array([0.0, 0.7])), [0.0, 0.0])


@pytest.mark.parametrize(("build", "message"), [
    (lambda: Uniform(1.0, 1.0), "min < max"),
    (lambda: Uniform(2.0, 1.0), "min < max"),
    (lambda: Uniform(0.0, math.inf), "finite"),
    (lambda: Uniform(True, 2.0), "must be a number"),
    (lambda: LogUniform(0.0, 1.0), "min > 0"),
    (lambda: Normal(0.0, 0.0), "sigma > 0"),
    (lambda: Normal(0.0, 1.0, min=2.0, max=1.0), "min < max"),
    (lambda: Normal(0.0, 1.0, min=60.0, max=61.0), "no probability mass"),
    (lambda: Fixed(math.nan), "finite"),
])
def test_bad_arguments_raise_prior_error(build, message: str) -> None:
    with pytest.raises(PriorError, match=message):
        build()


def test_sample_rejects_bad_n() -> None:
    with pytest.raises(ValueError, match="non-negative integer"):
        Uniform(0.0, 1.0).sample(np.random.default_rng(0), -1)
    assert Uniform(0.0, 1.0).sample(np.random.default_rng(0), 0).shape == (0,)
