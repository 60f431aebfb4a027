"""The prior interface shared by every prior class (bilby's API: logpdf, cdf, ppf, sample).

Every method is vectorised: it takes an array of any shape and returns an array of the same shape.
Randomness comes only from the ``numpy.random.Generator`` passed to :meth:`Prior.sample`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from physics.errors import DarkportalError

FloatArray = NDArray[np.float64]


class PriorError(DarkportalError, ValueError):
    """A prior was built with impossible arguments (min >= max, sigma <= 0, ...)."""


def as_float_array(x: ArrayLike) -> FloatArray:
    """``x`` as a float64 array (no copy when it already is one)."""
    return np.asarray(x, dtype=np.float64)


def check_unit_interval(u: FloatArray) -> None:
    """Raise if any ``u`` lies outside [0, 1] (or is NaN): ``ppf`` is defined on the unit interval only."""
    if u.size and not np.all((u >= 0.0) & (u <= 1.0)):
        bad = u[~((u >= 0.0) & (u <= 1.0))]
        raise ValueError(f"ppf takes u in [0, 1]; got {bad.ravel()[:5]}")


def check_finite_number(name: str, value: float) -> float:
    """``value`` as a float, raising :class:`PriorError` for bools, non-numbers and non-finite values."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise PriorError(f"{name} must be a number, got {value!r}")
    out = float(value)
    if not np.isfinite(out):
        raise PriorError(f"{name} must be finite, got {value!r}")
    return out


class Prior(ABC):
    """A one-dimensional prior distribution in the run file's (paper) units."""

    #: the name used for this prior class in run files (``prior: uniform``)
    kind: str = ""

    @property
    @abstractmethod
    def support(self) -> tuple[float, float]:
        """Closed interval (low, high) outside which ``logpdf`` is -inf; may be infinite."""

    @property
    def is_fixed(self) -> bool:
        """True for a point mass (a parameter that is not sampled)."""
        return False

    @abstractmethod
    def logpdf(self, x: ArrayLike) -> FloatArray:
        """Log density at ``x``: finite inside the support, -inf outside (and at NaN)."""

    @abstractmethod
    def cdf(self, x: ArrayLike) -> FloatArray:
        """Cumulative distribution function at ``x``, in [0, 1]."""

    @abstractmethod
    def ppf(self, u: ArrayLike) -> FloatArray:
        """Inverse of the CDF (the unit-cube transform used by nested sampling), ``u`` in [0, 1]."""

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` independent draws, shape (n,), using only ``rng`` (inverse-CDF sampling)."""
        if isinstance(n, bool) or int(n) != n or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        return self.ppf(rng.random(int(n)))

    def pdf(self, x: ArrayLike) -> FloatArray:
        """Density at ``x`` (exp of :meth:`logpdf`)."""
        return np.exp(self.logpdf(x))

    @abstractmethod
    def to_config(self) -> dict[str, Any]:
        """The run-file form of this prior (``{"prior": "uniform", "min": 0.0, "max": 1.0}``)."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_config().items() if k != "prior")
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.to_config() == other.to_config()

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(self.to_config().items()))))
