"""Figures of finished runs: the paper's Fig. 2 panels and Fig. 3, per-term pulls (corner plots:
:mod:`inference.output.plots_corner`; axes and bounded contours: :mod:`inference.output.plots_axes`).

The paper is Datta, Marfatia, Mukherjee, PRD 109, L031701 (arXiv:2310.15136).  Fig. 2 shows the allowed
parameter points, Fig. 3 the correlations of predicted branching fractions.  Every run has one colour and
one label in every figure (:func:`inference.output.plots_data.style_runs`), and each figure has one legend, outside
the panels.

Figures are built on :class:`matplotlib.figure.Figure` directly (Agg canvas, no pyplot and no global
state), so the functions work without a screen and in threads.  A 2-D panel draws, per run, equally
weighted draws as points (:func:`draw_points`, a fixed-seed resample by weight) and weighted 68 % / 95 %
contours bounded by the prior ranges (:func:`draw_contours`); a panel style is a choice of these layers.
Every plot function takes plain inputs (arrays or :class:`~inference.output.plots_data.RunView` records) and returns
the figure; :func:`save_figure` writes PNG and PDF atomically.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from inference.output.plots_axes import LEVELS, axis_label, bounded_contours, fit_limits, label_axis, use_log
from inference.output.plots_corner import corner_plot, message_figure, run_corner
from inference.output.plots_data import Reference, RunView

__all__ = ["LEVELS", "axis_label", "corner_plot", "message_figure", "run_corner"]  # re-exported

log = logging.getLogger(__name__)

#: (y, x) parameter pairs of the Fig. 2 panels, keyed by panel name
FIG2_PANELS: dict[str, tuple[str, str]] = {
    "eta_t_vs_eta_c": ("eta_t", "eta_c"),
    "m_S_vs_m_nu4": ("m_S", "m_nu4"),
    "eta_d_vs_eta_c": ("eta_d", "eta_c"),
    "g_D_vs_U_mu4": ("g_D", "U_mu4"),
    "kappa_vs_eta_d": ("kappa", "eta_d"),
}
#: (y, x) pairs of branching fractions in Fig. 3
FIG3_PAIRS: tuple[tuple[str, str], ...] = (
    ("BR(KL->pi0nunu)", "BR(K+->pi+nunu)"),
    ("BR(B0->K*0nunu)", "BR(B+->K+nunu)"),
    ("BR(Bs->invisible)", "BR(B+->K+nunu)"),
    ("BR(K+->pi+nunu)", "BR(B+->K+nunu)"),
    ("BR(Bs->invisible)", "BR(B0->K*0nunu)"),
    ("BR(KL->pi0nunu)", "BR(B+->K+nunu)"),
)
FIG3_OBSERVABLES: tuple[str, ...] = tuple(dict.fromkeys(n for pair in FIG3_PAIRS for n in pair))
FORMATS = ("png", "pdf")
_SCATTER_POINTS = 3000


def save_figure(fig: Figure, outdir: str | Path, stem: str, formats: Sequence[str] = FORMATS,
                dpi: int = 150) -> list[Path]:
    """Write `fig` as outdir/stem.<fmt> for each format, each through a temporary file and os.replace."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    tight = "tight" if fig.get_layout_engine() is None else None  # constrained layouts fit already
    for fmt in formats:
        path = out / f"{stem}.{fmt}"
        tmp = out / f".{stem}.{fmt}.tmp"
        fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches=tight)
        os.replace(tmp, path)
        paths.append(path)
    return paths


# ------------------------------------------------------------------------------------------- 2-D panels
def _reference_values(refs: Sequence[Reference]) -> np.ndarray:
    vals = [v for r in refs for v in (r.value - r.error_down, r.value, r.value + r.error_up)]
    return np.asarray(vals, dtype=float)


def draw_points(ax: Axes, run: RunView, x: np.ndarray, y: np.ndarray, n_points: int, seed: int) -> None:
    """Equally weighted draws of one run as small points in its colour."""
    idx = run.resample(min(n_points, run.size), seed)
    ax.scatter(x[idx], y[idx], s=3, color=run.colour, alpha=0.35, linewidths=0, rasterized=True)


def draw_contours(ax: Axes, run: RunView, x_name: str, y_name: str, x: np.ndarray, y: np.ndarray,
                  logx: bool, logy: bool, colour: str | None = None) -> None:
    """Weighted 68 % / 95 % contours of one run, bounded by its prior ranges (observables: by the samples)."""
    bounded_contours(ax, x, y, run.weights, colour or run.colour, run.bounds.get(x_name), run.bounds.get(y_name),
                     logx, logy)


