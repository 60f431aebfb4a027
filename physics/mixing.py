"""Meson mixing from tree-level S exchange: Delta M_Bs and Delta M_K.

Source: docs/physics/flavour.md §5. Integrating out S gives the Delta F = 2 operator
(g^2/2)(qbar P_R q')^2/(m_S^2 - q^2) (SLL/SRR "Q_2"; there is no LR operator since L_FCNC has only P_R). Its matrix
element <Mbar|(qbar P_R q')^2|M> = -(5/12) [m_M/(m_q + m_q')]^2 m_M^2 f_M^2 B_2 (Gabbiani et al. hep-ph/9604387,
Becirevic et al. hep-lat/0110091 normalisation). The S momentum in this annihilation-type contraction is
q^2 = m_M^2, so the propagator is 1/(m_M^2 - m_S^2) (not the local 1/m_S^2). Delta M^NP = 2 |M_12|.
The rates per unit |g|^2 are ``physics.jit.shared`` formulas, also called by the compiled kernel.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from physics.constants import VALUES
from physics.jit import shared

FloatArray = NDArray[np.float64]


@shared
def _delta_m(m_S: FloatArray, m_M: float, f_M: float, bag: float, m_q_sum: float) -> FloatArray:
    """Delta M / |g|^2 = (5/12) [m_M/m_q_sum]^2 m_M^2 f_M^2 B_2 / (2 m_M |m_M^2 - m_S^2|), GeV.

    From Delta M = 2|M_12|, |M_12| = (|g|^2/2)(5/12)[m_M/(m_q+m_q')]^2 m_M^2 f_M^2 B_2 / [2 m_M |m_M^2 - m_S^2|]
    (docs/physics/flavour.md §5).
    """
    me = (5.0 / 12.0) * (m_M / m_q_sum) ** 2 * m_M**2 * f_M**2 * bag
    return (me / (2.0 * m_M)) / np.abs(m_M**2 - m_S**2)


@shared
def rate_delta_m_bs(m_S: FloatArray) -> FloatArray:
    """Delta M_Bs / |g_bs|^2 in ps^-1 (inputs in :func:`delta_m_bs`)."""
    dm = _delta_m(m_S, VALUES.m_Bs, VALUES.f_Bs, VALUES.B2_Bs, VALUES.m_b + VALUES.m_s)
    return dm * (1.0 / (VALUES.hbar * 1e12))


@shared
def rate_delta_m_k(m_S: FloatArray) -> FloatArray:
    """Delta M_K / |g_sd|^2 in s^-1 (inputs in :func:`delta_m_k`)."""
    return _delta_m(m_S, VALUES.m_K0, VALUES.f_K, VALUES.B2_K, VALUES.m_s + VALUES.m_d) * (1.0 / VALUES.hbar)


def delta_m_bs(g_bs: ArrayLike, m_S: ArrayLike) -> FloatArray:
    """New-physics Delta M_Bs from S exchange, in ps^-1 (docs/physics/flavour.md §5).

    m_M = m_Bs, f_Bs (FLAG 2021), B_2^{Bs} = 0.806 (FNAL/MILC 2016), m_b(m_b) + m_s(2 GeV).
    g_bs complex, m_S [GeV] -> ps^-1; m_S -> 0: 3.98e9 |g_bs|^2 ps^-1 (docs/physics/flavour.md §10).
    """
    return np.asarray(np.abs(np.asarray(g_bs)) ** 2 * rate_delta_m_bs(np.asarray(m_S, dtype=float)), dtype=float)


def delta_m_k(g_sd: ArrayLike, m_S: ArrayLike) -> FloatArray:
    """New-physics Delta M_K from S exchange, in s^-1 (docs/physics/flavour.md §5).

    m_M = m_K0, f_K (FLAG 2021), B_2^K = 0.46 (FLAG 2021, MSbar 3 GeV), m_s + m_d at 2 GeV.
    g_sd complex, m_S [GeV] -> s^-1 (1.4-8.6 s^-1 at the benchmark points).
    """
    return np.asarray(np.abs(np.asarray(g_sd)) ** 2 * rate_delta_m_k(np.asarray(m_S, dtype=float)), dtype=float)
