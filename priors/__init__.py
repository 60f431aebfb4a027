"""Priors for darkportal: uniform, log-uniform, normal (optionally truncated) and fixed, and a PriorSet.

Every prior has ``logpdf``, ``cdf``, ``ppf`` and ``sample(rng, n)``, vectorised over numpy arrays, so
one prior set serves emcee (log density) and dynesty (unit-cube transform). Values are in the paper's
units (kappa in TeV^-1, masses in MeV). This package imports neither physics nor likelihoods.
"""

from priors.base import Prior, PriorError
from priors.defaults import PAPER_RANGES, PAPER_UNITS, PARAMETER_ORDER, default_prior, paper_priors
from priors.distributions import PRIOR_KINDS, Fixed, LogUniform, Normal, Uniform
from priors.prior_set import PriorSet

__all__ = [
    "PAPER_RANGES",
    "PAPER_UNITS",
    "PARAMETER_ORDER",
    "PRIOR_KINDS",
    "Fixed",
    "LogUniform",
    "Normal",
    "Prior",
    "PriorError",
    "PriorSet",
    "Uniform",
    "default_prior",
    "paper_priors",
]