def _paper_style(runs: Sequence[RunView]) -> bool:
    """True when cuts-mode runs (the paper's allowed points) are drawn beside gaussian-mode posteriors: then the
    former are points only and the latter contours only, as in the paper's figures with our posteriors added."""
    return any(r.mode == "cuts" for r in runs) and any(r.mode != "cuts" for r in runs)


def _draws(run: RunView, paper: bool) -> tuple[bool, bool]:
    """(points, contours) to draw for `run`: points and contours, or the paper-style split."""
    if not paper:
        return True, run.mode != "cuts"  # a flat posterior (allowed points) has no contours to speak of
    return run.mode == "cuts", run.mode != "cuts"


def _scatter_panel(ax: Axes, runs: Sequence[RunView], get: str, x_name: str, y_name: str, n_points: int,
                   seed: int, extra: tuple[np.ndarray, np.ndarray] | None = None, allow_log: bool = True) -> bool:
    """Each run's draws as points with its weighted contours; returns True if anything was drawn.

    Cuts-mode runs (allowed points) are drawn as points only; beside them gaussian-mode runs as contours only,
    in a darker shade of their colour (`_paper_style`).
    `extra` (x values, y values), e.g. measured values, take part in the choice of log axes and in the
    axis limits, so that they are visible beside the points.  Limits cover every point of every run and
    stay inside the union of the runs' prior ranges.
    """
    series = []
    for run in runs:
        source = getattr(run, get)
        if x_name in source and y_name in source:
            series.append((run, np.asarray(source[x_name]), np.asarray(source[y_name])))
        else:
            log.info("run %s lacks %s or %s: left out of the panel", run.name, x_name, y_name)
    if not series:
        return False
    more = extra if extra is not None else (np.zeros(0), np.zeros(0))
    paper = _paper_style([s[0] for s in series])
    logx = allow_log and use_log([*(s[1] for s in series), more[0]])
    logy = allow_log and use_log([*(s[2] for s in series), more[1]])
    ax.set_xscale("log" if logx else "linear")
    ax.set_yscale("log" if logy else "linear")
    for i, (run, x, y) in enumerate(series):
        points, contours = _draws(run, paper)
        if points:
            draw_points(ax, run, x, y, n_points, seed + i)
        if contours:
            draw_contours(ax, run, x_name, y_name, x, y, logx, logy, _contour_colour(run.colour) if paper else None)
    fit_limits(ax, "x", [*(s[1] for s in series), more[0]], logx, _union([s[0] for s in series], x_name))
    fit_limits(ax, "y", [*(s[2] for s in series), more[1]], logy, _union([s[0] for s in series], y_name))
    label_axis(ax, "x", x_name)
    label_axis(ax, "y", y_name)
    return True


def _union(runs: Sequence[RunView], name: str) -> tuple[float, float] | None:
    spans = [r.bounds[name] for r in runs if name in r.bounds]
    return (min(s[0] for s in spans), max(s[1] for s in spans)) if spans else None


def _contour_colour(colour: str) -> str:
    """A darker shade of a run's colour for its contours beside another run's points (paper style)."""
    from matplotlib.colors import to_rgb

    return "#{:02x}{:02x}{:02x}".format(*(int(255 * 0.6 * c) for c in to_rgb(colour)))


def run_handles(runs: Sequence[RunView]) -> list[Line2D]:
    """Legend entries, one per run; in paper style "allowed points" (cuts mode) and "68/95 %" (posteriors)."""
    if not _paper_style(runs):
        return [Line2D([], [], marker="o", ls="-", lw=1.2, ms=5, color=r.colour, label=r.label) for r in runs]
    return [Line2D([], [], marker="o", ls="", ms=5, color=r.colour, label=f"{r.label}: allowed points")
            if r.mode == "cuts" else
            Line2D([], [], ls="-", lw=1.2, color=_contour_colour(r.colour), label=f"{r.label}: 68/95 % ({r.mode})")
            for r in runs]


def _figure_legend(fig: Figure, handles: Sequence[Line2D | Patch], ax: Axes | None = None) -> None:
    """One legend per figure: in `ax` (an empty grid cell) when given, else below the panels."""
    if ax is not None:
        ax.legend(handles=list(handles), loc="center", fontsize=10, frameon=False)
        return
    wide = fig.get_figwidth() >= 9.0  # a single panel stacks the entries: a row of three would not fit
    fig.legend(handles=list(handles), loc="outside lower center", ncols=min(3, len(handles)) if wide else 1,
               fontsize=9, frameon=False)


