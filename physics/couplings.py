"""Flavour-changing couplings g_bs and g_sd of L_FCNC = g_bs sbar P_R b S + g_sd dbar P_R s S + h.c.

Source: paper eqs. (5)-(6) (arXiv:2310.15136); docs/physics/flavour.md §0-§1. Eq. (6) as printed lacks a factor 1/v
(g_sd must be dimensionless); it is restored here (docs/physics/README.md item 2). Pole m_t, m_b(m_b),
m_s(2 GeV) and m_c(m_c) from physics/data/constants.yaml. Both couplings are complex and dimensionless.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from physics.ckm import Wolfenstein, lambda_c_sd, lambda_t_bs, lambda_t_sd
from physics.constants import CONST

ComplexArray = NDArray[np.complex128]


def _penguin_prefactor(m_q: float) -> float:
    """3 sqrt2 G_F m_t^2 m_q / (16 pi^2 v), dimensionless (the Higgs-penguin coefficient,
    docs/physics/flavour.md §1)."""
    return 3.0 * np.sqrt(2.0) * CONST.G_F * CONST.m_t**2 * m_q / (16.0 * np.pi**2 * CONST.v)


def g_bs(eta_t: ArrayLike, wolf: Wolfenstein | None = None) -> ComplexArray:
    """g_bs = 3 sqrt2 G_F m_t^2 m_b eta_t V_tb V_ts^* / (16 pi^2 v)  (paper eq. 5; docs/physics/flavour.md §1).

    The eta_c term (suppressed by m_c^2/m_t^2 |V_cb V_cs / V_tb V_ts| ~ 5e-5) is dropped, as in the paper.
    eta_t dimensionless (array) -> complex array, dimensionless; |g_bs| = 6.52e-6 eta_t with PDG 2022 CKM.
    """
    eta = np.asarray(eta_t, dtype=float)
    return (_penguin_prefactor(CONST.m_b) * lambda_t_bs(wolf) * eta).astype(np.complex128)


def g_sd(eta_t: ArrayLike, eta_c: ArrayLike, wolf: Wolfenstein | None = None) -> ComplexArray:
    """g_sd = 3 sqrt2 G_F m_t^2 m_s / (16 pi^2 v) [eta_t V_ts V_td^* + eta_c (m_c^2/m_t^2) V_cs V_cd^*].

    Paper eq. (6) with the missing 1/v restored (docs/physics/flavour.md §0, §1). Numerically (PDG 2022 CKM):
    g_sd = eta_t (-1.145e-9 - 4.98e-10 i) + eta_c (-4.20e-11 + 2.7e-14 i).
    eta_t, eta_c dimensionless (broadcast arrays) -> complex array, dimensionless.
    """
    et = np.asarray(eta_t, dtype=float)
    ec = np.asarray(eta_c, dtype=float)
    pref = _penguin_prefactor(CONST.m_s)
    r_c = CONST.m_c**2 / CONST.m_t**2
    return (pref * (et * lambda_t_sd(wolf) + ec * r_c * lambda_c_sd(wolf))).astype(np.complex128)


def eta_c_cancellation_ratio(wolf: Wolfenstein | None = None) -> float:
    """eta_c / eta_t at which Re g_sd = 0 (the paper's "eta_c ~ -27 eta_t"; docs/physics/flavour.md §0, §4.2).

    -Re(V_ts V_td^*) / [(m_c^2/m_t^2) Re(V_cs V_cd^*)] = -27.3 with the default inputs. Dimensionless.
    """
    r_c = CONST.m_c**2 / CONST.m_t**2
    return float(-lambda_t_sd(wolf).real / (r_c * lambda_c_sd(wolf).real))
