"""Profile likelihoods of a finished run: 1-D for every free parameter, 2-D for the Fig. 2 pairs.

The profile of chi^2 = -2 ln L in a parameter is its minimum over all others at fixed value. Here it is
estimated in two steps: (1) in each bin of the parameter (or pair), the best of the run's samples there
(nested sampling's dead points reach far into the tails, so every bin inside the prior that matters has
some); (2) for the 1-D profiles, a short bounded simplex over the other parameters from that sample, with the
profiled one held at the sample's value (``inference.analysis.fit.minimise_chi2``). The 2-D profiles are step (1)
alone, which can only overestimate chi^2: say so when reading them. Delta chi^2 is relative to the best fit
(bestfit.json when present, else the best point found here); 1, 4 (1-D) and 2.30, 6.18 (2-D) are the 68 % and
95 % regions of Wilks' theorem.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference.analysis.fit import Fitter, minimise_chi2

FloatArray = np.ndarray


@dataclass(frozen=True)
class Profile1D:
    name: str
    x: FloatArray       # the value of the parameter at each bin's profile point (NaN: empty bin)
    chi2: FloatArray    # profiled chi^2 (inf: empty bin)
    chi2_samples: FloatArray  # step (1) alone, for comparison


@dataclass(frozen=True)
class Profile2D:
    names: tuple[str, str]
    x_edges: FloatArray
    y_edges: FloatArray
    chi2: FloatArray  # (nx, ny); inf where a bin has no sample


def _bins(lo: float, hi: float, n: int) -> FloatArray:
    return np.linspace(lo, hi, n + 1)


def profile_1d(fitter: Fitter, samples: FloatArray, logl: FloatArray, col: int, bounds: tuple[float, float],
               n_bins: int = 25, maxfev: int = 600) -> Profile1D:
    """The 1-D profile in column ``col`` (module docstring)."""
    edges = _bins(*bounds, n_bins)
    idx = np.clip(np.digitize(samples[:, col], edges) - 1, 0, n_bins - 1)
    x, chi2, chi2_s = np.full(n_bins, np.nan), np.full(n_bins, np.inf), np.full(n_bins, np.inf)
    finite = np.isfinite(logl)
    for b in range(n_bins):
        sel = np.flatnonzero((idx == b) & finite)
        if len(sel) == 0:
            continue
        best = sel[np.argmax(logl[sel])]
        chi2_s[b] = -2.0 * logl[best]
        u0 = fitter.to_unit(samples[best])[0]
        fixed = u0[col]
        others = np.delete(u0, col)

        def sub(v: FloatArray, fixed: float = fixed) -> float:
            return fitter.chi2_u(np.insert(v, col, fixed))

        c = minimise_chi2(sub, others, maxfev=maxfev, max_restarts=1)[1] if len(others) else sub(others)
        x[b], chi2[b] = samples[best, col], min(c, chi2_s[b])
    return Profile1D(fitter.names[col], x, chi2, chi2_s)


def profile_2d(samples: FloatArray, logl: FloatArray, cols: tuple[int, int], names: tuple[str, str],
               bounds: tuple[tuple[float, float], tuple[float, float]], n_bins: int = 30) -> Profile2D:
    """The 2-D profile of two columns from the samples alone (step (1) of the module docstring)."""
    xe, ye = _bins(*bounds[0], n_bins), _bins(*bounds[1], n_bins)
    ix = np.clip(np.digitize(samples[:, cols[0]], xe) - 1, 0, n_bins - 1)
    iy = np.clip(np.digitize(samples[:, cols[1]], ye) - 1, 0, n_bins - 1)
    chi2 = np.full((n_bins, n_bins), np.inf)
    finite = np.isfinite(logl)
    np.minimum.at(chi2, (ix[finite], iy[finite]), -2.0 * logl[finite])
    return Profile2D(names, xe, ye, chi2)
