"""The eight model parameters as a frozen record of numpy arrays, in GeV units.

Internally every mass is in GeV and kappa in GeV^-1. The paper (and the run files) quote kappa in
TeV^-1 and masses in MeV; :meth:`ModelParams.from_paper_units` converts once.
All fields are 1-D float arrays of the same length N (N parameter points).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import ArrayLike, NDArray

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


@dataclass(frozen=True)
class ModelParams:
    """N parameter points of the dark-scalar model (GeV units).

    kappa [GeV^-1]: S F F coupling, L = -(kappa/4) S F F.  eta_d, eta_c, eta_t: Yukawa rescalings
    (eta_u = 0).  g_D: S nu_D nu_D coupling.  U_mu4: |U_mu4| (not squared).  m_S, m_nu4 [GeV].
    """

    kappa: FloatArray
    eta_d: FloatArray
    eta_c: FloatArray
    eta_t: FloatArray
    g_D: FloatArray
    U_mu4: FloatArray
    m_S: FloatArray
    m_nu4: FloatArray

    def __post_init__(self) -> None:
        arrays = np.broadcast_arrays(*(np.atleast_1d(np.asarray(getattr(self, f.name), dtype=float))
                                       for f in fields(self)))
        for f, a in zip(fields(self), arrays, strict=True):
            if a.ndim != 1:
                raise ValueError(f"ModelParams.{f.name} must be a scalar or a 1-D array, got shape {a.shape}")
            object.__setattr__(self, f.name, np.ascontiguousarray(a, dtype=np.float64))

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
        return cls(*(arr[:, i] for i in range(len(PARAM_NAMES))))

    def to_array(self) -> FloatArray:
        """(N, 8) array in GeV units, columns in PARAM_NAMES order."""
        return np.column_stack([getattr(self, n) for n in PARAM_NAMES])

    @classmethod
    def from_paper_units(cls, values: Mapping[str, ArrayLike]) -> ModelParams:
        """From a mapping in the paper's units (kappa in TeV^-1, masses in MeV)."""
        unknown = set(values) - set(PARAM_NAMES)
        missing = set(PARAM_NAMES) - set(values)
        if unknown or missing:
            raise ValueError(f"parameters: unknown {sorted(unknown)}, missing {sorted(missing)}; "
                             f"expected {list(PARAM_NAMES)}")
        return cls(**{n: np.asarray(values[n], dtype=float) * PAPER_UNIT_FACTORS[n] for n in PARAM_NAMES})

    def to_paper_units(self) -> dict[str, FloatArray]:
        return {n: getattr(self, n) / PAPER_UNIT_FACTORS[n] for n in PARAM_NAMES}

    def take(self, index: ArrayLike) -> ModelParams:
        """A subset of the points (numpy fancy index or boolean mask)."""
        idx = np.asarray(index)
        return ModelParams(*(getattr(self, n)[idx] for n in PARAM_NAMES))
