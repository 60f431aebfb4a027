"""CKM matrix and the FCNC couplings g_bs, g_sd against docs/physics/flavour.md §1, §4.2 and the §7 table."""

from __future__ import annotations

import numpy as np
import pytest
from refcheck import assert_refs, ref_tol

from physics.benchmarks import all_benchmarks
from physics.ckm import Wolfenstein, ckm_element, ckm_matrix, lambda_c_sd, lambda_t_bs, lambda_t_sd
from physics.couplings import eta_c_cancellation_ratio, g_bs, g_sd

# docs/physics/flavour.md §7 table (PDG 2022 CKM, pole m_t, m_c(m_c)); Re g_sd of BP2, BP3 have 2 significant figures
ABS_G_BS = ["3.52e-08", "6.78e-08", "5.48e-08", "3.78e-08", "8.54e-08", "3.52e-08", "4.11e-08"]
RE_G_SD = ["-7.24e-13", "-1.5e-13", "4.6e-13", "-7.62e-13", "-7.22e-13", "-7.24e-13", "-9.15e-13"]
IM_G_SD = ["-2.69e-12", "-5.19e-12", "-4.19e-12", "-2.89e-12", "-6.53e-12", "-2.69e-12", "-3.14e-12"]


def test_ref_tol_helper() -> None:
    assert ref_tol("1.43e-05") == pytest.approx((1.43e-5, 1.43e-7))
    assert ref_tol("6.4e-11") == pytest.approx((6.4e-11, 0.05e-11 + 0.064e-11))
    assert ref_tol("0.092") == pytest.approx((0.092, 0.0005 + 0.00092))


def test_ckm_is_unitary() -> None:
    V = ckm_matrix()
    assert np.allclose(V @ V.conj().T, np.eye(3), atol=1e-14)


def test_ckm_reproduces_wolfenstein_definitions() -> None:
    """PDG 2022 eq. 12.4: lambda = |V_us|/sqrt(|V_ud|^2+|V_us|^2), A lambda^2 = lambda |V_cb/V_us|,
    rhobar + i etabar = -V_ud V_ub^* / (V_cd V_cb^*), exactly (the 'exact standard parametrisation')."""
    w = Wolfenstein(0.225, 0.826, 0.159, 0.348)
    V = ckm_matrix(w)
    lam = abs(V[0, 1]) / np.hypot(abs(V[0, 0]), abs(V[0, 1]))
    assert lam == pytest.approx(w.lam, rel=1e-12)
    assert lam * abs(V[1, 2] / V[0, 1]) == pytest.approx(w.A * w.lam**2, rel=1e-12)
    rho_eta = -V[0, 0] * np.conj(V[0, 2]) / (V[1, 0] * np.conj(V[1, 2]))
    assert rho_eta.real == pytest.approx(w.rhobar, rel=1e-12)
    assert rho_eta.imag == pytest.approx(w.etabar, rel=1e-12)


def test_ckm_products_match_flavour_md() -> None:
    """docs/physics/flavour.md §1: |V_tb V_ts^*| = 0.04106, V_ts V_td^* = -3.228e-4 - 1.404e-4 i,
    V_cs V_cd^* = -0.21890 + 1.40e-4 i (1 %)."""
    assert abs(lambda_t_bs()) == pytest.approx(0.04106, rel=0.01)
    assert lambda_t_sd().real == pytest.approx(-3.228e-4, rel=0.01)
    assert lambda_t_sd().imag == pytest.approx(-1.404e-4, rel=0.01)
    assert lambda_c_sd().real == pytest.approx(-0.21890, rel=0.01)
    assert lambda_c_sd().imag == pytest.approx(1.40e-4, rel=0.01)
    assert ckm_element("us") == pytest.approx(ckm_matrix()[0, 1])
    with pytest.raises(KeyError):
        ckm_element("bt")


def test_coupling_coefficients() -> None:
    """docs/physics/flavour.md §1: |g_bs| = 6.52e-6 eta_t;
    g_sd = eta_t (-1.145e-9 - 4.98e-10 i) + eta_c (-4.20e-11 + 2.7e-14 i)."""
    assert abs(g_bs(1.0)) == pytest.approx(6.52e-6, rel=0.01)
    top = complex(g_sd(1.0, 0.0))
    charm = complex(g_sd(0.0, 1.0))
    assert top.real == pytest.approx(-1.145e-9, rel=0.01)
    assert top.imag == pytest.approx(-4.98e-10, rel=0.01)
    assert charm.real == pytest.approx(-4.20e-11, rel=0.01)
    assert charm.imag == pytest.approx(2.7e-14, abs=0.05e-14)  # 2 significant figures: rounding


def test_g_sd_is_dimensionless_with_one_over_v() -> None:
    """Eq. (6) as printed lacks 1/v (docs/physics/flavour.md §0); with it, g_sd/g_bs = (m_s/m_b) x the CKM ratio."""
    ratio = g_sd(1.0, 0.0) / g_bs(1.0)
    assert abs(ratio) == pytest.approx(93.4e-3 / 4.18 * abs(lambda_t_sd() / lambda_t_bs()), rel=1e-12)


def test_couplings_at_benchmarks() -> None:
    p = all_benchmarks()
    gb = g_bs(p.eta_t)
    gs = g_sd(p.eta_t, p.eta_c)
    assert gb.shape == gs.shape == (7,)
    assert gb.dtype == gs.dtype == np.complex128
    assert_refs(np.abs(gb), ABS_G_BS)
    assert_refs(gs.real, RE_G_SD)
    assert_refs(gs.imag, IM_G_SD)


def test_eta_c_cancellation_of_re_g_sd() -> None:
    """docs/physics/flavour.md §0: Re g_sd = 0 at eta_c/eta_t = -27.3; Im g_sd stays ~ eta_t x 5e-10 (not small)."""
    r = eta_c_cancellation_ratio()
    assert r == pytest.approx(-27.3, rel=0.01)
    eta_t = np.array([0.005, 0.01])
    g = g_sd(eta_t, r * eta_t)
    assert np.all(np.abs(g.real) < 1e-12 * np.abs(g.imag))
    assert np.abs(g.imag) == pytest.approx(eta_t * 5.0e-10, rel=0.02)


def test_cancellation_ratio_depends_on_ckm_inputs() -> None:
    """docs/physics/flavour.md §0: CKMfitter gives -26.5, UTfit -27.5 (approximate fit values; 1 %, 3 figures
    quoted)."""
    ckmfitter = Wolfenstein(0.22500, 0.8132, 0.1566, 0.3475)
    utfit = Wolfenstein(0.22519, 0.828, 0.160, 0.346)
    assert eta_c_cancellation_ratio(ckmfitter) == pytest.approx(-26.5, rel=0.01)
    assert eta_c_cancellation_ratio(utfit) == pytest.approx(-27.5, rel=0.01)


def test_couplings_broadcast() -> None:
    eta_t = np.linspace(0.0, 0.02, 5)
    assert g_sd(eta_t, -0.1).shape == (5,)
    assert g_bs(eta_t).shape == (5,)
    assert g_bs(0.0) == 0.0
