"""Property tests over the physics (hypothesis): finite predictions on the whole prior box, branching
ratios in [0, 1] that sum to 1, the monotonicity the formulas imply, and -inf (never NaN) with a reason
for points outside the model's domain."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from likelihoods import JointLikelihood
from physics import ModelParams, domain_violations, predict
from physics.constants import CONST

BOX = {"kappa": (0.0, 2.0), "eta_d": (0.0, 1.0), "eta_c": (-0.5, 0.0), "eta_t": (0.0, 0.02),
       "g_D": (0.0, float(np.sqrt(4 * np.pi))), "U_mu4": (0.0, 0.006), "m_S": (10.0, 150.0),
       "m_nu4": (400.0, 700.0)}


def point_in_box():
    return st.fixed_dictionaries({k: st.floats(lo, hi, allow_nan=False) for k, (lo, hi) in BOX.items()})


def params_of(values: dict) -> ModelParams:
    return ModelParams.from_paper_units({k: [v] for k, v in values.items()})


@settings(max_examples=150, deadline=None)
@given(point_in_box())
def test_every_observable_finite_on_the_prior_box(values):
    preds = predict(params_of(values))
    # ctau_S = hbar c / Gamma_S and tau_S = hbar / Gamma_S are inf where S does not decay (every S coupling
    # zero) and where Gamma_S is so small (subnormal) that the quotient overflows (physics.decays.ctau_S)
    gamma = preds["Gamma_S"].np[0]
    with np.errstate(over="ignore", divide="ignore"):
        infinite = {"ctau_S": not np.isfinite(CONST.hbar_c * 1e3 / gamma),
                    "tau_S": not np.isfinite(CONST.hbar * 1e12 / gamma)}
    for name, pr in preds.items():
        if infinite.get(name):
            assert pr.total[0] == np.inf, (name, values)
            continue
        assert np.all(np.isfinite(pr.total)), (name, values)
        if name.startswith("BR("):
            assert np.all((pr.np >= 0) & (pr.np <= 1)), (name, values)
    for mode in ("gaussian", "cuts"):  # the likelihood is finite or -inf there, never NaN (it would raise)
        total = JointLikelihood.from_config("2023", mode).logpdf(params_of(values))
        assert not np.isnan(total[0]) and total[0] != np.inf


@settings(max_examples=150, deadline=None)
@given(point_in_box())
def test_s_branching_ratios_sum_to_one(values):
    pr = predict(params_of(values), ["BR(S->gammagamma)", "BR(S->ee)", "BR(S->nunu)", "Gamma_S"])
    total = pr["BR(S->gammagamma)"].np + pr["BR(S->ee)"].np + pr["BR(S->nunu)"].np
    if pr["Gamma_S"].np[0] > 0:  # Gamma_S = 0 only if every coupling of S vanishes
        np.testing.assert_allclose(total, 1.0, rtol=1e-12)
    else:
        assert total[0] == 0.0


@settings(max_examples=100, deadline=None)
@given(point_in_box(), st.floats(1.05, 3.0))
def test_monotone_in_the_couplings(values, factor):
    """Rates that are quadratic in one coupling grow with it (the formulas of docs/physics/flavour.md §4 and §3)."""
    base = predict(params_of(values))
    up_t = predict(params_of({**values, "eta_t": values["eta_t"] * factor}))
    up_k = predict(params_of({**values, "kappa": values["kappa"] * factor}))
    up_g = predict(params_of({**values, "g_D": values["g_D"] * factor}))
    assert up_t["BR(B+->K+S)"].np[0] >= base["BR(B+->K+S)"].np[0]  # ~ eta_t^2
    assert up_k["Gamma_S"].np[0] >= base["Gamma_S"].np[0]  # Gamma_gg ~ kappa^2
    assert up_k["BR(S->gammagamma)"].np[0] >= base["BR(S->gammagamma)"].np[0]
    assert up_g["Gamma_nu4"].np[0] >= base["Gamma_nu4"].np[0]  # ~ g_D^2
    assert up_g["ctau_S"].np[0] <= base["ctau_S"].np[0]  # Gamma_nunu ~ g_D^2
    assert up_k["Delta_a_mu"].np[0] >= base["Delta_a_mu"].np[0]  # kappa term linear and positive
    if values["kappa"] * values["eta_d"] > 1e-6:
        assert up_k["Delta_a_mu"].np[0] > base["Delta_a_mu"].np[0]


bad_point = st.sampled_from([
    ({"m_S": 450.0, "m_nu4": 420.0}, "m_S >= m_nu4"),
    ({"g_D": -0.5}, "g_D < 0"),
    ({"U_mu4": -1e-3}, "|U_mu4| outside [0, 1]"),
    ({"m_S": 5.0}, "m_S outside [10, 150] MeV (scattering tables)"),
    ({"m_nu4": 800.0}, "m_nu4 outside [400, 700] MeV (scattering tables)"),
    ({"eta_t": float("nan")}, "non-finite parameter"),
])


@settings(max_examples=60, deadline=None)
@given(point_in_box(), bad_point)
def test_points_outside_the_domain_get_minus_inf_with_a_reason(values, bad):
    change, reason = bad
    p = params_of({**values, **change})
    assert domain_violations(p)[reason][0]
    for mode in ("gaussian", "cuts"):
        total, terms, _ = JointLikelihood.from_config("2023", mode).evaluate(p)
        assert total[0] == -np.inf and not np.isnan(total[0])
        assert all(not np.isnan(v[0]) for v in terms.values())


def _edge_or_inside(lo: float, hi: float):
    return st.one_of(st.sampled_from([lo, hi]), st.floats(lo, hi, allow_nan=False))


def point_with_edges():
    """Points of the box with every coordinate often exactly at an edge (zero couplings, m_S = 10 or 150 MeV)."""
    return st.fixed_dictionaries({k: _edge_or_inside(lo, hi) for k, (lo, hi) in BOX.items()})


_LIKELIHOODS = {(data, mode): JointLikelihood.from_config(data, mode, softening=soft)
                for data, mode, soft in (("2023", "gaussian", 0.0), ("2025", "gaussian", 0.0), ("2023", "cuts", 0.2))}


@settings(max_examples=300, deadline=None)
@given(point_with_edges())
def test_fast_paths_equal_the_reference_everywhere(values):
    """The kernel path (logpdf and the one-point call; compiled, or Python with DARKPORTAL_JIT=0) gives the
    reference log-likelihood (1e-10 relative, as
    tests/physics/test_fast_paths.py), including zero couplings and the box edges, where S may be stable."""
    p = params_of(values)
    theta = p.to_array()
    for lik in _LIKELIHOODS.values():
        ref = float(lik.evaluate(p)[0][0])
        path = lik.kernel_path(range(8), [1.0] * 8, [0.0] * 8)
        assert path is not None
        got = [float(lik.logpdf(p)[0]), path.point(theta[0])]  # compiled, or Python with DARKPORTAL_JIT=0
        for value in got:
            if np.isfinite(ref):
                assert value is not None and abs(value - ref) <= 1e-10 * abs(ref), (values, value, ref)
            else:
                assert value == ref, (values, value, ref)
