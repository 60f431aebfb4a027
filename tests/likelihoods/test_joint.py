"""JointLikelihood with a stand-in predictor: configuration errors, breakdown, -inf and NaN handling."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest

from likelihoods import (
    DOMAIN_TERM,
    JointLikelihood,
    LikelihoodConfigError,
    NonFiniteLikelihoodError,
    available_terms,
)
from likelihoods.errors import TermOverrideError
from likelihoods.joint import check_overrides
from physics.params import ModelParams


class FakePrediction(NamedTuple):
    np: np.ndarray
    sm: float | None
    total: np.ndarray


# NP parts and SM values of BP2 (docs/physics/flavour.md §7, docs/physics/g2-scattering.md §1.3, calibrated R);
# every term passes
BP2_LIKE = {
    "BR(B+->K+nunu)": (2.07e-5 - 5.58e-6, 5.58e-6), "BR(B0->K*0nunu)": (1.40e-5, 9.2e-6),
    "BR(B+->K*+nunu)": (1.52e-5, 9.921e-6), "BR(B0->K*0ee)[0.03,1]": (3.5e-8, 2.43e-7),
    "BR(Bs->gammagamma)": (2.1e-12, 5e-7), "BR(Bs->mumu)": (2.7e-14, 3.57e-9), "BR(KL->pi0nunu)": (3e-11, 3.4e-11),
    "BR(KL->pi0ee)": (7.4e-14, 3.2e-11), "BR(KL->pi0gammagamma)": (7.4e-11, None),
    "BR(KS->pi0gammagamma)": (1.6e-10, None), "BR(K+->pi+gammagamma)": (2.0e-8, None),
    "BR(K+->mu+nuee)[mee>140]": (0.0, None), "DeltaM_Bs": (1.8e-5, 18.4), "DeltaM_K": (5.09, 4.7e9),
    "Delta_a_mu": (2.179e-9, None), "BR(B+->K+S)": (5.32e-5, None), "BR(B0->K*0S)": (4.93e-5, None),
    "BR(B+->K*+S)": (5.5e-5, None), "ctau_S": (0.0979, None), "R_MiniBooNE": (1.005, None),
    "R_CHARMII": (0.032, None), "U_mu4": (3.64e-3, None), "BR(K+->pi+nunu)": (8.1e-9, 8.4e-11),
    "m_S": (93.0, None),
}


def make_predictor(values: dict[str, tuple[float, float | None]], calls: list | None = None):
    def predictor(params, names, options):
        if calls is not None:
            calls.append((params.size, list(names)))
        n = params.size
        out = {}
        for name in names:
            npart, sm = values[name]
            arr = np.full(n, float(npart))
            out[name] = FakePrediction(arr, sm, arr + (sm or 0.0))
        return out
    return predictor


def no_violations(params):
    return {"none": np.zeros(params.size, dtype=bool)}


def points(n: int) -> ModelParams:
    return ModelParams.from_paper_units({"kappa": np.full(n, 0.6), "eta_d": 0.3, "eta_c": -0.28, "eta_t": 0.0104,
                                         "g_D": 0.94, "U_mu4": 3.64e-3, "m_S": 93.0, "m_nu4": 413.0})


def make(mode="cuts", values=BP2_LIKE, **kw) -> JointLikelihood:
    return JointLikelihood.from_config("2023", mode, predictor=make_predictor(values), domain=no_violations, **kw)


@pytest.mark.parametrize("mode", ["cuts", "gaussian"])
def test_breakdown_sums_to_total_and_is_vectorised(mode):
    like = make(mode)
    total, terms, preds = like.evaluate(points(4))
    assert set(terms) == {*like.term_names, DOMAIN_TERM}
    assert all(v.shape == (4,) for v in terms.values())
    np.testing.assert_allclose(total, sum(terms.values()))
    np.testing.assert_allclose(like.logpdf(points(4)), total)
    assert set(preds) == set(like.observables)
    if mode == "cuts":
        np.testing.assert_array_equal(total, 0.0)  # BP2-like point passes every condition
    else:
        assert np.all(np.isfinite(total)) and np.all(total < 0)


def test_observables_are_those_of_enabled_terms_only():
    calls: list = []
    like = JointLikelihood.from_config("2023", "cuts", predictor=make_predictor(BP2_LIKE, calls),
                                       domain=no_violations)
    like.logpdf(points(2))
    asked = calls[0][1]
    assert "BR(K+->pi+nunu)" not in asked and "m_S" not in asked  # NA62 term is off in 2023
    assert "R_MiniBooNE" in asked and len(asked) == len(set(asked))
    on = JointLikelihood.from_config("2023", "cuts", overrides={"NA62 K+->pi+X(invisible)": {"enabled": True}},
                                     predictor=make_predictor(BP2_LIKE), domain=no_violations)
    assert {"BR(K+->pi+nunu)", "m_S"} <= set(on.observables)
    # m_S = 93 MeV lies in NA62's window 0-110 MeV and 8.1e-9 >> 1.78e-10: the term fails
    assert on.logpdf(points(1))[0] == -np.inf


def test_cut_failure_gives_minus_inf_and_softening_makes_it_finite():
    values = {**BP2_LIKE, "BR(B0->K*0nunu)": (1.806e-5, 9.2e-6)}  # BP7-like edge
    terms = make(values=values).logpdf(points(1), per_term=True)
    assert terms["BR(B0->K*0nunu)"][0] == -np.inf
    soft = make(values=values, softening=0.01).logpdf(points(1), per_term=True)
    # 6e-8 beyond the limit, width 0.01 x 1.8e-5: -1/2 (6e-8 / 1.8e-7)^2
    assert soft["BR(B0->K*0nunu)"][0] == pytest.approx(-0.5 * (6e-8 / 1.8e-7) ** 2, rel=1e-6)
    assert soft["ctau_S < 0.1 mm"][0] == 0.0


def test_overrides_switch_off_and_change_kind():
    values = {**BP2_LIKE, "BR(B0->K*0nunu)": (1.806e-5, 9.2e-6)}
    off = make(values=values, overrides={"BR(B0->K*0nunu)": {"enabled": False}})
    assert "BR(B0->K*0nunu)" not in off.term_names
    assert off.logpdf(points(1))[0] == 0.0
    relaxed = make(values=values, overrides={"BR(B0->K*0nunu)": {"limit": 2.0e-5}})
    assert relaxed.logpdf(points(1))[0] == 0.0
    as_interval = make("gaussian", overrides={"R_MiniBooNE window": {"kind": "hard_bound"}})
    assert as_interval.logpdf(points(1), per_term=True)["R_MiniBooNE window"][0] == 0.0


@pytest.mark.parametrize("kwargs, message", [
    ({"data_set": "2O25"}, "did you mean '2025'"),
    ({"mode": "gausian"}, "did you mean 'gaussian'"),
    ({"softening": -0.1}, "softening"),
    ({"overrides": {"R_MiniBoone window": {"enabled": False}}}, "(?i)did you mean 'R_MiniBooNE window'"),
    ({"overrides": {"R_MiniBooNE window": {"enable": False}}}, "(?i)did you mean 'enabled'"),
    ({"overrides": {"R_MiniBooNE window": {"kind": "intervall"}}}, "(?i)did you mean 'interval'"),
    ({"overrides": {"R_MiniBooNE window": {"enabled": "no"}}}, "true or false"),
    ({"overrides": {"ctau_S < 0.1 mm": {"kind": "gaussian"}}}, "needs central and error"),
])
def test_config_errors_are_named_with_did_you_mean(kwargs, message):
    args = {"data_set": "2023", "mode": "cuts", **kwargs}
    with pytest.raises(LikelihoodConfigError, match=message):
        JointLikelihood.from_config(args.pop("data_set"), args.pop("mode"), **args)


def test_nan_raises_naming_the_point():
    values = {**BP2_LIKE, "Delta_a_mu": (float("nan"), None)}
    with pytest.raises(NonFiniteLikelihoodError, match=r"Delta_a_mu.*kappa=0\.6.*m_S=93"):
        make("gaussian", values=values).logpdf(points(1))


def test_points_outside_the_domain_get_minus_inf_without_prediction():
    calls: list = []

    def domain(params):
        bad = np.zeros(params.size, dtype=bool)
        bad[1] = True
        return {"m_S >= m_nu4": bad}

    like = JointLikelihood.from_config("2023", "gaussian", predictor=make_predictor(BP2_LIKE, calls), domain=domain)
    total, terms, preds = like.evaluate(points(3))
    assert calls[0][0] == 2  # only the two points inside the domain reach the physics
    assert total[1] == -np.inf and np.all(np.isfinite(total[[0, 2]]))
    assert terms[DOMAIN_TERM][1] == -np.inf and terms["Delta_a_mu"][1] == 0.0
    assert np.isnan(preds["Delta_a_mu"].total[1])


def test_report_lists_disabled_terms_with_their_status():
    like = make()
    preds = make_predictor(BP2_LIKE)(points(1), like.all_observables, None)
    rows = {r.name: r for r in like.report(preds)}
    assert set(rows) == set(available_terms("2023"))
    na62 = rows["NA62 K+->pi+X(invisible)"]
    assert not na62.enabled and not na62.passed[0]
    kp = rows["BR(B+->K+nunu)"]
    assert kp.enabled and kp.passed[0] and kp.value[0] == pytest.approx(2.07e-5)
    assert kp.condition == "1.6e-05 <= SM+NP <= 3e-05 (1 sigma)"
    # pull uses the gaussian-mode sigma: (2.07 - 2.3)/sqrt(0.7^2 + 0.038^2)
    assert kp.pull[0] == pytest.approx((2.07e-5 - 2.3e-5) / np.hypot(0.7e-5, 0.038e-5), rel=1e-6)
    assert rows["ctau_S < 0.1 mm"].margin[0] == pytest.approx(0.1 - 0.0979)
    assert [d["name"] for d in like.describe()] == [*like.term_names, "NA62 K+->pi+X(invisible)"]


@pytest.mark.parametrize("overrides, key, problem, fix", [
    ({"R_MiniBoone window": {"enabled": False}}, None, "unknown observable or term", "Did you mean 'R_MiniBooNE"),
    ({"R_MiniBooNE window": {"enable": False}}, "enable", "unknown term setting 'enable'", "Did you mean 'enabled'"),
    ({"R_MiniBooNE window": {"kind": "intervall"}}, "kind", "unknown term kind 'intervall'", "'interval'"),
    ({"R_MiniBooNE window": {"enabled": "no"}}, "enabled", "a string ('no')", "true or false"),
    ({"R_MiniBooNE window": {"cl": 1.5}}, "cl", "<= 1, got 1.5", "fraction"),
    ({"R_MiniBooNE window": {"error": -1.0}}, "error", ">= 0, got -1", ">= 0"),
    ({"R_MiniBooNE window": {"low": float("nan")}}, "low", "finite", "finite"),
    ({"R_MiniBooNE window": {"high": True}}, "high", "a boolean (true)", "plain number"),
    ({"R_MiniBooNE window": 3}, None, "must be a mapping", "{enabled: false}"),
])
def test_override_errors_carry_term_key_value_and_fix(overrides, key, problem, fix):
    """The one check of term overrides (the run-file layer reads these attributes to point at the key)."""
    with pytest.raises(TermOverrideError) as info:
        JointLikelihood.from_config("2023", "cuts", overrides=overrides)
    err = info.value
    (name, given), = overrides.items()
    assert err.term == name and err.key == key
    assert err.value is (given if key is None else given[key])  # the object given, as given
    assert problem in err.problem and fix in err.fix
    assert isinstance(err, LikelihoodConfigError)


def test_check_overrides_normalises_numbers():
    out = check_overrides({"BR(B0->K*0nunu)": {"limit": 2, "cl": np.float64(0.9), "enabled": False}},
                          ["BR(B0->K*0nunu)"], "2023")
    assert out == {"BR(B0->K*0nunu)": {"limit": 2.0, "cl": 0.9, "enabled": False}}
    assert type(out["BR(B0->K*0nunu)"]["limit"]) is float
