"""Scalar couplings of the nucleon and the effective nu_mu -> nu4 coupling.

Source: ``docs/physics/g2-scattering.md`` §3 (nucleon) and §4.1 (g_eff); heavy-quark (gluon) term of
Shifman, Vainshtein, Zakharov, PLB 78, 443 (1978). The sigma terms f_Tq come from
``physics/data/constants.yaml`` (fTu_p, fTd_p, fTu_n, fTd_n, fTs) with their sources, as defaults of
the theory options of the same names.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from physics.constants import CONST, VALUES
from physics.jit import shared
from physics.options import TheoryOptions

FloatArray = NDArray[np.float64]

# LO heavy-quark contribution per heavy flavour, (2/27) f_TG (Shifman-Vainshtein-Zakharov)
_HEAVY_QUARK_FACTOR = 2.0 / 27.0


@shared
def g_SN(m_N: float, f_Tu: float, f_Td: float, f_Ts: float,
         eta_d: FloatArray, eta_c: FloatArray, eta_t: FloatArray) -> FloatArray:
    """g_SN = (m_N/v)[sum_{u,d,s} eta_q f_Tq + (2/27) f_TG sum_{c,b,t} eta_Q] with eta_u = 0, eta_s = eta_b
    = eta_d (docs/physics/g2-scattering.md §3), for a nucleon of mass m_N [GeV]. Dimensionless."""
    f_TG = 1.0 - f_Tu - f_Td - f_Ts
    eta_u = 0.0
    eta_s = eta_b = eta_d
    light = eta_u * f_Tu + eta_d * f_Td + eta_s * f_Ts
    heavy = _HEAVY_QUARK_FACTOR * f_TG * (eta_c + eta_b + eta_t)
    return m_N / VALUES.v * (light + heavy)


def scalar_nucleon_couplings(eta_d: ArrayLike, eta_c: ArrayLike, eta_t: ArrayLike,
                             options: TheoryOptions | None = None) -> tuple[FloatArray, FloatArray]:
    """Scalar couplings (g_Sp, g_Sn) of L_eff = -g_SN S Nbar N.

    Equation: g_SN = (m_N/v)[a_N eta_d + b_N (eta_c + eta_t)], a_N = f_Td + f_Ts + (2/27) f_TG,
    b_N = (2/27) f_TG, f_TG = 1 - f_Tu - f_Td - f_Ts (docs/physics/g2-scattering.md §3; SVZ for the heavy quarks).
    The f_Tq come from ``options`` (defaults: constants.yaml); f_TG follows from them.
    In: dimensionless Yukawa rescalings (arrays, broadcast together). Out: dimensionless (g_Sp, g_Sn).
    """
    opts = options or TheoryOptions()
    ed, ec, et = (np.asarray(x, dtype=np.float64) for x in (eta_d, eta_c, eta_t))
    g_Sp = np.asarray(g_SN(CONST.m_p, opts.fTu_p, opts.fTd_p, opts.fTs, ed, ec, et), dtype=np.float64)
    g_Sn = np.asarray(g_SN(CONST.m_n, opts.fTu_n, opts.fTd_n, opts.fTs, ed, ec, et), dtype=np.float64)
    return g_Sp, g_Sn


@shared
def g_eff_value(g_D: FloatArray, U_mu4: FloatArray) -> FloatArray:
    """g_D |U_mu4| (1 - |U_mu4|^2): :func:`g_eff` on floats or arrays (dimensionless)."""
    return g_D * U_mu4 * (1.0 - U_mu4**2)


def g_eff(g_D: ArrayLike, U_mu4: ArrayLike) -> FloatArray:
    """Effective nu_mu -> nu4 coupling g_eff = g_D |U_mu4| |U_D4|^2 = g_D |U_mu4| (1 - |U_mu4|^2).

    docs/physics/g2-scattering.md §4.1 (orthogonality of U with U_e4 = U_tau4 = 0). The same form is used for the
    Z' reference, with g_D -> g_D' = sqrt(4 pi alpha_D). In and out dimensionless; U_mu4 = |U_mu4|.
    """
    return np.asarray(g_eff_value(np.asarray(g_D, dtype=np.float64), np.asarray(U_mu4, dtype=np.float64)),
                      dtype=np.float64)
