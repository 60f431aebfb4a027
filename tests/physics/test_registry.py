"""The observable registry: every name computes, vectorised, finite on the prior box, with metadata."""

import numpy as np
import pytest

from physics import (
    REGISTRY,
    ModelParams,
    TheoryOptions,
    all_benchmarks,
    domain_violations,
    in_domain,
    predict,
)
from physics.params import PARAM_NAMES

TABLE_I = [
    "BR(B+->K+nunu)", "BR(B0->K*0nunu)", "BR(B+->K*+nunu)", "BR(B0->K*0ee)[0.03,1]", "BR(Bs->gammagamma)",
    "BR(Bs->mumu)", "BR(KL->pi0nunu)", "BR(KL->pi0ee)", "BR(KL->pi0gammagamma)", "BR(KS->pi0gammagamma)",
    "BR(K+->pi+gammagamma)", "BR(K+->mu+nuee)[mee>140]", "DeltaM_Bs", "DeltaM_K", "Delta_a_mu",
]
PREDICTIONS = ["BR(K+->pi+nunu)", "BR(Bs->invisible)", "BR(B+->K+S)", "BR(B0->K*0S)", "R_MiniBooNE",
               "R_CHARMII", "ctau_S", "Delta_a_e"]


def random_points(n: int, seed: int = 1) -> ModelParams:
    """Uniform draws over the paper's scan box (paper units)."""
    rng = np.random.default_rng(seed)
    box = {"kappa": (0, 2), "eta_d": (0, 1), "eta_c": (-0.5, 0), "eta_t": (0, 0.02), "g_D": (0, np.sqrt(4 * np.pi)),
           "U_mu4": (0, 0.006), "m_S": (10, 150), "m_nu4": (400, 700)}
    return ModelParams.from_paper_units({k: rng.uniform(lo, hi, n) for k, (lo, hi) in box.items()})


def test_every_table_i_row_and_prediction_is_registered():
    for name in TABLE_I + PREDICTIONS + list(PARAM_NAMES):
        assert name in REGISTRY, name
    for obs in REGISTRY.values():
        assert obs.unit and obs.latex and obs.source, obs.name


def test_sm_values_attached():
    assert REGISTRY["BR(B+->K+nunu)"].sm.value == pytest.approx(5.58e-6)
    assert REGISTRY["BR(KL->pi0gammagamma)"].sm is None
    pred = predict(all_benchmarks(), ["BR(B+->K+nunu)", "BR(KS->pi0gammagamma)"])
    kp = pred["BR(B+->K+nunu)"]
    np.testing.assert_allclose(kp.total, kp.np + 5.58e-6, rtol=1e-15)
    assert pred["BR(KS->pi0gammagamma)"].sm is None


def test_all_observables_finite_on_prior_box():
    p = random_points(500)
    assert in_domain(p).all()
    for name, pr in predict(p).items():
        assert pr.np.shape == (500,), name
        assert np.all(np.isfinite(pr.total)), name


def test_batch_equals_single_points():
    """Vectorisation: a batch gives exactly what the points give one by one."""
    p = random_points(5, seed=2)
    batch = predict(p)
    for i in range(5):
        single = predict(p.take([i]))
        for name in batch:
            np.testing.assert_allclose(single[name].np, batch[name].np[i : i + 1], rtol=1e-12, atol=0, err_msg=name)


def test_parameters_in_paper_units():
    pr = predict(all_benchmarks(), ["kappa", "m_S"])
    np.testing.assert_allclose(pr["kappa"].np[:2], [1.22, 0.60])
    np.testing.assert_allclose(pr["m_S"].np[:2], [38.0, 93.0])


def test_unknown_name_suggests():
    with pytest.raises(KeyError, match="did you mean 'BR\\(B\\+->K\\+nunu\\)'"):
        predict(all_benchmarks(), ["BR(B+->K+nunu"])


def test_kstar_ee_window_and_kmunuee_threshold():
    p = all_benchmarks()
    pr = predict(p, ["BR(B0->K*0ee)[0.03,1]", "BR(K+->mu+nuee)[mee>140]"])
    # BP6 has m_S = 24 MeV < 30 MeV: no NP in the LHCb window (docs/physics/flavour.md §4.1)
    assert pr["BR(B0->K*0ee)[0.03,1]"].np[5] == 0.0
    assert np.all(pr["BR(B0->K*0ee)[0.03,1]"].np[[0, 1, 2, 3, 4, 6]] > 0)
    # no BP has m_S > 140 MeV (docs/physics/flavour.md §4.2)
    assert np.all(pr["BR(K+->mu+nuee)[mee>140]"].np == 0.0)


def test_kl_convention_option():
    p = all_benchmarks()
    re = predict(p, ["BR(KL->pi0S)", "Re(g_sd)"])
    im = predict(p, ["BR(KL->pi0S)"], TheoryOptions(kl_convention="im"))
    ab = predict(p, ["BR(KL->pi0S)"], TheoryOptions(kl_convention="abs"))
    np.testing.assert_allclose(re["BR(KL->pi0S)"].np + im["BR(KL->pi0S)"].np, ab["BR(KL->pi0S)"].np, rtol=1e-12)


def test_domain_violations():
    p = ModelParams.from_paper_units({"kappa": [1, 1, 1], "eta_d": [0.2] * 3, "eta_c": [-0.1] * 3,
                                      "eta_t": [0.005] * 3, "g_D": [1, -1, 1], "U_mu4": [0.004] * 3,
                                      "m_S": [50, 50, 5], "m_nu4": [450, 450, 450]})
    v = domain_violations(p)
    assert v["g_D < 0"].tolist() == [False, True, False]
    assert v["m_S outside [10, 150] MeV (scattering tables)"].tolist() == [False, False, True]
    assert in_domain(p).tolist() == [True, False, False]


def test_domain_edges_are_inside():
    """The paper's range edges (10, 150 MeV; 400, 700 MeV) are inside despite 700e-3 != 0.7 in floating point."""
    p = ModelParams.from_paper_units({"kappa": [1, 1], "eta_d": [0.2] * 2, "eta_c": [-0.1] * 2, "eta_t": [0.005] * 2,
                                      "g_D": [1, 1], "U_mu4": [0.004] * 2, "m_S": [10, 150], "m_nu4": [400, 700]})
    assert in_domain(p).all()
    assert np.all(np.isfinite(predict(p, ["R_MiniBooNE", "R_CHARMII"])["R_MiniBooNE"].np))
