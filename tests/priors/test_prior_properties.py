"""Property tests (hypothesis) of every prior class: ppf inverts the CDF, samples stay in the support,
logpdf is finite inside the support and -inf outside."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from priors import Fixed, LogUniform, Normal, Prior, Uniform

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
unit = st.floats(min_value=0.0, max_value=1.0)
# cdf(ppf(u)) = u only where the density is not negligible: keep u away from the extreme tails, where
# a normal's ppf saturates in double precision (stated tolerance below: 1e-9 absolute)
inner_unit = st.floats(min_value=1e-6, max_value=1.0 - 1e-6)


@st.composite
def uniforms(draw: st.DrawFn) -> Uniform:
    lo = draw(finite)
    # widths below ~1e-6 of |lo| are resolved only to a few digits in double precision
    width = draw(st.floats(min_value=max(1e-3, 1e-6 * abs(lo)), max_value=1e6))
    return Uniform(lo, lo + width)


@st.composite
def log_uniforms(draw: st.DrawFn) -> LogUniform:
    lo = draw(st.floats(min_value=1e-12, max_value=1e3))
    ratio = draw(st.floats(min_value=1.01, max_value=1e8))
    return LogUniform(lo, lo * ratio)


@st.composite
def normals(draw: st.DrawFn) -> Normal:
    mean = draw(st.floats(min_value=-100.0, max_value=100.0))
    sigma = draw(st.floats(min_value=1e-2, max_value=100.0))
    # truncation window in units of sigma, kept where the window holds a fair share of the mass
    a = draw(st.none() | st.floats(min_value=-6.0, max_value=3.0))
    b = draw(st.none() | st.floats(min_value=-3.0, max_value=6.0))
    if a is not None and b is not None and b - a < 0.1:
        b = a + 0.1
    return Normal(mean, sigma, None if a is None else mean + a * sigma, None if b is None else mean + b * sigma)


priors_strategy = st.one_of(uniforms(), log_uniforms(), normals())


@settings(max_examples=150, deadline=None)
@given(priors_strategy, inner_unit)
def test_cdf_inverts_ppf(prior: Prior, u: float) -> None:
    x = prior.ppf(u)
    assert abs(float(prior.cdf(x)) - u) < 1e-9


@settings(max_examples=150, deadline=None)
@given(priors_strategy, inner_unit)
def test_ppf_inverts_cdf(prior: Prior, u: float) -> None:
    """x = ppf(u) inside the support, then ppf(cdf(x)) = x to a relative 1e-7 of the scale."""
    x = float(prior.ppf(u))
    scale = max(abs(x), prior.sigma if isinstance(prior, Normal) else abs(prior.support[1] - prior.support[0]))
    assert abs(float(prior.ppf(prior.cdf(x))) - x) <= 1e-7 * scale


@settings(max_examples=100, deadline=None)
@given(priors_strategy, st.integers(min_value=0, max_value=2**32 - 1), st.integers(min_value=1, max_value=200))
def test_samples_inside_support_with_finite_logpdf(prior: Prior, seed: int, n: int) -> None:
    draws = prior.sample(np.random.default_rng(seed), n)
    lo, hi = prior.support
    assert draws.shape == (n,)
    assert np.all((draws >= lo) & (draws <= hi))
    assert np.all(np.isfinite(prior.logpdf(draws)))


@settings(max_examples=100, deadline=None)
@given(priors_strategy, unit)
def test_logpdf_finite_inside_and_minus_inf_outside(prior: Prior, u: float) -> None:
    inside = prior.ppf(u)
    if np.isfinite(inside):
        assert np.isfinite(prior.logpdf(inside))
    lo, hi = prior.support
    for out in (lo - max(1.0, abs(lo)), hi + max(1.0, abs(hi))):
        if math.isfinite(out):
            assert prior.logpdf(out) == -np.inf
            assert float(prior.cdf(out)) in (0.0, 1.0)


@settings(max_examples=100, deadline=None)
@given(priors_strategy, st.lists(finite, min_size=2, max_size=20))
def test_cdf_is_monotone_and_in_unit_interval(prior: Prior, xs: list[float]) -> None:
    x = np.sort(np.asarray(xs))
    c = prior.cdf(x)
    assert np.all((c >= 0.0) & (c <= 1.0))
    # scipy's truncated-normal CDF switches formulas across its range and may step back by ~1 ulp
    assert np.all(np.diff(c) >= -1e-14)


@settings(max_examples=50, deadline=None)
@given(finite, unit)
def test_fixed_prior_properties(value: float, u: float) -> None:
    p = Fixed(value)
    assert float(p.ppf(u)) == value
    assert float(p.logpdf(value)) == 0.0
    assert float(p.logpdf(value + 1.0)) == -np.inf
