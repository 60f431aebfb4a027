"""The model's domain, stated once: where the predictions are defined, and the one tolerance on its edges.

* m_S in [10, 150] MeV and m_nu4 in [400, 700] MeV: the ranges of the shipped scattering tables (also the
  paper's scan ranges; docs/physics/g2-scattering.md §7), with m_S < m_nu4 (the S is produced in nu4 decays);
* g_D >= 0, and g_D <= sqrt(4 pi) for perturbativity (the paper's bound; checked on run files, not points);
* |U_mu4| in [0, 1] (the modulus of a mixing-matrix element); every parameter finite.

Every edge is widened by the relative tolerance :data:`EDGE_TOL`, so that a bound written in MeV and
converted to GeV (700 MeV * 1e-3 = 0.7000000000000001) still lies inside. Read by physics.registry
(:func:`domain_violations`), physics.miniboone (the tables' own check), physics.kernel (its compiled test)
and inference.config.params (run-file validation). Masses in GeV.
"""

from __future__ import annotations

import math

import numpy as np

from physics.jit import shared
from physics.params import FloatArray, ModelParams

#: ranges of the shipped scattering tables, GeV (also the paper's scan ranges)
M_S_RANGE = (0.010, 0.150)
M_NU4_RANGE = (0.400, 0.700)
#: |U_mu4| range and the perturbativity bound on g_D
U_MU4_RANGE = (0.0, 1.0)
G_D_MAX = math.sqrt(4.0 * math.pi)

#: relative tolerance on every edge of the domain (rounding of MeV -> GeV)
EDGE_TOL = 1e-12


def widened(lo: float, hi: float) -> tuple[float, float]:
    """[lo, hi] widened by EDGE_TOL on each side (for positive edges)."""
    return lo * (1 - EDGE_TOL), hi * (1 + EDGE_TOL)


#: the edges the checks compare with
M_S_BOUNDS = widened(*M_S_RANGE)
M_NU4_BOUNDS = widened(*M_NU4_RANGE)


def inside(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """True where x lies in [lo, hi] widened by EDGE_TOL; NaN is never inside."""
    a, b = widened(lo, hi)
    return np.asarray((x >= a) & (x <= b))


def outside(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """True where x lies outside [lo, hi] widened by EDGE_TOL."""
    a, b = widened(lo, hi)
    return np.asarray((x < a) | (x > b))


#: what each entry of :func:`violations` means, in order
REASONS = ("m_S >= m_nu4", "m_S outside [10, 150] MeV (scattering tables)",
           "m_nu4 outside [400, 700] MeV (scattering tables)", "g_D < 0", "|U_mu4| outside [0, 1]")
_M_S_LO, _M_S_HI = M_S_BOUNDS
_M_4_LO, _M_4_HI = M_NU4_BOUNDS
_U_LO, _U_HI = U_MU4_RANGE


@shared
def violations(g_D: FloatArray, U: FloatArray, m_S: FloatArray, m_4: FloatArray) -> tuple[np.ndarray, ...]:
    """The domain conditions a point of finite parameters violates, in :data:`REASONS` order (True = violated),
    on floats (the compiled kernel) or arrays. Masses in GeV, edges widened by EDGE_TOL."""
    return (m_S >= m_4, (m_S < _M_S_LO) | (m_S > _M_S_HI), (m_4 < _M_4_LO) | (m_4 > _M_4_HI), g_D < 0.0,
            (U < _U_LO) | (U > _U_HI))


def domain_violations(params: ModelParams) -> dict[str, np.ndarray]:
    """Reasons a point lies outside the model's domain -> boolean mask over the N points (True = violated)."""
    p = params
    finite = np.all(np.isfinite(p.to_array()), axis=1)
    masks = violations(p.g_D, p.U_mu4, p.m_S, p.m_nu4)
    return {"non-finite parameter": ~finite, **{r: np.asarray(m) for r, m in zip(REASONS, masks, strict=True)}}


def in_domain(params: ModelParams) -> np.ndarray:
    """True where no domain condition is violated."""
    bad = np.zeros(params.size, dtype=bool)
    for mask in domain_violations(params).values():
        bad |= mask
    return ~bad
