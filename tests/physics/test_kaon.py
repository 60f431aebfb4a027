"""K -> pi S and K+ -> mu+ nu S against docs/physics/flavour.md §4.2, §10 and the §7 benchmark table."""

from __future__ import annotations

import numpy as np
import pytest
from refcheck import assert_refs
from scipy import integrate

from physics.benchmarks import all_benchmarks
from physics.constants import CONST, load_sm_predictions
from physics.couplings import eta_c_cancellation_ratio, g_sd
from physics.decays import s_widths
from physics.kaon import (
    KLConvention,
    br_K_to_munu_S,
    br_KL_to_pi0_S,
    br_Kp_to_pip_S,
    br_KS_to_pi0_S,
    f0_Kpi,
    kmunus_msq_t_integrated,
)

SM = load_sm_predictions()


@pytest.fixture(scope="module")
def bp():
    p = all_benchmarks()
    return p, g_sd(p.eta_t, p.eta_c), s_widths(p)


def test_handy_coefficients_mS_to_zero() -> None:
    """docs/physics/flavour.md §10: B(K+ -> pi+ S) = 1.113e15 |g_sd|^2, B(K_L -> pi0 S) = 4.81e15 (Re g_sd)^2,
    B(K_S -> pi0 S) = 8.42e12 (Im g_sd)^2 (m_S -> 0)."""
    assert br_Kp_to_pip_S(1.0, 0.0) == pytest.approx(1.113e15, rel=0.01)
    assert br_KL_to_pi0_S(1.0, 0.0) == pytest.approx(4.81e15, rel=0.01)
    assert br_KS_to_pi0_S(1.0j, 0.0) == pytest.approx(8.42e12, rel=0.01)
    assert br_KL_to_pi0_S(1.0j, 0.0) == 0.0  # purely imaginary coupling: no CP-conserving K_L amplitude
    assert br_KS_to_pi0_S(1.0, 0.0) == 0.0
    assert f0_Kpi(0.01) == 1.0


def test_kp_to_pip_s_at_benchmarks(bp) -> None:
    """docs/physics/flavour.md §7 rows B(K+ -> pi+ S) and B(K+ -> pi+ nu nu) = 8.4e-11 (SM) + NP (prediction)."""
    p, gs, w = bp
    kp = br_Kp_to_pip_S(gs, p.m_S)
    assert_refs(kp, ["8.59e-09", "2.86e-08", "1.89e-08", "9.86e-09", "4.32e-08", "8.63e-09", "1.10e-08"])
    total = SM["BR(K+->pi+nunu)"].value + kp * w.br_nunu
    assert_refs(total, ["7.88e-09", "8.23e-09", "9.63e-09", "8.32e-09", "7.59e-09", "8.71e-09", "1.10e-08"])


@pytest.mark.parametrize(
    ("convention", "refs"),
    [
        # docs/physics/flavour.md §4.2 table; "re" has 2 significant figures for BP2, BP3, BP5 (rounding tolerance)
        ("re", ["2.31e-9", "6.4e-11", "5.3e-10", "2.35e-9", "4.3e-10", "2.55e-9", "3.75e-9"]),
        ("im", ["3.15e-8", "3.53e-8", "4.08e-8", "3.33e-8", "3.22e-8", "3.48e-8", "4.38e-8"]),
        ("abs", ["3.37e-8", "3.53e-8", "4.13e-8", "3.56e-8", "3.26e-8", "3.73e-8", "4.75e-8"]),
    ],
)
def test_kl_three_conventions(bp, convention: KLConvention, refs: list[str]) -> None:
    """K_L -> pi0 nu nu = 3.4e-11 (SM) + B(K_L -> pi0 S) BR_nunu; only "re" passes KOTO (< 4.9e-9)."""
    p, gs, w = bp
    total = SM["BR(KL->pi0nunu)"].value + br_KL_to_pi0_S(gs, p.m_S, convention=convention) * w.br_nunu
    assert_refs(total, refs)
    if convention == "re":
        assert np.all(total < 4.9e-9)
    else:
        assert np.all(total > 4.9e-9)


