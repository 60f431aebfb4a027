"""Kaon observables of the dark scalar: K -> pi S (K+, K_L, K_S) and K+ -> mu+ nu S.

Source: docs/physics/flavour.md §4.2. K -> pi S comes from L_FCNC = g_sd dbar P_R s S + h.c. with the factor 1/4 of
P_R in the rate (docs/physics/README.md item 3); K+ goes with |g_sd|^2, K_L with (Re g_sd)^2 (CP-conserving
for a CP-even S; item 4), K_S with (Im g_sd)^2. K+ -> mu+ nu S is tree-level emission of S from the
muon line, normalised to the PDG B(K+ -> mu+ nu). Inputs in GeV units; outputs are branching fractions.
Every function broadcasts over numpy arrays; the ``physics.jit.shared`` ones (K -> pi S per unit coupling^2,
the Chebyshev form of K+ -> mu+ nu S) are also what the compiled kernel (physics.kernel) calls.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from physics.bmeson import kallen
from physics.constants import CONST, VALUES
from physics.jit import ENABLED, clear_stale_cache, jit, shared, sqrt_pos

if ENABLED:
    from physics import jit as _jit_module

    clear_stale_cache(__file__, [_jit_module.__file__])

FloatArray = NDArray[np.float64]
KLConvention = Literal["re", "im", "abs"]

# Gauss-Legendre nodes for the s-integration of K -> mu nu S (integrand smooth in log(s - m_mu^2);
# 32 nodes agree with 256 to 1e-6 relative over m_S in [0.01, 0.3] GeV; see tests/physics/test_kaon.py)
_KMUNUS_NODES = 32


@shared
def f0_Kpi(q2: FloatArray | float) -> FloatArray:
    """Scalar K -> pi form factor f_0^K(q^2), taken as the constant f0_Kpi = 1.

    Paper: "approximately unity" (ref. [60], Marciano-Parsa); docs/physics/flavour.md §2. q2 [GeV^2] -> dimensionless.
    """
    return VALUES.f0_Kpi + 0.0 * q2


@shared
def rate_K_to_pi_S(m_S: FloatArray, m_K: float, m_pi: float, tau: float) -> FloatArray:
    """B(K -> pi S) per unit squared coupling combination (|g_sd|^2, (Re g_sd)^2 or (Im g_sd)^2), for a channel
    of masses m_K, m_pi [GeV] and K lifetime tau [s]: Gamma tau / hbar with

    Gamma / g^2 = 1 / (64 pi m_K^3) [(m_K^2 - m_pi^2)/(m_s - m_d)]^2 f_0^K(m_S^2)^2
                  x lambda^{1/2}(m_K^2, m_pi^2, m_S^2)
    (docs/physics/flavour.md §4.2; the 1/4 of P_R is included; f_0^K of :func:`f0_Kpi`). m_S [GeV].
    Zero where the channel is closed.
    """
    me = (m_K**2 - m_pi**2) / (VALUES.m_s - VALUES.m_d)
    lam = kallen(m_K**2, m_pi**2, m_S**2)
    width = (me**2 / (64.0 * np.pi * m_K**3)) * f0_Kpi(m_S**2) ** 2 * sqrt_pos(lam)
    return width * (tau / VALUES.hbar)


def br_Kp_to_pip_S(g_sd: ArrayLike, m_S: ArrayLike) -> FloatArray:
    """B(K+ -> pi+ S), proportional to |g_sd|^2 (docs/physics/flavour.md §4.2).

    g_sd complex, m_S [GeV] -> BR; m_S -> 0: 1.113e15 |g_sd|^2 (docs/physics/flavour.md §10).
    """
    g2 = np.abs(np.asarray(g_sd)) ** 2
    return np.asarray(g2 * rate_K_to_pi_S(np.asarray(m_S, dtype=float), CONST.m_Kp, CONST.m_pip, CONST.tau_Kp),
                      dtype=float)


def br_KL_to_pi0_S(g_sd: ArrayLike, m_S: ArrayLike, convention: KLConvention = "re") -> FloatArray:
    """B(K_L -> pi0 S) with K_L ~ (K0 + K0bar)/sqrt2 (docs/physics/flavour.md §4.2).

    convention "re" (default, physical): (Re g_sd)^2 -- the scalar density is CP-even, so K_L -> pi0 S is
    CP-conserving; "im": (Im g_sd)^2 and "abs": |g_sd|^2 are for comparison only (docs/physics/flavour.md §4.2 table).
    Neutral masses m_K0, m_pi0 and tau_KL. g_sd complex, m_S [GeV] -> BR; m_S -> 0: 4.81e15 (Re g_sd)^2.
    """
    g = np.asarray(g_sd)
    if convention == "re":
        g2 = np.real(g) ** 2
    elif convention == "im":
        g2 = np.imag(g) ** 2
    elif convention == "abs":
        g2 = np.abs(g) ** 2
    else:
        raise ValueError(f"convention must be 're', 'im' or 'abs', got {convention!r}")
    rate = rate_K_to_pi_S(np.asarray(m_S, dtype=float), CONST.m_K0, CONST.m_pi0, CONST.tau_KL)
    return np.asarray(np.asarray(g2, dtype=float) * rate, dtype=float)


def br_KS_to_pi0_S(g_sd: ArrayLike, m_S: ArrayLike) -> FloatArray:
    """B(K_S -> pi0 S), proportional to (Im g_sd)^2 (docs/physics/flavour.md §4.2).

    Neutral masses and tau_KS. g_sd complex, m_S [GeV] -> BR; m_S -> 0: 8.42e12 (Im g_sd)^2.
    """
    g2 = np.imag(np.asarray(g_sd)) ** 2
    rate = rate_K_to_pi_S(np.asarray(m_S, dtype=float), CONST.m_K0, CONST.m_pi0, CONST.tau_KS)
    return np.asarray(np.asarray(g2, dtype=float) * rate, dtype=float)


# ---------------------------------------------------------------------------- K+ -> mu+ nu S

@cache
def _gauss_legendre(n: int) -> tuple[FloatArray, FloatArray]:
    """Nodes and weights on [0, 1]."""
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (x + 1.0), 0.5 * w


def kmunus_msq_t_integrated(s: FloatArray, m_S: FloatArray) -> FloatArray:
    """int dt sum|M|^2 / (C y_mu)^2 for K+ -> mu+ nu S at fixed s = (p_mu + p_S)^2, GeV^4 -> GeV^2.

    Muon-line emission: M = C y_mu ubar_nu (1 + gamma5)(m_mu k-slash - m_mu^2 - s) v_mu / (s - m_mu^2) with
    C = G_F V_us f_K / sqrt2, k = p_S. The spin sum is
    sum|M|^2 = (C y)^2 8 p_nu.Y / (s - m_mu^2)^2,  Y = (a^2 - m_mu^2 m_S^2) p_mu + 2 m_mu^2 (k.p_mu + a) k,
    a = m_mu^2 + s (equal to the form of docs/physics/flavour.md §4.2 last bullet). It is linear in t = (p_nu + k)^2,
    so the t-integral over the Dalitz range is (t+ - t-) times the value at the midpoint.
    """
    m2, mK2, mS2 = CONST.m_mu**2, CONST.m_Kp**2, m_S**2
    sqrt_s = np.sqrt(s)
    e_S = (s - m2 + mS2) / (2.0 * sqrt_s)  # S energy in the (mu S) rest frame
    e_nu = (mK2 - s) / (2.0 * sqrt_s)  # neutrino energy (massless) in that frame
    p_S = np.sqrt(np.clip(e_S**2 - mS2, 0.0, None))
    t_width = 4.0 * p_S * e_nu  # t+ - t-
    t_mid = mS2 + 2.0 * e_S * e_nu  # (t+ + t-)/2
    a = m2 + s
    pmu_k = 0.5 * (s - m2 - mS2)
    pnu_k = 0.5 * (t_mid - mS2)
    pnu_pmu = 0.5 * (mK2 + mS2 - s - t_mid)  # (u - m_mu^2)/2 with s + t + u = m_K^2 + m_mu^2 + m_S^2
    pnu_Y = (a**2 - m2 * mS2) * pnu_pmu + 2.0 * m2 * (pmu_k + a) * pnu_k
    return np.asarray(8.0 * pnu_Y / (s - m2) ** 2 * t_width, dtype=float)


def br_K_to_munu_S(eta_d: ArrayLike, m_S: ArrayLike, nodes: int = _KMUNUS_NODES) -> FloatArray:
    """B(K+ -> mu+ nu S), S radiated from the muon line (docs/physics/flavour.md §4.2 last bullet; tree level).

    Gamma = int ds dt sum|M|^2 / ((2 pi)^3 32 m_K^3), normalised to the PDG B(K+ -> mu+ nu):
    B = B(K -> mu nu)_PDG Gamma(mu nu S) / Gamma_tree(mu nu), with
    Gamma_tree(mu nu) = C^2 m_mu^2 m_K (1 - m_mu^2/m_K^2)^2 / (4 pi), C = G_F V_us f_K / sqrt2 (C cancels).
    The s-integral runs over log(s - m_mu^2) on a fixed Gauss-Legendre grid (vectorised over points).
    Only needed for m_S > 140 MeV (the NA48/2 region m_ee >= 140 MeV); reference 1.31e-9 eta_d^2 at 141 MeV.
    eta_d dimensionless, m_S [GeV] -> BR; zero for m_S <= 0 (outside the model) or m_S >= m_K - m_mu.
    """
    eta = np.asarray(eta_d, dtype=float)
    mS = np.atleast_1d(np.asarray(m_S, dtype=float))
    m_mu, m_K = CONST.m_mu, CONST.m_Kp
    is_open = (mS > 0.0) & (mS < m_K - m_mu)
    mS_safe = np.where(is_open, mS, 0.5 * (m_K - m_mu))
    x, w = _gauss_legendre(nodes)
    lo = np.log((m_mu + mS_safe) ** 2 - m_mu**2)[..., None]
    hi = np.log(m_K**2 - m_mu**2)
    log_d = lo + (hi - lo) * x  # log(s - m_mu^2) at the nodes
    s = m_mu**2 + np.exp(log_d)
    integrand = kmunus_msq_t_integrated(s, mS_safe[..., None]) * (s - m_mu**2)  # ds = (s - m^2) dlog
    integral = np.sum(integrand * w, axis=-1) * (hi - lo[..., 0])
    gamma3_over_c2 = integral / ((2.0 * np.pi) ** 3 * 32.0 * m_K**3)
    gamma2_over_c2 = m_mu**2 * m_K * (1.0 - m_mu**2 / m_K**2) ** 2 / (4.0 * np.pi)
    y_mu2 = (eta * m_mu / CONST.v) ** 2
    ratio = np.where(is_open, gamma3_over_c2 / gamma2_over_c2, 0.0)
    out = CONST.BR_Kmunu * y_mu2 * ratio
    return np.asarray(out.reshape(np.broadcast_shapes(eta.shape, np.shape(m_S))), dtype=float)


# ---------------------------------------------------------------------------- fast path of K+ -> mu+ nu S

# m_S range [GeV] of the Chebyshev form of B(K+ -> mu+ nu S)/eta_d^2: from the NA48/2 cut to beyond the
# model's m_S range; degree 12 reproduces the 32-node quadrature to 2e-15 relative there
KMUNUS_CHEB_RANGE = (0.140, 0.160)
_KMUNUS_CHEB_DEGREE = 12


@cache
def kmunus_chebyshev() -> tuple[float, float, tuple[float, ...]]:
    """(lo, hi, coefficients) of the Chebyshev interpolant of B(K+ -> mu+ nu S) at eta_d = 1 on
    KMUNUS_CHEB_RANGE, built once from :func:`br_K_to_munu_S` at the Chebyshev nodes (m_S in GeV)."""
    lo, hi = KMUNUS_CHEB_RANGE
    n = _KMUNUS_CHEB_DEGREE + 1
    t = np.cos(np.pi * (np.arange(n) + 0.5) / n)
    values = br_K_to_munu_S(1.0, 0.5 * (hi + lo) + 0.5 * (hi - lo) * t)
    coef = np.polynomial.chebyshev.chebfit(t, values, _KMUNUS_CHEB_DEGREE)
    return lo, hi, tuple(float(c) for c in coef)


@shared
def kmunus_fast(m_S: float, lo: float, hi: float, coef: FloatArray) -> float:
    """B(K+ -> mu+ nu S) / eta_d^2 at one m_S in [lo, hi] [GeV] from the Chebyshev form (lo, hi, coef) of
    :func:`kmunus_chebyshev` (the fast form the compiled kernel evaluates)."""
    return chebyshev_sum(coef, 2.0 * (2.0 * m_S - (lo + hi)) / (hi - lo))


@jit
def chebyshev_sum(coef: FloatArray, t2: float) -> float:
    """sum_k coef[k] T_k(t) by the Clenshaw recurrence, given t2 = 2 t (the series of
    :func:`kmunus_chebyshev`, evaluated by the physics kernel; compiled where numba is on)."""
    b1 = 0.0
    b2 = 0.0
    for k in range(coef.size - 1, 0, -1):
        b1, b2 = coef[k] + t2 * b1 - b2, b1
    return coef[0] + 0.5 * t2 * b1 - b2
