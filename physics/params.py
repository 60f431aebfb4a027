"""The eight model parameters as a frozen record of numpy arrays, in GeV units.

Internally every mass is in GeV and kappa in GeV^-1. The paper (and the run files) quote kappa in
TeV^-1 and masses in MeV; :meth:`ModelParams.from_paper_units` converts once. Every constructor names its
units (``units="paper"`` or ``units="GeV"``): the two differ by 1000 in kappa and the masses.
All fields are 1-D float arrays of the same length N (N parameter points).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from physics.errors import DarkportalError, closest

PARAM_NAMES: tuple[str, ...] = ("kappa", "eta_d", "eta_c", "eta_t", "g_D", "U_mu4", "m_S", "m_nu4")

# factor that takes a paper-unit value to the internal GeV unit
PAPER_UNIT_FACTORS: dict[str, float] = {
    "kappa": 1e-3,  # TeV^-1 -> GeV^-1
    "eta_d": 1.0,
    "eta_c": 1.0,
    "eta_t": 1.0,
    "g_D": 1.0,
    "U_mu4": 1.0,
    "m_S": 1e-3,  # MeV -> GeV
    "m_nu4": 1e-3,  # MeV -> GeV
}
PAPER_UNITS: dict[str, str] = {
    "kappa": "TeV^-1", "eta_d": "1", "eta_c": "1", "eta_t": "1", "g_D": "1", "U_mu4": "1",
    "m_S": "MeV", "m_nu4": "MeV",
}

FloatArray = NDArray[np.float64]


#: the two unit systems a ModelParams can be built in
UNIT_SYSTEMS: dict[str, str] = {
    "paper": "the paper's and the run files' units: kappa in TeV^-1, m_S and m_nu4 in MeV",
    "GeV": "darkportal's internal units: kappa in GeV^-1, m_S and m_nu4 in GeV",
}


class ParamUnitsError(DarkportalError, TypeError):
    """A ModelParams was built without saying which units its numbers are in (or with unknown units)."""


_HOW = ("say which units the numbers are in: ModelParams.from_paper_units(kappa=1.22, ..., m_S=38, m_nu4=413) "
        "or ModelParams(..., units='paper') for the paper's units (kappa in TeV^-1, masses in MeV); "
        "ModelParams.from_gev(...) or ModelParams(..., units='GeV') for GeV units (kappa in GeV^-1, masses in GeV)")


@dataclass(frozen=True, init=False)
class ModelParams:
    """N parameter points of the dark-scalar model, stored in GeV units.

    kappa [GeV^-1]: S F F coupling, L = -(kappa/4) S F F.  eta_d, eta_c, eta_t: Yukawa rescalings
    (eta_u = 0).  g_D: S nu_D nu_D coupling.  U_mu4: |U_mu4| (not squared).  m_S, m_nu4 [GeV].

    Build it with explicit units (the paper quotes kappa in TeV^-1 and masses in MeV, 1000 times the GeV
    numbers, so a silent default would give log L = -inf at every paper point)::

        ModelParams.from_paper_units(kappa=1.22, eta_d=0.17, ..., m_S=38, m_nu4=413)
        ModelParams(kappa=1.22e-3, ..., m_S=0.038, m_nu4=0.413, units="GeV")   # == ModelParams.from_gev(...)

    Without ``units`` the constructor raises :class:`ParamUnitsError`.
    """

    kappa: FloatArray
    eta_d: FloatArray
    eta_c: FloatArray
    eta_t: FloatArray
    g_D: FloatArray
    U_mu4: FloatArray
    m_S: FloatArray
    m_nu4: FloatArray

    def __init__(self, *args: ArrayLike, units: str | None = None, **values: ArrayLike) -> None:
        if args:
            raise ParamUnitsError(f"ModelParams takes the parameters by name, not by position; {_HOW}")
        if units is None:
            raise ParamUnitsError(f"ModelParams needs units=...: {_HOW}")
        if units not in UNIT_SYSTEMS:
            raise ParamUnitsError(f"ModelParams: unknown units {units!r}; use one of "
                                  + "; ".join(f"{k!r} ({v})" for k, v in UNIT_SYSTEMS.items()))
        _check_names(values)
        factors = PAPER_UNIT_FACTORS if units == "paper" else dict.fromkeys(PARAM_NAMES, 1.0)
        arrays = np.broadcast_arrays(*(np.atleast_1d(np.asarray(values[n], dtype=float)) * factors[n]
                                       for n in PARAM_NAMES))
        for name, a in zip(PARAM_NAMES, arrays, strict=True):
            if a.ndim != 1:
                raise ValueError(f"ModelParams.{name} must be a scalar or a 1-D array, got shape {a.shape}")
            object.__setattr__(self, name, np.ascontiguousarray(a, dtype=np.float64))

    @property
    def size(self) -> int:
        return int(self.kappa.shape[0])

    def __len__(self) -> int:
        return self.size

    @classmethod
    def from_array(cls, theta: ArrayLike) -> ModelParams:
        """From an (N, 8) or (8,) array in GeV units, columns in PARAM_NAMES order."""
        arr = np.atleast_2d(np.asarray(theta, dtype=float))
        if arr.shape[-1] != len(PARAM_NAMES):
            raise ValueError(f"expected {len(PARAM_NAMES)} columns {PARAM_NAMES}, got shape {arr.shape}")
        return cls(**{n: arr[:, i] for i, n in enumerate(PARAM_NAMES)}, units="GeV")

    def to_array(self) -> FloatArray:
        """(N, 8) array in GeV units, columns in PARAM_NAMES order."""
        return np.column_stack([getattr(self, n) for n in PARAM_NAMES])

    @classmethod
    def from_paper_units(cls, values: Mapping[str, ArrayLike] | None = None, /, **kwargs: ArrayLike) -> ModelParams:
        """From the paper's units (kappa in TeV^-1, masses in MeV), as a mapping or as keyword arguments."""
        return cls(**_merged(values, kwargs), units="paper")

    @classmethod
    def from_gev(cls, values: Mapping[str, ArrayLike] | None = None, /, **kwargs: ArrayLike) -> ModelParams:
        """From GeV units (kappa in GeV^-1, masses in GeV), as a mapping or as keyword arguments."""
        return cls(**_merged(values, kwargs), units="GeV")

    def to_paper_units(self) -> dict[str, FloatArray]:
        return {n: getattr(self, n) / PAPER_UNIT_FACTORS[n] for n in PARAM_NAMES}

    def take(self, index: ArrayLike) -> ModelParams:
        """A subset of the points (numpy fancy index or boolean mask)."""
        idx = np.asarray(index)
        return ModelParams(**{n: getattr(self, n)[idx] for n in PARAM_NAMES}, units="GeV")


def _merged(values: Mapping[str, ArrayLike] | None, kwargs: Mapping[str, ArrayLike]) -> dict[str, ArrayLike]:
    both = set(values or {}) & set(kwargs)
    if both:
        raise ValueError(f"parameters given twice: {sorted(both)}")
    return {**(values or {}), **kwargs}


def _check_names(values: Mapping[str, ArrayLike]) -> None:
    unknown = set(values) - set(PARAM_NAMES)
    missing = set(PARAM_NAMES) - set(values)
    if unknown or missing:
        hints = [f"{u!r} -> {m!r}" for u in sorted(unknown) if (m := closest(u, PARAM_NAMES)) is not None]
        raise ValueError(f"parameters: unknown {sorted(unknown)}, missing {sorted(missing)}"
                         + (f" (did you mean {', '.join(hints)}?)" if hints else "")
                         + f"; expected {list(PARAM_NAMES)}")
