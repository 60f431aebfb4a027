"""An ordered set of one-dimensional priors that maps sampler vectors to named parameter arrays.

The free (non-fixed) parameters, in the set's order, are the columns of the sampler vector ``x`` of
shape (..., ndim). Values are in the run file's (paper) units; converting to the physics units is the
job of ``inference`` (the priors package imports neither physics nor likelihoods).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from priors.base import FloatArray, Prior, as_float_array


class PriorSet(Mapping[str, Prior]):
    """Ordered mapping parameter name -> :class:`Prior`; fixed priors are held, not sampled."""

    def __init__(self, priors: Mapping[str, Prior]) -> None:
        for name, prior in priors.items():
            if not isinstance(prior, Prior):
                raise TypeError(f"prior of {name!r} must be a Prior, got {type(prior).__name__}")
        self._priors: dict[str, Prior] = dict(priors)
        self._free: tuple[str, ...] = tuple(n for n, p in self._priors.items() if not p.is_fixed)

    # Mapping interface --------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Prior:
        return self._priors[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._priors)

    def __len__(self) -> int:
        return len(self._priors)

    def __repr__(self) -> str:
        body = ", ".join(f"{n}={p!r}" for n, p in self._priors.items())
        return f"PriorSet({body})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PriorSet) and list(self._priors.items()) == list(other._priors.items())

    __hash__ = None  # type: ignore[assignment]

    # description ----------------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """The free parameters, in order: the columns of a sampler vector."""
        return self._free

    @property
    def ndim(self) -> int:
        return len(self._free)

    @property
    def fixed(self) -> dict[str, float]:
        """Fixed parameters and their values."""
        return {n: p.support[0] for n, p in self._priors.items() if p.is_fixed}

    @property
    def bounds(self) -> FloatArray:
        """(ndim, 2) array of the support (low, high) of each free parameter; may hold +-inf."""
        return np.array([self._priors[n].support for n in self._free], dtype=np.float64).reshape(-1, 2)

    def to_config(self) -> dict[str, dict[str, Any]]:
        """The run-file form: ``{name: {"prior": ..., ...}}`` for every parameter."""
        return {n: p.to_config() for n, p in self._priors.items()}

    # vectorised operations ------------------------------------------------------------------------
    def _columns(self, x: ArrayLike) -> FloatArray:
        arr = as_float_array(x)
        if arr.ndim == 0 or arr.shape[-1] != self.ndim:
            raise ValueError(f"expected a last axis of length {self.ndim} {self._free}, "
                             f"got shape {arr.shape}")
        return arr

    def logpdf(self, x: ArrayLike) -> FloatArray:
        """Sum of the log densities over the free parameters; shape x.shape[:-1]."""
        arr = self._columns(x)
        total = np.zeros(arr.shape[:-1])
        for i, name in enumerate(self._free):
            total = total + self._priors[name].logpdf(arr[..., i])
        return total

    def cdf(self, x: ArrayLike) -> FloatArray:
        """Per-parameter CDF values; same shape as ``x``."""
        arr = self._columns(x)
        return np.stack([self._priors[n].cdf(arr[..., i]) for i, n in enumerate(self._free)], axis=-1)

    def ppf(self, u: ArrayLike) -> FloatArray:
        """Unit cube -> parameters, column by column; same shape as ``u`` (dynesty's prior transform)."""
        arr = self._columns(u)
        out = np.empty_like(arr)
        for i, name in enumerate(self._free):
            out[..., i] = self._priors[name].ppf(arr[..., i])
        return out

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """(n, ndim) independent draws, using only ``rng``."""
        if isinstance(n, bool) or int(n) != n or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        out = np.empty((int(n), self.ndim))
        for i, name in enumerate(self._free):
            out[:, i] = self._priors[name].sample(rng, int(n))
        return out

    def to_dict(self, x: ArrayLike) -> dict[str, FloatArray]:
        """Sampler vector(s) -> {name: array of shape x.shape[:-1]} for every parameter, fixed ones filled."""
        arr = self._columns(x)
        out: dict[str, FloatArray] = {}
        column = {n: i for i, n in enumerate(self._free)}
        for name, prior in self._priors.items():
            if prior.is_fixed:
                out[name] = np.full(arr.shape[:-1], prior.support[0])
            else:
                out[name] = np.array(arr[..., column[name]])
        return out

    def from_dict(self, values: Mapping[str, ArrayLike]) -> FloatArray:
        """{name: array} -> sampler vectors (..., ndim); entries of fixed parameters are ignored."""
        missing = [n for n in self._free if n not in values]
        if missing:
            raise KeyError(f"missing free parameter(s) {missing}")
        cols = np.broadcast_arrays(*(as_float_array(values[n]) for n in self._free))
        if not cols:
            return np.zeros((0,))
        return np.stack(cols, axis=-1)