def test_kl_convention_is_validated() -> None:
    with pytest.raises(ValueError, match="convention"):
        br_KL_to_pi0_S(1.0, 0.05, convention="real")  # type: ignore[arg-type]


def test_k_to_pi_gammagamma_and_ee_at_benchmarks(bp) -> None:
    """docs/physics/flavour.md §7 rows (2 significant figures: rounding tolerance): K_L/K_S/K+ -> pi gamma gamma NP and
    K_L -> pi0 ee NP; all below their limits."""
    p, gs, w = bp
    kl = br_KL_to_pi0_S(gs, p.m_S)
    ks = br_KS_to_pi0_S(gs, p.m_S)
    kp = br_Kp_to_pip_S(gs, p.m_S)
    assert_refs((kl * w.br_gg)[:5], ["2.3e-10", "7.4e-11", "4.8e-10", "4.6e-10", "1.9e-09"])
    assert_refs((ks * w.br_gg)[:5], ["5.6e-12", "1.6e-10", "7.0e-11", "1.2e-11", "2.7e-10"])
    assert_refs((kp * w.br_gg)[:5], ["7.9e-10", "2.0e-08", "9.3e-09", "1.6e-09", "3.6e-08"])
    assert np.all((kl * w.br_gg)[5:] == 0.0) and np.all((kp * w.br_gg)[5:] == 0.0)  # kappa = 0
    assert_refs(kl * w.br_ee, ["1.1e-13", "7.4e-14", "5.8e-14", "3.1e-13", "2.3e-12", "1.8e-12", "8.0e-12"])
    assert np.all(kl * w.br_gg < 1.273e-6)
    assert np.all(ks * w.br_gg < 4.9e-8)
    assert np.all(kp * w.br_gg < 1.01e-6)


def test_re_cancellation_kills_kl_only() -> None:
    """At eta_c/eta_t = -27.3 (docs/physics/flavour.md §0) K_L -> pi0 S vanishes while K+ -> pi+ S and K_S stay
    finite."""
    eta_t = np.array([0.005, 0.013])
    g = g_sd(eta_t, eta_c_cancellation_ratio() * eta_t)
    kl = br_KL_to_pi0_S(g, 0.05)
    kp = br_Kp_to_pip_S(g, 0.05)
    assert np.all(kl < 1e-20 * kp)
    assert np.all(br_KS_to_pi0_S(g, 0.05) > 0.0)


def test_closed_channel_gives_zero() -> None:
    assert br_Kp_to_pip_S(1.0, 0.4) == 0.0
    assert br_KL_to_pi0_S(1.0, 0.4) == 0.0


# ---------------------------------------------------------------------------- K+ -> mu+ nu S

def test_k_munu_s_reference_values() -> None:
    """docs/physics/flavour.md §4.2 and §10: 1.31e-9, 1.22e-9, 1.13e-9 times eta_d^2 at m_S = 141, 145, 150 MeV
    (1 %)."""
    out = br_K_to_munu_S(1.0, np.array([0.141, 0.145, 0.150]))
    assert out == pytest.approx([1.31e-9, 1.22e-9, 1.13e-9], rel=0.01)
    assert br_K_to_munu_S(0.5, 0.145) == pytest.approx(0.25 * out[1], rel=1e-12)


def test_k_munu_s_broadcast_and_closed() -> None:
    eta = np.array([0.2, 1.4, 0.9])
    m_S = np.array([0.141, 0.15, 0.5])
    out = br_K_to_munu_S(eta, m_S)
    assert out.shape == (3,)
    assert out[2] == 0.0  # m_S > m_K - m_mu
    assert np.all(np.isfinite(out))
    assert np.ndim(br_K_to_munu_S(1.0, 0.145)) == 0


def test_k_munu_s_grid_converged() -> None:
    """The 32-node Gauss-Legendre s-grid agrees with a 256-node one to 1e-6 over m_S in [0.01, 0.15] GeV."""
    m_S = np.linspace(0.01, 0.15, 15)
    assert br_K_to_munu_S(1.0, m_S) == pytest.approx(br_K_to_munu_S(1.0, m_S, nodes=256), rel=1e-6)


