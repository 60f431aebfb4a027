"""Decay widths of the scalar S and of the sterile neutrino nu4.

Formulas: docs/physics/g2-scattering.md §2.1 and docs/physics/flavour.md §3 (Dirac neutrinos, scalar Yukawa).
Inputs in GeV units (kappa in GeV^-1); widths in GeV; c*tau in mm. The S widths, branching ratios and
lifetimes are ``physics.jit.shared`` formulas: the same functions serve numpy arrays and the compiled kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physics.constants import CONST, VALUES
from physics.jit import ratio, shared, sqrt_pos
from physics.params import FloatArray, ModelParams


@shared
def _beta3(m_f: float, m_S: FloatArray) -> FloatArray:
    """beta_f^3 with beta_f = sqrt(1 - 4 m_f^2 / m_S^2), zero below threshold."""
    b = sqrt_pos(1.0 - 4.0 * m_f**2 / m_S**2)
    return b * b * b


@shared
def width_gammagamma(kappa: FloatArray, m_S: FloatArray) -> FloatArray:
    """Gamma(S -> gamma gamma) = kappa^2 m_S^3 / (64 pi), for L = -(kappa/4) S F F.

    docs/physics/g2-scattering.md §2.1 (includes the 1/2 for identical photons). kappa [GeV^-1], m_S [GeV] -> GeV.
    """
    return kappa**2 * m_S**3 * (1.0 / (64.0 * np.pi))


@shared
def width_leptons(eta_d: FloatArray, m_S: FloatArray, m_l: float) -> FloatArray:
    """Gamma(S -> l+ l-) = y_l^2 m_S beta_l^3 / (8 pi), y_l = eta_d m_l / v (docs/physics/flavour.md §3 items 2-3).

    eta_d dimensionless, m_S and m_l [GeV] -> GeV; zero below threshold 2 m_l.
    """
    y = eta_d * (m_l / VALUES.v)
    return y**2 * m_S * _beta3(m_l, m_S) * (1.0 / (8.0 * np.pi))


@shared
def width_nunu(g_D: FloatArray, U_mu4: FloatArray, m_S: FloatArray) -> FloatArray:
    """Gamma(S -> nu nubar), light Dirac neutrinos summed over ordered pairs (docs/physics/flavour.md §3 item 4).

    g_D^2 (sum_{i<=3} U_Di^2)^2 m_S / (8 pi) = g_D^2 |U_mu4|^4 m_S / (8 pi). GeV.
    """
    return g_D**2 * U_mu4**4 * m_S * (1.0 / (8.0 * np.pi))


@dataclass(frozen=True)
class SWidths:
    """Partial and total widths of S [GeV] for N points, with branching ratios as properties."""

    gg: FloatArray
    ee: FloatArray
    mumu: FloatArray
    nunu: FloatArray

    @property
    def total(self) -> FloatArray:
        return self.gg + self.ee + self.mumu + self.nunu

    def _br(self, part: FloatArray) -> FloatArray:
        return np.asarray(ratio(part, self.total, 0.0))

    @property
    def br_gg(self) -> FloatArray:
        return self._br(self.gg)

    @property
    def br_ee(self) -> FloatArray:
        return self._br(self.ee)

    @property
    def br_mumu(self) -> FloatArray:
        return self._br(self.mumu)

    @property
    def br_nunu(self) -> FloatArray:
        return self._br(self.nunu)

    @property
    def br_vis(self) -> FloatArray:
        """B(S -> e+e-) + B(S -> gamma gamma) (+ mu mu, closed below 211 MeV): the MiniBooNE signal."""
        return self._br(self.gg + self.ee + self.mumu)


def s_widths(p: ModelParams) -> SWidths:
    """All S decay widths at the points p (docs/physics/g2-scattering.md §2.1). S -> nu nu4 is closed (m_S < m_nu4)."""
    return SWidths(
        gg=width_gammagamma(p.kappa, p.m_S),
        ee=width_leptons(p.eta_d, p.m_S, CONST.m_e),
        mumu=width_leptons(p.eta_d, p.m_S, CONST.m_mu),
        nunu=width_nunu(p.g_D, p.U_mu4, p.m_S),
    )


@shared
def decay_length_mm(total: FloatArray) -> FloatArray:
    """Proper decay length c*tau in mm of a particle of total width ``total`` [GeV]: hbar c / Gamma
    (docs/physics/flavour.md §3 item 6). inf if Gamma = 0, and where Gamma is so small (subnormal) that the
    quotient overflows."""
    return ratio(VALUES.hbar_c * 1e3, total, np.inf)


@shared
def lifetime_ps(total: FloatArray) -> FloatArray:
    """Proper lifetime in ps, hbar / Gamma [Gamma in GeV]; inf as in :func:`decay_length_mm`."""
    return ratio(VALUES.hbar * 1e12, total, np.inf)


def ctau_S(widths: SWidths) -> FloatArray:
    """Proper decay length c*tau of S in mm (:func:`decay_length_mm` of Gamma_S)."""
    return np.asarray(decay_length_mm(widths.total))


def tau_S(widths: SWidths) -> FloatArray:
    """Proper lifetime of S in ps (:func:`lifetime_ps` of Gamma_S)."""
    return np.asarray(lifetime_ps(widths.total))


def width_nu4(p: ModelParams) -> FloatArray:
    """Gamma(nu4 -> nu S) = g_D^2 |U_D4|^2 |U_mu4|^2 m4 / (16 pi) (1 - m_S^2/m4^2)^2, GeV.

    docs/physics/g2-scattering.md §2.1 (both helicities of the light Dirac neutrino; |U_D4|^2 = 1 - |U_mu4|^2).
    W/Z-mediated decays (~ G_F^2 |U_mu4|^2) are negligible and omitted. Zero if m_S >= m4.
    """
    U2 = p.U_mu4**2
    x = np.clip(1.0 - p.m_S**2 / p.m_nu4**2, 0.0, None)
    return p.g_D**2 * (1.0 - U2) * U2 * p.m_nu4 / (16.0 * np.pi) * x**2
