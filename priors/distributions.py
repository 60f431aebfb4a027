"""The prior classes: uniform, log-uniform, normal (optionally truncated) and fixed.

Each takes its bounds in the run file's units and checks them once, at construction.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats

from priors.base import (
    FloatArray,
    Prior,
    PriorError,
    as_float_array,
    check_finite_number,
    check_unit_interval,
)


def _ordered_bounds(kind: str, low: float, high: float) -> tuple[float, float]:
    lo = check_finite_number(f"{kind} min", low)
    hi = check_finite_number(f"{kind} max", high)
    if not lo < hi:
        raise PriorError(f"{kind} prior needs min < max, got min={lo!r}, max={hi!r}")
    return lo, hi


class Uniform(Prior):
    """Flat density 1/(max - min) on [min, max]."""

    kind = "uniform"

    def __init__(self, min: float, max: float) -> None:
        self.min, self.max = _ordered_bounds(self.kind, min, max)
        self._width = self.max - self.min
        self._log_density = -math.log(self._width)

    @property
    def support(self) -> tuple[float, float]:
        return self.min, self.max

    def logpdf(self, x: ArrayLike) -> FloatArray:
        x = as_float_array(x)
        inside = (x >= self.min) & (x <= self.max)
        return np.where(inside, self._log_density, -np.inf)

    def cdf(self, x: ArrayLike) -> FloatArray:
        return np.clip((as_float_array(x) - self.min) / self._width, 0.0, 1.0)

    def ppf(self, u: ArrayLike) -> FloatArray:
        u = as_float_array(u)
        check_unit_interval(u)
        return np.where(u >= 1.0, self.max, np.clip(self.min + u * self._width, self.min, self.max))

    def to_config(self) -> dict[str, Any]:
        return {"prior": self.kind, "min": self.min, "max": self.max}


class LogUniform(Prior):
    """Density proportional to 1/x on [min, max], 0 < min < max (flat in ln x)."""

    kind = "log_uniform"

    def __init__(self, min: float, max: float) -> None:
        self.min, self.max = _ordered_bounds(self.kind, min, max)
        if self.min <= 0.0:
            raise PriorError(f"log_uniform prior needs min > 0, got min={self.min!r}")
        self._log_min = math.log(self.min)
        self._log_ratio = math.log(self.max) - self._log_min
        self._log_norm = math.log(self._log_ratio)

    @property
    def support(self) -> tuple[float, float]:
        return self.min, self.max

    def logpdf(self, x: ArrayLike) -> FloatArray:
        x = as_float_array(x)
        inside = (x >= self.min) & (x <= self.max)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = -np.log(np.where(inside, x, 1.0)) - self._log_norm
        return np.where(inside, value, -np.inf)

    def cdf(self, x: ArrayLike) -> FloatArray:
        x = as_float_array(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (np.log(np.maximum(x, self.min)) - self._log_min) / self._log_ratio
        return np.where(np.isnan(x), np.nan, np.clip(value, 0.0, 1.0))

    def ppf(self, u: ArrayLike) -> FloatArray:
        u = as_float_array(u)
        check_unit_interval(u)
        x = self.min * np.exp(u * self._log_ratio)
        return np.where(u >= 1.0, self.max, np.clip(x, self.min, self.max))

    def to_config(self) -> dict[str, Any]:
        return {"prior": self.kind, "min": self.min, "max": self.max}


class Normal(Prior):
    """Gaussian N(mean, sigma^2), truncated to [min, max] when either bound is given."""

    kind = "normal"

    def __init__(self, mean: float, sigma: float, min: float | None = None,
                 max: float | None = None) -> None:
        self.mean = check_finite_number("normal mean", mean)
        self.sigma = check_finite_number("normal sigma", sigma)
        if self.sigma <= 0.0:
            raise PriorError(f"normal prior needs sigma > 0, got sigma={self.sigma!r}")
        lo = -math.inf if min is None else check_finite_number("normal min", min)
        hi = math.inf if max is None else check_finite_number("normal max", max)
        if not lo < hi:
            raise PriorError(f"normal prior needs min < max, got min={lo!r}, max={hi!r}")
        self.min, self.max = lo, hi
        self.truncated = math.isfinite(lo) or math.isfinite(hi)
        a, b = (lo - self.mean) / self.sigma, (hi - self.mean) / self.sigma
        mass = special.ndtr(-a) - special.ndtr(-b) if a > 0 else special.ndtr(b) - special.ndtr(a)
        if not mass > 0.0:
            raise PriorError(f"normal prior: the window [{lo}, {hi}] holds no probability mass "
                             f"for mean={self.mean}, sigma={self.sigma}")
        self._trunc = stats.truncnorm(a, b, loc=self.mean, scale=self.sigma)
        self._log_norm = math.log(self.sigma) + 0.5 * math.log(2.0 * math.pi)

    @property
    def support(self) -> tuple[float, float]:
        return self.min, self.max

    def logpdf(self, x: ArrayLike) -> FloatArray:
        x = as_float_array(x)
        if self.truncated:
            out = np.asarray(self._trunc.logpdf(x), dtype=np.float64)
            return np.where(np.isnan(out), -np.inf, out)
        z = (x - self.mean) / self.sigma
        return np.where(np.isnan(z), -np.inf, -0.5 * z * z - self._log_norm)

    def cdf(self, x: ArrayLike) -> FloatArray:
        x = as_float_array(x)
        if self.truncated:
            return np.asarray(self._trunc.cdf(x), dtype=np.float64)
        return np.asarray(special.ndtr((x - self.mean) / self.sigma), dtype=np.float64)

    def ppf(self, u: ArrayLike) -> FloatArray:
        u = as_float_array(u)
        check_unit_interval(u)
        if self.truncated:
            return np.clip(np.asarray(self._trunc.ppf(u), dtype=np.float64), self.min, self.max)
        return np.asarray(self.mean + self.sigma * special.ndtri(u), dtype=np.float64)

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"prior": self.kind, "mean": self.mean, "sigma": self.sigma}
        if math.isfinite(self.min):
            out["min"] = self.min
        if math.isfinite(self.max):
            out["max"] = self.max
        return out


class Fixed(Prior):
    """A point mass: the parameter is held at ``value`` and is not sampled."""

    kind = "fixed"

    def __init__(self, value: float) -> None:
        self.value = check_finite_number("fixed value", value)

    @property
    def support(self) -> tuple[float, float]:
        return self.value, self.value

    @property
    def is_fixed(self) -> bool:
        return True

    def logpdf(self, x: ArrayLike) -> FloatArray:
        x = as_float_array(x)
        return np.where(x == self.value, 0.0, -np.inf)

    def cdf(self, x: ArrayLike) -> FloatArray:
        x = as_float_array(x)
        return np.where(np.isnan(x), np.nan, (x >= self.value).astype(np.float64))

    def ppf(self, u: ArrayLike) -> FloatArray:
        u = as_float_array(u)
        check_unit_interval(u)
        return np.full(u.shape, self.value)

    def to_config(self) -> dict[str, Any]:
        return {"fixed": self.value}


#: run-file name -> prior class, for everything that is sampled
PRIOR_KINDS: dict[str, type[Prior]] = {cls.kind: cls for cls in (Uniform, LogUniform, Normal)}