def _doc_msq(s: float, t: float, m_S: float) -> float:
    """sum|M|^2/(C y)^2 in the form printed in docs/physics/flavour.md §4.2:
    8 [2 (P.p_nu)(P.X) - m_K^2 (p_nu.X)] / (s - m_mu^2)^2, X = (m_mu^2 - s) p_mu + 2 (m_mu^2 + q.p_mu) q."""
    m2, mK2, mS2 = CONST.m_mu**2, CONST.m_Kp**2, m_S**2
    u = mK2 + m2 + mS2 - s - t
    pmu_k, pnu_k, pnu_pmu = (s - m2 - mS2) / 2, (t - mS2) / 2, (u - m2) / 2
    q_pmu = m2 + pmu_k
    P_pnu = pnu_pmu + pnu_k
    P_pmu = pnu_pmu + m2 + pmu_k
    P_q = P_pmu + pnu_k + pmu_k + mS2
    pnu_q = pnu_pmu + pnu_k
    P_X = (m2 - s) * P_pmu + 2 * (m2 + q_pmu) * P_q
    pnu_X = (m2 - s) * pnu_pmu + 2 * (m2 + q_pmu) * pnu_q
    return 8 * (2 * P_pnu * P_X - mK2 * pnu_X) / (s - m2) ** 2


def test_k_munu_s_against_independent_dalitz_integral() -> None:
    """Brute-force 2-D adaptive integral of the doc's |M|^2 over the Dalitz region, normalised as in §4.2."""
    m_S, m_mu, m_K = 0.145, CONST.m_mu, CONST.m_Kp

    def t_range(s: float) -> tuple[float, float]:
        e_S = (s - m_mu**2 + m_S**2) / (2 * np.sqrt(s))
        e_nu = (m_K**2 - s) / (2 * np.sqrt(s))
        p_S = np.sqrt(e_S**2 - m_S**2)
        return (e_S + e_nu) ** 2 - (p_S + e_nu) ** 2, (e_S + e_nu) ** 2 - (p_S - e_nu) ** 2

    for s in (0.07, 0.15):  # the t-integrated kernel equals the doc's |M|^2 integrated over t
        lo, hi = t_range(s)
        ref = integrate.quad(lambda t, s=s: _doc_msq(s, t, m_S), lo, hi)[0]
        assert kmunus_msq_t_integrated(np.array(s), np.array(m_S)) == pytest.approx(ref, rel=1e-10)
    val = integrate.dblquad(lambda t, s: _doc_msq(s, t, m_S), (m_mu + m_S) ** 2, m_K**2,
                            lambda s: t_range(s)[0], lambda s: t_range(s)[1], epsrel=1e-8)[0]
    gamma3 = val / ((2 * np.pi) ** 3 * 32 * m_K**3)
    gamma2 = m_mu**2 * m_K * (1 - m_mu**2 / m_K**2) ** 2 / (4 * np.pi)
    expected = CONST.BR_Kmunu * (m_mu / CONST.v) ** 2 * gamma3 / gamma2
    assert br_K_to_munu_S(1.0, m_S) == pytest.approx(expected, rel=1e-6)


def test_kmunuee_region_is_inclusive_at_140_mev() -> None:
    """NA48/2's K+ -> mu+ nu e+e- region is m_ee >= 140 MeV (inclusive; docs/physics/flavour.md §4.2): a
    scalar of exactly 140 MeV contributes, one just below does not."""
    import physics

    base = dict(physics.benchmarks.benchmark_table()["BP5"])
    name = "BR(K+->mu+nuee)[mee>140]"
    at = physics.predict(physics.ModelParams.from_paper_units({**base, "m_S": 140.0}), (name,))[name].np
    below = physics.predict(physics.ModelParams.from_paper_units({**base, "m_S": 139.999}), (name,))[name].np
    assert at[0] > 0.0 and below[0] == 0.0
