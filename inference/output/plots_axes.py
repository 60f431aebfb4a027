"""Axis helpers of the figures: labels with units, scaled tick labels, limits, and density contours bounded by
the prior ranges.

Scaled labels: an axis whose values are all below 1e-2 or above 1e4 in size carries its power of ten in the
label, ``$\\mathcal{B}(B^+\\to K^+\\nu\\bar\\nu)$ [$10^{-5}$]`` or ``$m_S$ [$10^{3}$ MeV]``, and plain tick
numbers, instead of matplotlib's detached "1e-5" offset text.

Bounded contours: the weighted 2-D histogram is taken on a grid that ends at the prior bounds (or, where the
prior is unbounded, at the extreme samples), smoothed with a Gaussian kernel that reflects at the grid's
edges (the standard boundary correction for a density with hard edges: no mass leaks out), and contoured at
the levels enclosing 68 % and 95 % of the mass.  The grid's outer nodes lie on the box edges, so a contour ends at a
prior edge and never crosses it: nothing is drawn where the prior vanishes (GetDist does the same with its
``ranges``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from physics import REGISTRY

log = logging.getLogger(__name__)

#: probability mass inside the two contours of every 2-D plot
LEVELS = (0.68, 0.95)
_UNIT_TEX = {"1": "", "TeV^-1": r"TeV$^{-1}$", "MeV": "MeV", "GeV": "GeV", "mm": "mm", "ps": "ps",
             "ps^-1": r"ps$^{-1}$", "s^-1": r"s$^{-1}$"}
_LOG_SPAN = 30.0  # a positive axis spanning more than this factor is drawn logarithmic
_SMALL, _LARGE = 1e-2, 1e4  # axes whose largest |value| lies outside [_SMALL, _LARGE) get a scaled label
Bounds = tuple[float, float]


def axis_label(name: str, power: int = 0) -> str:
    """LaTeX label of an observable or parameter with its unit, e.g. r'$m_S$ [MeV]'; with `power` != 0 the
    values shown are in units of 10^power: r'$\\eta_t$ [$10^{-3}$]'."""
    tex = f"${REGISTRY[name].latex}$" if name in REGISTRY else name
    unit = _UNIT_TEX.get(REGISTRY[name].unit, REGISTRY[name].unit) if name in REGISTRY else ""
    scale = f"$10^{{{power}}}$" if power else ""
    inside = " ".join(s for s in (scale, unit) if s)
    return tex + (f" [{inside}]" if inside else "")


def scale_power(lo: float, hi: float) -> int:
    """The power of ten shown in the label of a linear axis from lo to hi (0 when plain numbers read well)."""
    top = max(abs(lo), abs(hi))
    if not math.isfinite(top) or top == 0 or _SMALL <= top < _LARGE:
        return 0
    return math.floor(math.log10(top))


def label_axis(ax: Axes, which: str, name: str) -> None:
    """Set the label of ax's x or y axis for quantity `name`, scaling the tick labels of a linear axis."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    is_log = (ax.get_xscale() if which == "x" else ax.get_yscale()) == "log"
    power = 0 if is_log else scale_power(*(ax.get_xlim() if which == "x" else ax.get_ylim()))
    if power:
        factor = 10.0**power
        axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v / factor:.4g}"))
    (ax.set_xlabel if which == "x" else ax.set_ylabel)(axis_label(name, power))


def use_log(values: Sequence[np.ndarray]) -> bool:
    v = np.concatenate([np.asarray(a, dtype=float).ravel() for a in values])
    v = v[np.isfinite(v)]
    return v.size > 0 and bool(np.all(v > 0)) and float(v.max() / v.min()) > _LOG_SPAN


def padded_range(values: Sequence[np.ndarray], log_scale: bool = False,
                 bounds: Bounds | None = None) -> Bounds | None:
    """A range covering every finite value (positive ones on a log axis) with a 5 % margin, but never past
    `bounds` (the prior range); None when there is no value."""
    v = np.concatenate([np.asarray(a, dtype=float).ravel() for a in values])
    v = v[np.isfinite(v) & ((v > 0) if log_scale else True)]
    if v.size == 0:
        return None
    lo, hi = (float(np.log10(v.min())), float(np.log10(v.max()))) if log_scale else (float(v.min()),
                                                                                        float(v.max()))
    if hi > lo:
        pad = 0.05 * (hi - lo)
    else:  # a single value: a tenth of a decade, or 5 % of the value
        pad = 0.1 if log_scale else (0.05 * abs(lo) or 1.0)
    lo, hi = lo - pad, hi + pad
    lim = (10.0**lo, 10.0**hi) if log_scale else (lo, hi)
    if bounds is not None and bounds[0] <= v.min() and v.max() <= bounds[1]:
        lim = (max(lim[0], bounds[0]), min(lim[1], bounds[1]))
    elif bounds is not None:
        log.warning("samples outside the prior range [%g, %g]: axis drawn over the samples", *bounds)
    return lim


