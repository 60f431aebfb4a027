"""Corner plots: one run, or several overlaid in their run colours, with contours bounded by the priors.

corner.py draws the grid, the 1-D histograms and the tick layout; the 2-D contours are drawn by
:func:`inference.output.plots_axes.bounded_contours`, so they never leave the prior box (corner's own smoothing
spills a bin or two past it).  Axes cover the samples of every run, clipped to the prior ranges.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from inference.output.plots_axes import Bounds, bounded_contours, label_axis, padded_range
from inference.output.plots_data import RunView

log = logging.getLogger(__name__)


def message_figure(text: str, title: str = "") -> Figure:
    """A small figure that says why a plot could not be drawn (keeps the report's figure list complete)."""
    fig = Figure(figsize=(6.0, 2.0))
    fig.text(0.5, 0.5, text, ha="center", va="center", wrap=True)
    if title:
        fig.suptitle(title)
    return fig


def _limits(columns: Sequence[np.ndarray], bounds: Bounds | None) -> Bounds:
    lim = padded_range(list(columns), False, bounds)
    return lim if lim is not None else (0.0, 1.0)


def corner_plot(samples: np.ndarray | Sequence[np.ndarray], weights: np.ndarray | Sequence[np.ndarray | None] | None,
                names: Sequence[str], labels: Sequence[str] | None = None, colour: str | Sequence[str] = "k",
                title: str = "", bounds: Mapping[str, Bounds] | None = None,
                run_labels: Sequence[str] | None = None) -> Figure:
    """Corner plot of one (n, d) sample array, or of several overlaid (a list of arrays, weights, colours).

    Weighted 68 % / 95 % contours bounded by `bounds` (name -> prior range), 1-D histograms, and for a single
    run the 16/50/84 % quantiles.  Columns constant in every run (a fixed parameter) are left out and logged.
    """
    import corner

    runs = [np.asarray(samples, dtype=float)] if not isinstance(samples, list | tuple) else \
        [np.asarray(s, dtype=float) for s in samples]
    ws = [weights] * len(runs) if weights is None or not isinstance(weights, list | tuple) else list(weights)
    colours = [colour] * len(runs) if isinstance(colour, str) else list(colour)
    for x in runs:
        if x.ndim != 2 or x.shape[1] != len(names):
            raise ValueError(f"samples must have shape (n, {len(names)}), got {x.shape}")
    labs = list(labels) if labels is not None else None
    keep = [j for j in range(len(names)) if any(np.ptp(x[:, j]) > 0 for x in runs)]
    dropped = [names[j] for j in range(len(names)) if j not in keep]
    if dropped:
        log.info("corner plot: constant parameters left out: %s", ", ".join(dropped))
    if not keep:
        raise ValueError("corner plot: every parameter is constant")
    bnds = dict(bounds or {})
    ranges = [_limits([x[:, j] for x in runs], bnds.get(names[j])) for j in keep]
    k = len(keep)
    fig = Figure(figsize=(1.9 * k + 1, 1.9 * k + 1))
    for x, w, c in zip(runs, ws, colours, strict=True):
        wa = None if w is None else np.asarray(w, dtype=float)
        corner.corner(x[:, keep], weights=wa, fig=fig, range=ranges, bins=30, color=c, plot_datapoints=False,
                      plot_density=False, plot_contours=False, no_fill_contours=True, max_n_ticks=3,
                      quantiles=(0.16, 0.5, 0.84) if len(runs) == 1 else (), hist_kwargs={"density": True},
                      labels=[names[j] for j in keep])
    axes = np.asarray(fig.axes).reshape(k, k)
    for i in range(k):
        for j in range(i):
            for x, w, c in zip(runs, ws, colours, strict=True):
                wa = np.ones(len(x)) if w is None else np.asarray(w, dtype=float)
                bounded_contours(axes[i, j], x[:, keep[j]], x[:, keep[i]], wa, c, bnds.get(names[keep[j]]),
                                 bnds.get(names[keep[i]]), fill=len(runs) == 1)
            axes[i, j].set_xlim(ranges[j])
            axes[i, j].set_ylim(ranges[i])
    for j in range(k):
        label_axis(axes[k - 1, j], "x", names[keep[j]])
        if j > 0:
            label_axis(axes[j, 0], "y", names[keep[j]])
    if labs is not None:
        for j in range(k):
            axes[k - 1, j].set_xlabel(labs[keep[j]])
            if j > 0:
                axes[j, 0].set_ylabel(labs[keep[j]])
    if run_labels and len(runs) > 1:
        handles = [Line2D([], [], color=c, lw=2, label=lab) for c, lab in zip(colours, run_labels, strict=True)]
        fig.legend(handles=handles, loc="upper right", fontsize=11, frameon=False)
    if title:
        fig.suptitle(title)
    return fig


def run_corner(views: RunView | Sequence[RunView]) -> Figure:
    """Corner plot of one run or of several overlaid (paper units), from the raw weighted samples when stored.

    Only the parameters every run has are drawn.  A posterior in which every parameter is constant (e.g.
    collapsed onto one point by a tiny test run) gives a figure that says so instead of an error.
    """
    runs = [views] if isinstance(views, RunView) else list(views)
    sources = [(v.raw_samples, v.raw_weights) if v.raw_samples and v.raw_weights is not None
               else (v.samples, v.weights) for v in runs]
    names = [n for n in sources[0][0] if all(n in s for s, _ in sources)]
    xs = [np.column_stack([s[n] for n in names]) for s, _ in sources]
    if not any(np.ptp(x[:, j]) > 0 for x in xs for j in range(x.shape[1])):
        log.warning("%s: every parameter is constant in the posterior; no corner plot", runs[0].name)
        return message_figure("every parameter is constant in the posterior\n(one distinct point): "
                              "no corner plot", runs[0].label)
    bounds: dict[str, Bounds] = {}
    for v in runs:
        for n, (lo, hi) in v.bounds.items():
            old = bounds.get(n, (lo, hi))
            bounds[n] = (min(old[0], lo), max(old[1], hi))
    return corner_plot(xs, [w for _, w in sources], names, colour=[v.colour for v in runs],
                       title=runs[0].label if len(runs) == 1 else "", bounds=bounds,
                       run_labels=[v.label for v in runs])
