"""B-meson observables of the dark scalar: B -> K(*) S and B_s decays through an off-shell S.

Source: docs/physics/flavour.md §4.1 (B -> K(*) S) and §4.3 (B_s -> mu mu, gamma gamma, nu nubar), with the factor 1/4
in every rate from the chiral projector of L_FCNC = g_bs sbar P_R b S (docs/physics/README.md item 3).
Form factors: f_0^{B->K} of Ball-Zwicky (hep-ph/0406232) and A_0^{B->K*} of Bharucha-Straub-Zwicky
(arXiv:1503.05534, LCSR fit). All inputs in GeV units; g_bs is the complex coupling of physics.couplings.
Outputs are branching fractions (dimensionless). Every function broadcasts over numpy arrays; the formulas
marked ``physics.jit.shared`` (each rate per unit |g_bs|^2 as a function of m_S) are also the ones the compiled
kernel (physics.kernel) calls.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from physics.constants import CONST, VALUES
from physics.jit import shared, sqrt_pos

FloatArray = NDArray[np.float64]
BS_NUNU_MODES: tuple[str, ...] = ("light", "all", "invisible")


@shared
def kallen(a: FloatArray | float, b: FloatArray | float, c: FloatArray | float) -> FloatArray:
    """Källén function lambda(a, b, c) = a^2 + b^2 + c^2 - 2ab - 2ac - 2bc = (a - b - c)^2 - 4bc (arguments in
    GeV^2 -> GeV^4; the second form, with a and b the fixed masses, is what is computed)."""
    return (a - b - c) ** 2 - 4.0 * b * c  # type: ignore[return-value]


@shared
def _width_to_br(width: FloatArray, tau_s: float) -> FloatArray:
    """Branching fraction Gamma tau / hbar (Gamma in GeV, tau in s)."""
    return width * (tau_s / VALUES.hbar)


# ---------------------------------------------------------------------------- form factors

@shared
def f0_BK(q2: FloatArray | float) -> FloatArray:
    """Scalar form factor f_0^{B->K}(q^2) = f_0(0) / (1 - q^2/m_fit^2).

    Ball-Zwicky hep-ph/0406232, pole fit (f_0(0) = 0.330, m_fit^2 = 37.46 GeV^2; docs/physics/flavour.md §2).
    q2 [GeV^2] -> dimensionless.
    """
    return VALUES.f0_BK_0 / (1.0 - q2 * (1.0 / VALUES.f0_BK_mfit))


@shared
def z_BKst(q2: FloatArray | float) -> FloatArray:
    """BSZ conformal variable z(q^2) = [sqrt(t+ - q^2) - sqrt(t+ - t0)] / [sqrt(t+ - q^2) + sqrt(t+ - t0)].

    t+- = (m_B0 +- m_K*0)^2 and t0 = t+ (1 - sqrt(1 - t-/t+)) (arXiv:1503.05534 §2.5, as in flavio).
    q2 [GeV^2] -> dimensionless.
    """
    t_plus = (VALUES.m_B0 + VALUES.m_Kst0) ** 2
    t_minus = (VALUES.m_B0 - VALUES.m_Kst0) ** 2
    t_0 = t_plus * (1.0 - np.sqrt(1.0 - t_minus / t_plus))
    a = np.sqrt(t_plus - q2)
    b = np.sqrt(t_plus - t_0)
    return (a - b) / (a + b)


@shared
def A0_BKst(q2: FloatArray | float) -> FloatArray:
    """A_0^{B->K*}(q^2) = [a0 + a1 (z(q^2) - z(0))] / (1 - q^2/m_R^2), BSZ expansion to first order.

    Bharucha-Straub-Zwicky arXiv:1503.05534 eq. (11), LCSR coefficients a0 = 0.3559, a1 = -1.044,
    m_R = m_Bs(0-) = 5.367 GeV (docs/physics/flavour.md §2). The second-order term is below 1e-5 at q^2 <= 0.0225 GeV^2.
    q2 [GeV^2] -> dimensionless.
    """
    dz = z_BKst(q2) - z_BKst(0.0)
    return (VALUES.A0_BKst_a0 + VALUES.A0_BKst_a1 * dz) / (1.0 - q2 * (1.0 / VALUES.A0_BKst_mR**2))


# ---------------------------------------------------------------------------- B -> K(*) S

_K_CHANNELS = {"+": ("m_Bp", "m_Kp", "tau_Bp"), "0": ("m_B0", "m_K0", "tau_B0")}
_KST_CHANNELS = {"+": ("m_Bp", "m_Kstp", "tau_Bp"), "0": ("m_B0", "m_Kst0", "tau_B0")}


def _channel(table: dict[str, tuple[str, str, str]], charge: str) -> tuple[float, float, float]:
    if charge not in table:
        raise ValueError(f"charge must be one of {sorted(table)}, got {charge!r}")
    m_B, m_K, tau = table[charge]
    return CONST[m_B], CONST[m_K], CONST[tau]


@shared
def rate_B_to_K_S(m_S: FloatArray, m_B: float, m_K: float, tau: float) -> FloatArray:
    """B(B -> K S) / |g_bs|^2 for a channel of masses m_B, m_K [GeV] and B lifetime tau [s] (formula in
    :func:`br_B_to_K_S`)."""
    q2 = m_S**2
    me = (m_B**2 - m_K**2) / (VALUES.m_b - VALUES.m_s)
    width = (me**2 / (64.0 * np.pi * m_B**3)) * f0_BK(q2) ** 2 * sqrt_pos(kallen(m_B**2, m_K**2, q2))
    return _width_to_br(width, tau)


@shared
def rate_B_to_Kstar_S(m_S: FloatArray, m_B: float, m_V: float, tau: float) -> FloatArray:
    """B(B -> K* S) / |g_bs|^2 for a channel of masses m_B, m_K* [GeV] and B lifetime tau [s] (formula in
    :func:`br_B_to_Kstar_S`)."""
    q2 = m_S**2
    lam = sqrt_pos(kallen(m_B**2, m_V**2, q2))
    width = (1.0 / (64.0 * np.pi * m_B**3 * (VALUES.m_b + VALUES.m_s) ** 2)) * A0_BKst(q2) ** 2 * lam**3
    return _width_to_br(width, tau)


def br_B_to_K_S(g_bs: ArrayLike, m_S: ArrayLike, charge: str = "+") -> FloatArray:
    """B(B -> K S) for B+ -> K+ S (charge "+") or B0 -> K0 S ("0").

    Gamma = |g_bs|^2 / (64 pi m_B^3) [(m_B^2 - m_K^2)/(m_b - m_s)]^2 f_0(m_S^2)^2
            x lambda^{1/2}(m_B^2, m_K^2, m_S^2)
    (docs/physics/flavour.md §4.1; the 1/4 of P_R is included). g_bs complex, m_S [GeV] -> branching fraction.
    m_S -> 0: B(B+ -> K+ S) = 1.157e10 |g_bs|^2 (docs/physics/flavour.md §10).
    """
    m_B, m_K, tau = _channel(_K_CHANNELS, charge)
    g2 = np.abs(np.asarray(g_bs)) ** 2
    return np.asarray(g2 * rate_B_to_K_S(np.asarray(m_S, dtype=float), m_B, m_K, tau), dtype=float)


def br_B_to_Kstar_S(g_bs: ArrayLike, m_S: ArrayLike, charge: str = "0") -> FloatArray:
    """B(B -> K* S) for B0 -> K*0 S (charge "0") or B+ -> K*+ S ("+").

    Gamma = |g_bs|^2 / (64 pi m_B^3) A_0(m_S^2)^2 lambda^{3/2}(m_B^2, m_K*^2, m_S^2) / (m_b + m_s)^2
    (docs/physics/flavour.md §4.1; 1/4 of P_R included; sum over K* polarisations |eps*.q|^2 = lambda/(4 m_K*^2)).
    The same A_0 (B0 -> K*0 BSZ fit) serves both charges (isospin). g_bs complex, m_S [GeV] -> BR.
    m_S -> 0: B(B0 -> K*0 S) = 1.073e10 |g_bs|^2 (docs/physics/flavour.md §10).
    """
    m_B, m_V, tau = _channel(_KST_CHANNELS, charge)
    g2 = np.abs(np.asarray(g_bs)) ** 2
    return np.asarray(g2 * rate_B_to_Kstar_S(np.asarray(m_S, dtype=float), m_B, m_V, tau), dtype=float)


# ---------------------------------------------------------------------------- B_s through off-shell S

@shared
def bs_amp2(m_S: FloatArray) -> FloatArray:
    """|A|^2 / |g_bs|^2 = f_Bs^2 m_Bs^4 / [4 (m_b + m_s)^2 (m_Bs^2 - m_S^2)^2] (docs/physics/flavour.md §4.3), GeV^0.

    Amplitude for B_s -> S* per unit S coupling to the final state, with the 1/2 of P_R
    (only the gamma5 half has a B_s -> vacuum matrix element).
    """
    m_Bs = VALUES.m_Bs
    return (VALUES.f_Bs**2 * m_Bs**4 / (4.0 * (VALUES.m_b + VALUES.m_s) ** 2)) / (m_Bs**2 - m_S**2) ** 2


def _bs_amp2(g_bs: ArrayLike, m_S: ArrayLike) -> FloatArray:
    """|A|^2 of :func:`bs_amp2` with the coupling |g_bs|^2."""
    return np.asarray(np.abs(np.asarray(g_bs)) ** 2 * bs_amp2(np.asarray(m_S, dtype=float)), dtype=float)


@shared
def rate_Bs_mumu_S(y_mu: FloatArray, m_S: FloatArray) -> FloatArray:
    """B(B_s -> mu mu)_S / |g_bs|^2 at the muon Yukawa y_mu = eta_d m_mu / v (formula in :func:`br_Bs_mumu_S`)."""
    m_Bs = VALUES.m_Bs
    beta = np.sqrt(1.0 - 4.0 * VALUES.m_mu**2 / m_Bs**2)
    return _width_to_br(bs_amp2(m_S) * y_mu**2 * (m_Bs * beta**3 / (8.0 * np.pi)), VALUES.tau_Bs)


@shared
def rate_Bs_gammagamma_S(kappa: FloatArray, m_S: FloatArray) -> FloatArray:
    """B(B_s -> gamma gamma)_S / |g_bs|^2 (formula in :func:`br_Bs_gammagamma_S`); kappa [GeV^-1]."""
    return _width_to_br(bs_amp2(m_S) * kappa**2 * (VALUES.m_Bs**3 / (64.0 * np.pi)), VALUES.tau_Bs)


def br_Bs_mumu_S(g_bs: ArrayLike, eta_d: ArrayLike, m_S: ArrayLike) -> FloatArray:
    """S-exchange part of B(B_s -> mu+ mu-); it does not interfere with the SM (docs/physics/flavour.md §4.3).

    Gamma = |g_bs|^2 f_Bs^2 m_Bs^5 y_mu^2 beta_mu^3 / [32 pi (m_b + m_s)^2 (m_Bs^2 - m_S^2)^2],
    y_mu = eta_d m_mu / v. m_S -> 0: 65.9 |g_bs|^2 eta_d^2 (docs/physics/flavour.md §10). m_S [GeV] -> BR.
    """
    y_mu = np.asarray(eta_d, dtype=float) * CONST.m_mu / CONST.v
    g2 = np.abs(np.asarray(g_bs)) ** 2
    return np.asarray(g2 * rate_Bs_mumu_S(y_mu, np.asarray(m_S, dtype=float)), dtype=float)


def br_Bs_gammagamma_S(g_bs: ArrayLike, kappa: ArrayLike, m_S: ArrayLike) -> FloatArray:
    """S-exchange part of B(B_s -> gamma gamma) through L = -(kappa/4) S F F (docs/physics/flavour.md §4.3).

    Gamma = |g_bs|^2 f_Bs^2 kappa^2 m_Bs^7 / [256 pi (m_b + m_s)^2 (m_Bs^2 - m_S^2)^2].
    kappa [GeV^-1], m_S [GeV] -> BR; m_S -> 0: 1.29e9 |g_bs|^2 kappa^2 (docs/physics/flavour.md §10).
    """
    g2 = np.abs(np.asarray(g_bs)) ** 2
    return np.asarray(g2 * rate_Bs_gammagamma_S(np.asarray(kappa, dtype=float), np.asarray(m_S, dtype=float)),
                      dtype=float)


def _bs_to_pair(amp2: FloatArray, m1: ArrayLike, m2: ArrayLike) -> FloatArray:
    """Gamma(B_s -> f1 fbar2) / (coupling^2) = |A|^2 4(p1.p2 - m1 m2) p_cm / (8 pi m_Bs^2), GeV.

    Scalar coupling to a Dirac pair (docs/physics/flavour.md §4.3); 4(p1.p2 - m1 m2) = 2 [M^2 - (m1 + m2)^2].
    Zero if closed.
    """
    M = CONST.m_Bs
    m1 = np.asarray(m1, dtype=float)
    m2 = np.asarray(m2, dtype=float)
    trace = np.clip(2.0 * (M**2 - (m1 + m2) ** 2), 0.0, None)
    p_cm = sqrt_pos(kallen(M**2, m1**2, m2**2)) / (2.0 * M)
    return np.asarray(amp2 * trace * p_cm / (8.0 * np.pi * M**2), dtype=float)


def br_Bs_nunu(g_bs: ArrayLike, g_D: ArrayLike, U_mu4: ArrayLike, m_S: ArrayLike, m_nu4: ArrayLike,
               br_nunu: ArrayLike, mode: str = "light") -> FloatArray:
    """B(B_s -> S* -> neutrinos) in one of three readings (docs/physics/flavour.md §4.3; prediction only).

    The S coupling to mass eigenstates is g_D U_Di U_Dj with sum_{i<=3} U_Di^2 = |U_mu4|^2 and
    U_D4^2 = 1 - |U_mu4|^2 (paper, below eq. 3). With G_ab the summed width to the pairs (a, b):
      "light":     G_ll                                   (light nu only, ~ |U_mu4|^4)
      "all":       G_ll + G_l4 + G_44                     (every nu_D nubar_D pair)
      "invisible": G_ll + G_l4 BR_nunu + G_44 BR_nunu^2   (nu4 -> nu S, then S -> nu nubar)
    with br_nunu = B(S -> nu nubar) and B(nu4 -> nu S) = 1.
    g_D, U_mu4 = |U_mu4|, m_S and m_nu4 [GeV], br_nunu arrays (broadcast) -> BR.
    Massless limit of "all": 3.58e8 |g_bs|^2 g_D^2.
    """
    if mode not in BS_NUNU_MODES:
        raise ValueError(f"mode must be 'light', 'all' or 'invisible', got {mode!r}")
    amp2 = _bs_amp2(g_bs, m_S) * np.asarray(g_D, dtype=float) ** 2
    u2 = np.asarray(U_mu4, dtype=float) ** 2
    m4 = np.asarray(m_nu4, dtype=float)
    g_ll = u2**2 * _bs_to_pair(amp2, 0.0, 0.0)
    if mode == "light":
        return _width_to_br(g_ll, CONST.tau_Bs)
    g_l4 = 2.0 * u2 * (1.0 - u2) * _bs_to_pair(amp2, 0.0, m4)  # nu_i nubar_4 and nu_4 nubar_i
    g_44 = (1.0 - u2) ** 2 * _bs_to_pair(amp2, m4, m4)
    if mode == "all":
        return _width_to_br(g_ll + g_l4 + g_44, CONST.tau_Bs)
    b = np.asarray(br_nunu, dtype=float)
    return _width_to_br(g_ll + g_l4 * b + g_44 * b**2, CONST.tau_Bs)