def fit_limits(ax: Axes, which: str, values: Sequence[np.ndarray], log_scale: bool,
               bounds: Bounds | None = None) -> None:
    """Set ax's x or y limits to :func:`padded_range` of the values."""
    lim = padded_range(values, log_scale, bounds)
    if lim is not None:
        (ax.set_xlim if which == "x" else ax.set_ylim)(lim)


def support(values: np.ndarray, bounds: Bounds | None) -> Bounds:
    """The density's box on one axis: the prior bounds where finite (and holding every sample), else the
    extreme samples."""
    lo, hi = float(np.min(values)), float(np.max(values))
    if bounds is not None and bounds[0] <= lo and hi <= bounds[1]:
        lo = bounds[0] if math.isfinite(bounds[0]) else lo
        hi = bounds[1] if math.isfinite(bounds[1]) else hi
    return lo, hi


def _mass_levels(h: np.ndarray, levels: Sequence[float]) -> list[float]:
    """Density thresholds enclosing the given probability masses of the (normalised) histogram h."""
    flat = np.sort(h.ravel())[::-1]
    cdf = np.cumsum(flat)
    cdf /= cdf[-1]
    out = []
    for m in sorted(levels, reverse=True):
        i = min(int(np.searchsorted(cdf, m)), len(flat) - 1)
        out.append(float(flat[i]))
    return sorted(set(out))


def bounded_contours(ax: Axes, x: np.ndarray, y: np.ndarray, w: np.ndarray, colour: str,
                     xbounds: Bounds | None = None, ybounds: Bounds | None = None, logx: bool = False,
                     logy: bool = False, levels: Sequence[float] = LEVELS, bins: int = 32,
                     smooth: float = 1.2, fill: bool = False) -> bool:
    """Weighted contours enclosing `levels` of the mass, never outside the prior box; True if drawn.

    Log axes take the histogram in log10 of the values (a log-uniform prior is flat there).  Skipped (False)
    when a coordinate does not vary or fewer than 20 samples are given.
    """
    from scipy.ndimage import gaussian_filter

    x, y, w = (np.asarray(a, dtype=float) for a in (x, y, w))
    ok = np.isfinite(x) & np.isfinite(y) & (w > 0) & ((x > 0) if logx else True) & ((y > 0) if logy else True)
    x, y, w = x[ok], y[ok], w[ok]
    if len(x) < 20 or np.ptp(x) <= 0 or np.ptp(y) <= 0:
        return False
    bx, by = support(x, xbounds), support(y, ybounds)
    if logx:
        bx = (math.log10(max(bx[0], float(x.min()))), math.log10(bx[1]))
    if logy:
        by = (math.log10(max(by[0], float(y.min()))), math.log10(by[1]))
    tx, ty = (np.log10(x) if logx else x), (np.log10(y) if logy else y)
    h, ex, ey = np.histogram2d(tx, ty, bins=bins, range=[bx, by], weights=w)
    if smooth:
        h = gaussian_filter(h, smooth, mode="reflect")  # reflection at the box: no mass leaves it
    if h.sum() <= 0:
        return False
    thresholds = _mass_levels(h / h.sum(), levels)
    h = h / h.sum()
    # the density on the bin centres plus nodes on the box edges themselves (carrying the edge bins' values),
    # so that a contour runs up to a prior edge where the density does not vanish, and never past it
    cx, cy = 0.5 * (ex[1:] + ex[:-1]), 0.5 * (ey[1:] + ey[:-1])
    px = np.concatenate([[ex[0]], cx, [ex[-1]]])
    py = np.concatenate([[ey[0]], cy, [ey[-1]]])
    hp = np.pad(h, 1, mode="edge")
    gx, gy = (10.0**px if logx else px), (10.0**py if logy else py)
    if len(thresholds) < 1 or thresholds[-1] <= 0:
        return False
    if fill:
        ax.contourf(gx, gy, hp.T, levels=[*thresholds, hp.max() * 1.0001], colors=[colour], alpha=0.25)
    ax.contour(gx, gy, hp.T, levels=thresholds, colors=[colour], linewidths=[0.9, 1.5][-len(thresholds):])
    return True
