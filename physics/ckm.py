"""CKM matrix from the Wolfenstein parameters, in the exact standard parametrisation.

Source: PDG 2022 CKM review (R. L. Workman et al., PTEP 2022, 083C01, eqs. 12.4 and 12.5), the
parametrisation in which rhobar + i etabar = -(V_ud V_ub^*)/(V_cd V_cb^*) holds to all orders in lambda.
Default inputs: the PDG 2022 global fit in physics/data/constants.yaml (docs/physics/flavour.md §2).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray

from physics.constants import CONST

ComplexMatrix = NDArray[np.complex128]

# row/column labels of the matrix returned by ckm_matrix()
UP_QUARKS: tuple[str, ...] = ("u", "c", "t")
DOWN_QUARKS: tuple[str, ...] = ("d", "s", "b")


@dataclass(frozen=True)
class Wolfenstein:
    """Wolfenstein parameters (lambda, A, rhobar, etabar), all dimensionless."""

    lam: float
    A: float
    rhobar: float
    etabar: float

    @classmethod
    def default(cls) -> Wolfenstein:
        """PDG 2022 global fit (constants.yaml: ckm_lambda, ckm_A, ckm_rhobar, ckm_etabar)."""
        return cls(CONST.ckm_lambda, CONST.ckm_A, CONST.ckm_rhobar, CONST.ckm_etabar)


def ckm_matrix(wolf: Wolfenstein | None = None) -> ComplexMatrix:
    """3x3 complex CKM matrix V[i, j] = V_{u_i d_j} (rows u, c, t; columns d, s, b).

    Exact standard parametrisation (PDG 2022 eq. 12.3) with
    s12 = lambda, s23 = A lambda^2 and
    s13 e^{i delta} = A lambda^3 (rhobar + i etabar) sqrt(1 - A^2 lambda^4)
                      / [sqrt(1 - lambda^2) (1 - A^2 lambda^4 (rhobar + i etabar))]   (PDG 2022 eq. 12.5).
    Dimensionless in and out. Unitary to machine precision.
    """
    w = wolf if wolf is not None else Wolfenstein.default()
    lam, A = w.lam, w.A
    rho_eta = complex(w.rhobar, w.etabar)
    s12 = lam
    s23 = A * lam**2
    s13_phase = (A * lam**3 * rho_eta * np.sqrt(1.0 - A**2 * lam**4)
                 / (np.sqrt(1.0 - lam**2) * (1.0 - A**2 * lam**4 * rho_eta)))
    s13 = abs(s13_phase)
    e_id = s13_phase / s13 if s13 > 0.0 else 1.0 + 0.0j  # e^{i delta}
    c12, c23, c13 = np.sqrt(1.0 - s12**2), np.sqrt(1.0 - s23**2), np.sqrt(1.0 - s13**2)
    e_mid = np.conj(e_id)  # e^{-i delta}
    return np.array(
        [
            [c12 * c13, s12 * c13, s13 * e_mid],
            [-s12 * c23 - c12 * s23 * s13 * e_id, c12 * c23 - s12 * s23 * s13 * e_id, s23 * c13],
            [s12 * s23 - c12 * c23 * s13 * e_id, -c12 * s23 - s12 * c23 * s13 * e_id, c23 * c13],
        ],
        dtype=np.complex128,
    )


@cache
def _default_matrix() -> ComplexMatrix:
    m = ckm_matrix()
    m.setflags(write=False)
    return m


def ckm_element(name: str, wolf: Wolfenstein | None = None) -> complex:
    """One element by name, e.g. ckm_element("ts") = V_ts (dimensionless, complex)."""
    if len(name) != 2 or name[0] not in UP_QUARKS or name[1] not in DOWN_QUARKS:
        raise KeyError(f"CKM element {name!r}: expected <up><down> with up in u,c,t and down in d,s,b")
    m = _default_matrix() if wolf is None else ckm_matrix(wolf)
    return complex(m[UP_QUARKS.index(name[0]), DOWN_QUARKS.index(name[1])])


def lambda_t_bs(wolf: Wolfenstein | None = None) -> complex:
    """V_tb V_ts^*, the CKM factor of g_bs (paper eq. 5; docs/physics/flavour.md §1: |.| = 0.04106)."""
    return ckm_element("tb", wolf) * np.conj(ckm_element("ts", wolf))


def lambda_t_sd(wolf: Wolfenstein | None = None) -> complex:
    """V_ts V_td^*, the top CKM factor of g_sd (paper eq. 6; docs/physics/flavour.md §1: -3.228e-4 - 1.404e-4 i)."""
    return ckm_element("ts", wolf) * np.conj(ckm_element("td", wolf))


def lambda_c_sd(wolf: Wolfenstein | None = None) -> complex:
    """V_cs V_cd^*, the charm CKM factor of g_sd (paper eq. 6; docs/physics/flavour.md §1: -0.21890 + 1.40e-4 i)."""
    return ckm_element("cs", wolf) * np.conj(ckm_element("cd", wolf))
