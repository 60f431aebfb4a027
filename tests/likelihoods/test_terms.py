"""Term kinds against analytic values (likelihoods/terms.py module docstring gives the conventions)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from likelihoods.terms import (
    FAST_GAUSS,
    FAST_SOFT,
    FAST_STEP,
    MODES,
    TERM_KINDS,
    Term,
    TermSpec,
    half_normal_sigma,
    half_normal_z,
    term_loglike,
)


def spec(**kw) -> TermSpec:
    base = {"name": "t", "observable": "obs", "applies_to": "np", "kind": "gaussian"}
    return TermSpec(**{**base, **kw})


def test_public_constants():
    assert MODES == ("gaussian", "cuts")
    assert TERM_KINDS == ("gaussian", "asymmetric_gaussian", "upper_limit", "interval", "hard_bound")


# -- upper limits: half-normal at zero ---------------------------------------------------------------
def test_half_normal_sigma_from_90cl_limit():
    # P(|X| < 1.6449 sigma) = 0.90 for a normal X: Phi^-1(0.95) = 1.644854 (standard normal table)
    assert half_normal_z(0.90) == pytest.approx(1.6448536, rel=1e-7)
    assert half_normal_sigma(1.8e-5, 0.90) == pytest.approx(1.8e-5 / 1.6448536, rel=1e-7)
    # the CL-quantile of the half-normal distribution with that width is the limit itself
    sigma = half_normal_sigma(4.9e-9, 0.90)
    assert stats.halfnorm(scale=sigma).ppf(0.90) == pytest.approx(4.9e-9, rel=1e-10)
    # a 1 sigma (68.27 %) bound has width equal to the bound
    assert half_normal_sigma(0.7, 0.682689492) == pytest.approx(0.7, rel=1e-8)
    # 99 % CL: z = 2.5758
    assert half_normal_z(0.99) == pytest.approx(2.5758293, rel=1e-7)


@pytest.mark.parametrize("cl", [0.0, 1.0, 1.2, -0.1])
def test_half_normal_rejects_bad_cl(cl):
    with pytest.raises(ValueError, match="confidence level"):
        half_normal_z(cl)


def test_upper_limit_gaussian_mode_values():
    t = Term(spec(kind="upper_limit", limit=1.8e-5, cl=0.90), "gaussian")
    z = 1.6448536
    x = np.array([0.0, 0.9e-5, 1.8e-5, 3.6e-5, -1e-6])
    expected = [0.0, -0.5 * (z / 2) ** 2, -0.5 * z**2, -0.5 * (2 * z) ** 2, 0.0]  # flat below zero
    np.testing.assert_allclose(t.loglike(x), expected, rtol=1e-7)
    # pull is x / sigma: the limit sits at z sigma
    assert t.pull(np.array([1.8e-5]))[0] == pytest.approx(z, rel=1e-7)


def test_upper_limit_cuts_mode_step_and_softening():
    hard = Term(spec(kind="upper_limit", limit=1.8e-5, cl=0.90), "cuts")
    x = np.array([1.0e-5, 1.8e-5, 1.806e-5])
    np.testing.assert_array_equal(hard.loglike(x), [0.0, 0.0, -np.inf])  # edge included
    np.testing.assert_array_equal(hard.passed(x), [True, True, False])
    # BP7-like miss: margin 1.8e-5 - 1.806e-5 = -6e-8, i.e. -0.33 % of the limit
    assert hard.margin(x)[2] == pytest.approx(-6e-8, rel=1e-9)
    assert hard.relative_margin(x)[2] == pytest.approx(-6e-8 / 1.8e-5, rel=1e-9)
    soft = Term(spec(kind="upper_limit", limit=1.8e-5, cl=0.90), "cuts", softening=0.01)
    # one softening width (0.01 x limit) beyond the edge costs -1/2
    assert soft.loglike(np.array([1.8e-5 * 1.01]))[0] == pytest.approx(-0.5, rel=1e-9)
    assert soft.loglike(np.array([1.7e-5]))[0] == 0.0


# -- intervals ----------------------------------------------------------------------------------------
def test_interval_edges_cuts_mode():
    t = Term(spec(kind="interval", low=0.95, high=1.05), "cuts")
    x = np.array([0.9499999, 0.95, 1.0, 1.05, 1.0500001])
    np.testing.assert_array_equal(t.loglike(x), [-np.inf, 0.0, 0.0, 0.0, -np.inf])
    np.testing.assert_array_equal(t.passed(x), [False, True, True, True, False])
    np.testing.assert_allclose(t.margin(x), [-1e-7, 0.0, 0.05, 0.0, -1e-7], atol=1e-12)
    assert t.spec.condition() == "0.95 <= x <= 1.05"


def test_interval_gaussian_mode_is_gaussian_with_half_width():
    t = Term(spec(kind="interval", low=0.95, high=1.05), "gaussian")
    x = np.array([1.0, 0.95, 1.05, 1.1])
    np.testing.assert_allclose(t.loglike(x), [0.0, -0.5, -0.5, -2.0], rtol=1e-9)
    np.testing.assert_allclose(t.pull(x), [0.0, -1.0, 1.0, 2.0], rtol=1e-9)


def test_interval_softening_scale_is_half_width():
    t = Term(spec(kind="interval", low=0.95, high=1.05), "cuts", softening=0.1)
    # half-width 0.05, width 0.1 x 0.05 = 0.005: 1.055 is one width above the edge
    assert t.loglike(np.array([1.055]))[0] == pytest.approx(-0.5, rel=1e-9)
    assert t.loglike(np.array([0.94]))[0] == pytest.approx(-2.0, rel=1e-9)


# -- Gaussians ----------------------------------------------------------------------------------------
def test_gaussian_matches_scipy_up_to_constant():
    t = Term(spec(kind="gaussian", central=2.3e-5, error_up=0.7e-5, error_down=0.7e-5), "gaussian")
    x = np.linspace(0.5e-5, 4e-5, 9)
    ref = stats.norm(2.3e-5, 0.7e-5).logpdf(x) - stats.norm(2.3e-5, 0.7e-5).logpdf(2.3e-5)
    np.testing.assert_allclose(t.loglike(x), ref, rtol=1e-10)


def test_gaussian_cuts_mode_is_one_sigma_window():
    t = Term(spec(kind="gaussian", central=2.3e-5, error_up=0.7e-5, error_down=0.7e-5), "cuts")
    lo, hi = t.spec.cut_edges()
    assert (lo, hi) == pytest.approx((1.6e-5, 3.0e-5), rel=1e-12)  # docs/physics/flavour.md §6, B+ -> K+ nu nu
    np.testing.assert_array_equal(t.loglike(np.array([1.59e-5, 1.86e-5, 3.01e-5])), [-np.inf, 0, -np.inf])


def test_asymmetric_gaussian_continuous_at_the_mode():
    c, up, down = 3.1e-7, 0.9434e-7, 0.8775e-7
    t = Term(spec(kind="asymmetric_gaussian", central=c, error_up=up, error_down=down), "gaussian")
    eps = 1e-15
    left, mid, right = t.loglike(np.array([c - eps, c, c + eps]))
    assert mid == 0.0
    assert left == pytest.approx(0.0, abs=1e-12) and right == pytest.approx(0.0, abs=1e-12)
    # one sigma on each side costs -1/2 with that side's sigma
    np.testing.assert_allclose(t.loglike(np.array([c + up, c - down])), [-0.5, -0.5], rtol=1e-12)
    # one-sided slopes (in units of 1/sigma) both vanish at the mode: the function is C1 there
    h = 1e-6 * down
    slope_right = (float(t.loglike(np.array([c + h]))[0]) - 0.0) / h * up
    slope_left = (0.0 - float(t.loglike(np.array([c - h]))[0])) / h * down
    assert abs(slope_right) < 1e-5 and abs(slope_left) < 1e-5


def test_theory_error_added_in_quadrature_for_total_only():
    common = {"kind": "asymmetric_gaussian", "central": 3.1e-7, "error_up": 0.9e-7, "error_down": 0.8e-7,
              "theory_up": 0.66e-7, "theory_down": 0.47e-7}
    total = spec(applies_to="total", **common)
    np_only = spec(applies_to="np", **common)
    form = total.gaussian_form()
    assert form is not None
    _, s_up, s_down = form
    # prediction above the data: measurement's upper error with the SM's lower error, and vice versa
    assert s_up == pytest.approx(math.hypot(0.9e-7, 0.47e-7))
    assert s_down == pytest.approx(math.hypot(0.8e-7, 0.66e-7))
    assert np_only.gaussian_form() == (3.1e-7, 0.9e-7, 0.8e-7)
    # cuts mode never uses the theory error
    assert total.cut_edges() == np_only.cut_edges()


# -- hard bounds --------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_hard_bound_is_never_softened(mode):
    t = Term(spec(kind="hard_bound", high=0.1, unit="mm"), mode, softening=0.5)
    np.testing.assert_array_equal(t.loglike(np.array([0.0979, 0.1, 0.1000001])), [0.0, 0.0, -np.inf])
    assert np.isnan(t.pull(np.array([0.05]))[0])
    assert t.spec.condition() == "x <= 0.1 mm"


def test_step_loglike_two_sided():
    t = Term(spec(kind="hard_bound", low=0.0, high=1.0), "gaussian")
    np.testing.assert_array_equal(t.loglike(np.array([-1.0, 0.0, 2.0])), [-np.inf, 0.0, -np.inf])


def test_one_scalar_form_per_kind():
    """term_loglike, the one evaluation of every kind (compiled, and as plain Python), on its three forms."""
    for fn in (term_loglike, getattr(term_loglike, "py_func", term_loglike)):
        assert fn(FAST_GAUSS, 3.0, 1.0, 2.0, 0.5, 0.0, 0.0) == -0.5  # above the centre: sigma_up
        assert fn(FAST_GAUSS, 0.5, 1.0, 2.0, 0.5, 0.0, 0.0) == -0.5  # below: sigma_down
        assert fn(FAST_GAUSS, -1.0, 0.0, 2.0, math.inf, 0.0, 0.0) == 0.0  # an upper limit is flat below zero
        assert fn(FAST_STEP, 2.0, 0.0, 1.0, 1.0, 0.0, 1.0) == -math.inf
        assert fn(FAST_STEP, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0) == 0.0  # edges included
        assert fn(FAST_SOFT, 3.0, 0.0, 2.0, 2.0, 0.0, 1.0) == -0.5  # 2 beyond the edge, width 2
        assert fn(FAST_SOFT, -4.0, 0.0, 2.0, 2.0, 0.0, 1.0) == -2.0
        assert math.isnan(fn(FAST_GAUSS, math.nan, 0.0, 1.0, 1.0, 0.0, 0.0))
        assert math.isnan(fn(FAST_SOFT, math.nan, 0.0, 1.0, 1.0, 0.0, 1.0))


# -- windows of applicability ---------------------------------------------------------------------------
def test_windowed_term_applies_only_inside_windows():
    t = Term(spec(kind="upper_limit", limit=1.78e-10, cl=0.90, window_observable="m_S",
                  windows=((0.0, 110.0), (154.0, 260.0))), "cuts")
    x = np.full(3, 8e-9)                      # far above the limit
    m_s = np.array([38.0, 122.0, 200.0])      # the middle one is in NA62's pi0 gap
    np.testing.assert_array_equal(t.loglike(x, m_s), [-np.inf, 0.0, -np.inf])
    np.testing.assert_array_equal(t.passed(x, m_s), [False, True, False])
    assert np.isnan(t.pull(x, m_s)[1]) and np.isnan(t.margin(x, m_s)[1])
    with pytest.raises(ValueError, match="m_S"):
        t.loglike(x)


# -- validation ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, message", [
    ({"kind": "gaussian", "central": 1.0}, "needs central and error"),
    ({"kind": "upper_limit", "limit": 1.0}, "needs limit and cl"),
    ({"kind": "upper_limit", "limit": 1.0, "cl": 90.0}, "cl must lie in"),
    ({"kind": "interval", "low": 2.0, "high": 1.0}, "low < high"),
    ({"kind": "hard_bound"}, "low and/or high"),
    ({"kind": "gausian"}, "unknown kind"),
])
def test_spec_validation_messages(kw, message):
    with pytest.raises(ValueError, match=message):
        spec(**kw)


def test_unknown_mode_rejected():
    with pytest.raises(ValueError, match="unknown mode"):
        Term(spec(kind="hard_bound", high=1.0), "cut")