def _re_gsd_line(ax: Axes, eta_c_ratio: float) -> Line2D:
    """The line Re g_sd = 0, eta_c = ratio * eta_t, on (x = eta_c, y = eta_t) axes."""
    x0, x1 = ax.get_xlim()
    xs = np.linspace(x0, x1, 50)
    (line,) = ax.plot(xs, xs / eta_c_ratio, "k--", lw=1.0,
                      label=rf"${{\rm Re}}\,g_{{sd}}=0$: $\eta_c = {eta_c_ratio:.1f}\,\eta_t$")
    ax.set_xlim(x0, x1)
    return line


def _fig2_axes(ax: Axes, runs: Sequence[RunView], panel: str, eta_c_ratio: float, n_points: int,
               seed: int) -> list[Line2D]:
    """One Fig. 2 panel; returns the extra legend handles it drew (the Re g_sd = 0 line)."""
    y_name, x_name = FIG2_PANELS[panel]
    drawn = _scatter_panel(ax, runs, "samples", x_name, y_name, n_points, seed, allow_log=False)
    return [_re_gsd_line(ax, eta_c_ratio)] if drawn and panel == "eta_t_vs_eta_c" else []


def fig2_panels(runs: Sequence[RunView], eta_c_ratio: float | None = None, n_points: int = _SCATTER_POINTS,
                seed: int = 0) -> dict[str, Figure]:
    """The paper's Fig. 2: one figure per parameter pair of FIG2_PANELS, plus "grid" with all of them.

    Each run in its colour (RunView.colour); one legend per figure (in the grid's empty sixth cell).  The
    eta_t-eta_c panel carries the line Re g_sd = 0 (eta_c = ratio eta_t; ratio from physics.couplings when
    not given, -27.3).
    """
    if not runs:
        raise ValueError("fig2_panels needs at least one run")
    if eta_c_ratio is None:
        from physics.couplings import eta_c_cancellation_ratio

        eta_c_ratio = eta_c_cancellation_ratio()
    figs = {}
    for panel in FIG2_PANELS:
        fig = Figure(figsize=(5.0, 4.6), layout="constrained")
        extra = _fig2_axes(fig.add_subplot(), runs, panel, eta_c_ratio, n_points, seed)
        _figure_legend(fig, [*run_handles(runs), *extra])
        figs[panel] = fig
    grid = Figure(figsize=(13.0, 8.0), layout="constrained")
    axes = grid.subplots(2, 3).ravel()
    extra = []
    for ax, panel in zip(axes, FIG2_PANELS, strict=False):
        extra += _fig2_axes(ax, runs, panel, eta_c_ratio, n_points, seed)
    axes[-1].set_axis_off()
    _figure_legend(grid, [*run_handles(runs), *extra], axes[-1])
    figs["grid"] = grid
    return figs


# ----------------------------------------------------------------------------------------------- Fig. 3
REFERENCE_KEY: tuple[Line2D | Patch, ...] = (
    Patch(facecolor="0.5", alpha=0.35, label=r"measurement ($1\sigma$)"),
    Line2D([], [], color="k", ls="--", label="upper limit (excluded side hatched)"),
    Line2D([], [], color="0.2", ls=":", label="SM"),
)


