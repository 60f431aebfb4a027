"""The paper's scan ranges, used as the default prior of every parameter a run file leaves out.

Source: Datta, Marfatia, Mukherjee, PRD 109, L031701 (arXiv:2310.15136), "Analysis and results":
eta_d in [0, 1], eta_t in [0, 0.02], eta_c in [-0.5, 0], g_D in [0, sqrt(4 pi)], kappa in [0, 2] TeV^-1,
|U_mu4| in [0, 0.006], m_S in [10, 150] MeV, m_nu4 in [400, 700] MeV; eta_u = 0 (not a parameter).
The priors package must not import physics, so the parameter order is restated here; a test checks
that it equals ``physics.params.PARAM_NAMES``.
"""

from __future__ import annotations

import math

from priors.distributions import Fixed, Uniform
from priors.prior_set import PriorSet

#: parameter order of the model (same as physics.params.PARAM_NAMES)
PARAMETER_ORDER: tuple[str, ...] = ("kappa", "eta_d", "eta_c", "eta_t", "g_D", "U_mu4", "m_S", "m_nu4")

#: the unit each parameter has in run files and in the paper ("1" = dimensionless)
PAPER_UNITS: dict[str, str] = {
    "kappa": "TeV^-1", "eta_d": "1", "eta_c": "1", "eta_t": "1", "g_D": "1", "U_mu4": "1",
    "m_S": "MeV", "m_nu4": "MeV",
}

#: the paper's scan range of each parameter, in PAPER_UNITS (arXiv:2310.15136, "Analysis and results")
PAPER_RANGES: dict[str, tuple[float, float]] = {
    "kappa": (0.0, 2.0),
    "eta_d": (0.0, 1.0),
    "eta_c": (-0.5, 0.0),
    "eta_t": (0.0, 0.02),
    "g_D": (0.0, math.sqrt(4.0 * math.pi)),
    "U_mu4": (0.0, 0.006),
    "m_S": (10.0, 150.0),
    "m_nu4": (400.0, 700.0),
}


def default_prior(name: str) -> Uniform:
    """The paper's flat prior on ``name`` (one of PARAMETER_ORDER)."""
    if name not in PAPER_RANGES:
        raise KeyError(f"unknown parameter {name!r}; known: {', '.join(PARAMETER_ORDER)}")
    low, high = PAPER_RANGES[name]
    return Uniform(low, high)


def paper_priors(kappa_fixed: float | None = None) -> PriorSet:
    """The paper's prior box; ``kappa_fixed=0.0`` gives the kappa = 0 case."""
    priors = {name: default_prior(name) for name in PARAMETER_ORDER}
    if kappa_fixed is not None:
        priors["kappa"] = Fixed(kappa_fixed)  # type: ignore[assignment]
    return PriorSet(priors)