def _draw_reference(ax: Axes, ref: Reference, vertical: bool) -> None:
    """A measurement band, an upper limit (dashed, excluded side hatched) or the SM value (dotted), named on
    the axes next to the line, on its allowed side."""
    span, line = (ax.axvspan, ax.axvline) if vertical else (ax.axhspan, ax.axhline)
    if ref.kind == "measurement":
        span(ref.value - ref.error_down, ref.value + ref.error_up, color="0.5", alpha=0.25, lw=0)
        line(ref.value, color="0.3", lw=1.0)
        name = ref.label or "measurement"
    elif ref.kind == "upper_limit":
        line(ref.value, color="k", ls="--", lw=1.2)
        lim = ax.get_xlim() if vertical else ax.get_ylim()
        if lim[1] > ref.value:
            span(ref.value, lim[1], facecolor="none", edgecolor="0.4", hatch="//", lw=0)
        name = ref.label or "upper limit"
    else:
        line(ref.value, color="0.2", ls=":", lw=1.2)
        name = ref.label or "SM"
    style: dict[str, Any] = {"fontsize": 7, "color": "0.15", "clip_on": True,
             "bbox": {"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.0}}
    if vertical:  # text along the line, on its lower-value (allowed) side, near the top of the axes
        ax.text(ref.value, 0.97, name + " ", transform=ax.get_xaxis_transform(), rotation=90, ha="right",
                va="top", **style)
    else:
        ax.text(0.02, ref.value, " " + name, transform=ax.get_yaxis_transform(), ha="left", va="top", **style)


def _fig3_axes(ax: Axes, runs: Sequence[RunView], y_name: str, x_name: str,
               references: Mapping[str, Sequence[Reference]], n_points: int, seed: int) -> None:
    values = (_reference_values(references.get(x_name, ())), _reference_values(references.get(y_name, ())))
    if not _scatter_panel(ax, runs, "observables", x_name, y_name, n_points, seed, values):
        ax.text(0.5, 0.5, "no predictions", ha="center", va="center", transform=ax.transAxes)
        return
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    for name, vertical in ((x_name, True), (y_name, False)):
        for ref in references.get(name, ()):
            _draw_reference(ax, ref, vertical)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)


def fig3_correlations(runs: Sequence[RunView], references: Mapping[str, Sequence[Reference]] | None = None,
                      pairs: Sequence[tuple[str, str]] = FIG3_PAIRS, n_points: int = _SCATTER_POINTS,
                      seed: int = 0) -> Figure:
    """The paper's Fig. 3: predicted branching fractions (SM + NP) against each other, one panel per pair.

    Each run in its colour; `references` maps an observable to the measured values, limits and SM values to
    draw on its axis (passed in, never hard-coded here), each named on the panel beside its line.  One
    legend below the panels names the runs and the line styles.  Axes spanning more than a factor 30 are
    logarithmic.
    """
    if not runs:
        raise ValueError("fig3_correlations needs at least one run")
    refs = references or {}
    ncol = min(3, len(pairs))
    nrow = -(-len(pairs) // ncol)
    fig = Figure(figsize=(4.6 * ncol, 4.0 * nrow + 0.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrow, ncol)).ravel()
    for ax, (y_name, x_name) in zip(axes, pairs, strict=False):
        _fig3_axes(ax, runs, y_name, x_name, refs, n_points, seed)
    for ax in axes[len(pairs):]:
        ax.set_axis_off()
    kinds = {r.kind for rs in refs.values() for r in rs}
    key = [h for h, kind in zip(REFERENCE_KEY, ("measurement", "upper_limit", "sm"), strict=True) if kind in kinds]
    _figure_legend(fig, [*run_handles(runs), *key])
    return fig


# -------------------------------------------------------------------------------------------- term pulls
def term_pulls(terms: Mapping[str, float], title: str = "") -> Figure:
    """Bar chart of each likelihood term at one point as |pull| = sqrt(-2 ln L_i) in sigma.

    Terms are 0 at their best value (likelihoods.terms), so for a Gaussian term this is the pull's size;
    for a half-normal upper limit it is x / sigma.  A term at -inf (failed cut or hard bound) is drawn
    as a hatched red bar at the right edge and marked "-inf".
    """
    if not terms:
        raise ValueError("term_pulls needs at least one term")
    names = list(terms)
    logl = np.array([terms[n] for n in names], dtype=float)
    finite = np.isfinite(logl)
    pull = np.sqrt(np.clip(-2.0 * np.where(finite, logl, 0.0), 0.0, None))
    top = max(float(pull[finite].max()) if finite.any() else 0.0, 1.0) * 1.15
    fig = Figure(figsize=(7.0, 0.32 * len(names) + 1.4), layout="constrained")
    ax = fig.add_subplot()
    ypos = np.arange(len(names))[::-1]
    colours = np.where(pull > 2, "tab:orange", "tab:blue")
    ax.barh(ypos[finite], pull[finite], color=colours[finite], height=0.7)
    for y, v in zip(ypos[finite], pull[finite], strict=True):
        if v >= 0.05:
            ax.text(v, y, f" {v:.2f}", va="center", ha="left", fontsize=7, color="0.3")
    if (~finite).any():
        ax.barh(ypos[~finite], top, color="none", edgecolor="tab:red", hatch="//", height=0.7)
        for y in ypos[~finite]:
            ax.text(top, y, r" $-\infty$", va="center", ha="left", color="tab:red", fontsize=9)
    for x in (1.0, 2.0):
        ax.axvline(x, color="0.6", lw=0.8, ls=":")
    ax.set_yticks(ypos, names, fontsize=8)
    ax.set_xlim(0, top)
    ax.set_xlabel(r"$|{\rm pull}| = \sqrt{-2\ln L_i}$  [$\sigma$]")
    ax.set_title(title or "likelihood terms at the best point", fontsize=10)
    return fig
