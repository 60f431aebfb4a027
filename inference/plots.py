"""Figures of finished runs: corner plot, the paper's Fig. 2 panels and Fig. 3, per-term pulls.

The paper is Datta, Marfatia, Mukherjee, PRD 109, L031701 (arXiv:2310.15136).  Fig. 2 shows the allowed
parameter points for kappa != 0 (red) and kappa = 0 (cyan); Fig. 3 the correlations of predicted
branching fractions for kappa != 0 (blue) and kappa = 0 (green).

Figures are built on :class:`matplotlib.figure.Figure` directly (Agg canvas, no pyplot and no global
state), so the functions work without a screen and in threads.  Scatter plots show equally weighted
draws (a fixed-seed resample by weight); 68 % and 95 % contours use the weights.  Every plot function
takes plain inputs (arrays or :class:`~inference.plots_data.RunView` records) and returns the figure;
:func:`save_figure` writes PNG and PDF atomically.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from inference.plots_data import Reference, RunView
from physics import REGISTRY

log = logging.getLogger(__name__)

#: probability mass inside the two contours of every 2-D plot
LEVELS = (0.68, 0.95)
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
_UNIT_TEX = {"1": "", "TeV^-1": r"TeV$^{-1}$", "MeV": "MeV", "GeV": "GeV", "mm": "mm", "ps": "ps",
             "ps^-1": r"ps$^{-1}$", "s^-1": r"s$^{-1}$"}
_SCATTER_POINTS = 3000
_LOG_SPAN = 30.0  # a positive axis spanning more than this factor is drawn logarithmic


def axis_label(name: str) -> str:
    """LaTeX label of an observable or parameter with its unit, e.g. r'$m_S$ [MeV]'."""
    if name not in REGISTRY:
        return name
    obs = REGISTRY[name]
    unit = _UNIT_TEX.get(obs.unit, obs.unit)
    return f"${obs.latex}$" + (f" [{unit}]" if unit else "")


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


# ------------------------------------------------------------------------------------------ corner plot
def corner_plot(samples: np.ndarray, weights: np.ndarray | None, names: Sequence[str],
                labels: Sequence[str] | None = None, colour: str = "k", title: str = "") -> Figure:
    """Corner plot of (n, d) samples with weighted 68 % / 95 % contours and 16/50/84 % quantiles.

    Columns that do not vary (a fixed parameter such as kappa = 0) are left out and logged.
    """
    import corner

    x = np.asarray(samples, dtype=float)
    if x.ndim != 2 or x.shape[1] != len(names):
        raise ValueError(f"samples must have shape (n, {len(names)}), got {x.shape}")
    labs = list(labels) if labels is not None else [axis_label(n) for n in names]
    keep = [j for j in range(x.shape[1]) if np.ptp(x[:, j]) > 0]
    dropped = [names[j] for j in range(x.shape[1]) if j not in keep]
    if dropped:
        log.info("corner plot: constant parameters left out: %s", ", ".join(dropped))
    if not keep:
        raise ValueError("corner plot: every parameter is constant")
    k = len(keep)
    fig = Figure(figsize=(1.9 * k + 1, 1.9 * k + 1))
    w = None if weights is None else np.asarray(weights, dtype=float)
    corner.corner(x[:, keep], weights=w, labels=[labs[j] for j in keep], fig=fig, levels=LEVELS,
                  quantiles=(0.16, 0.5, 0.84), smooth=1.0, bins=30, color=colour, plot_datapoints=False,
                  fill_contours=True, label_kwargs={"fontsize": 11}, max_n_ticks=3)
    if title:
        fig.suptitle(title)
    return fig


def message_figure(text: str, title: str = "") -> Figure:
    """A small figure that says why a plot could not be drawn (keeps the report's figure list complete)."""
    fig = Figure(figsize=(6.0, 2.0))
    fig.text(0.5, 0.5, text, ha="center", va="center", wrap=True)
    if title:
        fig.suptitle(title)
    return fig


def run_corner(view: RunView) -> Figure:
    """Corner plot of a run's parameters (paper units), from the raw weighted samples when available.

    A posterior in which every parameter is constant (e.g. collapsed onto one point by a tiny test run)
    gives a figure that says so instead of an error.
    """
    source, weights = ((view.raw_samples, view.raw_weights) if view.raw_samples and view.raw_weights is not None
                       else (view.samples, view.weights))
    names = list(source)
    x = np.column_stack([source[n] for n in names])
    if not any(np.ptp(x[:, j]) > 0 for j in range(x.shape[1])):
        log.warning("%s: every parameter is constant in the posterior; no corner plot", view.name)
        return message_figure("every parameter is constant in the posterior\n(one distinct point): "
                              "no corner plot", view.label)
    return corner_plot(x, weights, names, colour=view.colour, title=view.label)


# ------------------------------------------------------------------------------------------- 2-D panels
def _use_log(values: Sequence[np.ndarray]) -> bool:
    v = np.concatenate([np.asarray(a, dtype=float).ravel() for a in values])
    v = v[np.isfinite(v)]
    return v.size > 0 and bool(np.all(v > 0)) and float(v.max() / v.min()) > _LOG_SPAN


def _contours(ax: Axes, x: np.ndarray, y: np.ndarray, w: np.ndarray, colour: str, logx: bool,
              logy: bool) -> None:
    """Weighted 68 % / 95 % contours (skipped when either coordinate does not vary)."""
    import corner

    if np.ptp(x) <= 0 or np.ptp(y) <= 0 or len(x) < 20:
        return
    scale = ["log" if logx else "linear", "log" if logy else "linear"]
    try:
        with warnings.catch_warnings():  # corner probes limits <= 0 on log axes; harmless
            warnings.filterwarnings("ignore", message="Attempt to set non-positive")
            corner.hist2d(x, y, weights=w, ax=ax, levels=LEVELS, smooth=1.0, bins=30, color=colour,
                          plot_datapoints=False, plot_density=False, no_fill_contours=True,
                          fill_contours=False, axes_scale=scale, new_fig=False,
                          contour_kwargs={"colors": colour, "linewidths": 1.2})
    except (ValueError, IndexError) as exc:  # too few distinct points for a density
        log.info("contours skipped: %s", exc)


def _reference_values(refs: Sequence[Reference]) -> np.ndarray:
    vals = [v for r in refs for v in (r.value - r.error_down, r.value, r.value + r.error_up)]
    return np.asarray(vals, dtype=float)


def _fit_limits(ax: Axes, which: str, values: Sequence[np.ndarray], log_scale: bool) -> None:
    """Axis limits covering every finite value (positive ones on a log axis), with a 5 % margin."""
    v = np.concatenate([np.asarray(a, dtype=float).ravel() for a in values])
    v = v[np.isfinite(v) & ((v > 0) if log_scale else True)]
    if v.size == 0:
        return
    lo, hi = (float(np.log10(v.min())), float(np.log10(v.max()))) if log_scale else (float(v.min()),
                                                                                        float(v.max()))
    if hi > lo:
        pad = 0.05 * (hi - lo)
    else:  # a single value: a tenth of a decade, or 5 % of the value
        pad = 0.1 if log_scale else (0.05 * abs(lo) or 1.0)
    lo, hi = lo - pad, hi + pad
    lim = (10.0**lo, 10.0**hi) if log_scale else (lo, hi)
    (ax.set_xlim if which == "x" else ax.set_ylim)(lim)


def _paper_style(runs: Sequence[RunView]) -> bool:
    """True when cuts-mode runs (the paper's allowed points) are drawn beside gaussian-mode posteriors: then the
    former are points only and the latter contours only, as in the paper's figures with our posteriors added."""
    return any(r.mode == "cuts" for r in runs) and any(r.mode != "cuts" for r in runs)


def _draws(run: RunView, paper: bool) -> tuple[bool, bool]:
    """(points, contours) to draw for `run`: points and contours, or the paper-style split."""
    if not paper:
        return True, run.mode != "cuts"  # a flat posterior (allowed points) has no contours to speak of
    return run.mode == "cuts", run.mode != "cuts"


def _scatter_panel(ax: Axes, runs: Sequence[RunView], get: str, x_name: str, y_name: str, colour_attr: str,
                   n_points: int, seed: int, extra: tuple[np.ndarray, np.ndarray] | None = None,
                   allow_log: bool = True) -> bool:
    """Equally weighted draws of each run as points, with weighted contours; returns True if drawn.

    Cuts-mode runs (allowed points) are drawn as points only; beside them gaussian-mode runs as contours only
    (`_paper_style`). `extra` (x values, y values), e.g. measured values, take part in the choice of log axes and
    in the axis limits, so that they are visible beside the points.  Limits cover every drawn run.
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
    paper = _paper_style([s[0] for s in series])
    more = extra if extra is not None else (np.zeros(0), np.zeros(0))
    logx = allow_log and _use_log([*(s[1] for s in series), more[0]])
    logy = allow_log and _use_log([*(s[2] for s in series), more[1]])
    for i, (run, x, y) in enumerate(series):
        colour = getattr(run, colour_attr)
        points, contours = _draws(run, paper)
        if points:
            idx = run.resample(min(n_points, run.size), seed + i)
            ax.scatter(x[idx], y[idx], s=3, color=colour, alpha=0.35, linewidths=0, rasterized=True,
                       label=run.label)
        if contours:
            _contours(ax, x, y, run.weights, _contour_colour(colour) if paper else colour, logx, logy)
    ax.set_xscale("log" if logx else "linear")
    ax.set_yscale("log" if logy else "linear")
    # explicit limits: corner.hist2d switches autoscaling off, which would hide a later run's points
    _fit_limits(ax, "x", [*(s[1] for s in series), more[0]], logx)
    _fit_limits(ax, "y", [*(s[2] for s in series), more[1]], logy)
    ax.set_xlabel(axis_label(x_name))
    ax.set_ylabel(axis_label(y_name))
    return True


def _contour_colour(colour: str) -> str:
    """A darker shade of a run's colour for its contours beside another run's points of the same colour."""
    from matplotlib.colors import to_rgb

    return "#{:02x}{:02x}{:02x}".format(*(int(255 * 0.6 * c) for c in to_rgb(colour)))


def _legend(ax: Axes, runs: Sequence[RunView], colour_attr: str, extra: Sequence[Line2D] = ()) -> None:
    paper = _paper_style(runs)
    handles = []
    for r in runs:
        colour = getattr(r, colour_attr)
        if paper and r.mode != "cuts":
            handles.append(Line2D([], [], color=_contour_colour(colour), lw=1.2,
                                  label=f"{r.label}: 68/95 % ({r.mode or 'posterior'})"))
        else:
            text = f"{r.label}: allowed points" if r.mode == "cuts" else r.label
            handles.append(Line2D([], [], marker="o", ls="", color=colour, label=text))
    ax.legend(handles=[*handles, *extra], fontsize=8, loc="best", framealpha=0.8)


def _re_gsd_line(ax: Axes, eta_c_ratio: float) -> Line2D:
    """The line Re g_sd = 0, eta_c = ratio * eta_t, on (x = eta_c, y = eta_t) axes."""
    x0, x1 = ax.get_xlim()
    xs = np.linspace(x0, x1, 50)
    (line,) = ax.plot(xs, xs / eta_c_ratio, "k--", lw=1.0,
                      label=rf"${{\rm Re}}\,g_{{sd}}=0$: $\eta_c = {eta_c_ratio:.1f}\,\eta_t$")
    ax.set_xlim(x0, x1)
    return line


def _fig2_axes(ax: Axes, runs: Sequence[RunView], panel: str, eta_c_ratio: float, n_points: int,
               seed: int) -> None:
    y_name, x_name = FIG2_PANELS[panel]
    drawn = _scatter_panel(ax, runs, "samples", x_name, y_name, "colour", n_points, seed, allow_log=False)
    extra = [_re_gsd_line(ax, eta_c_ratio)] if drawn and panel == "eta_t_vs_eta_c" else []
    if drawn:
        _legend(ax, runs, "colour", extra)


def fig2_panels(runs: Sequence[RunView], eta_c_ratio: float | None = None, n_points: int = _SCATTER_POINTS,
                seed: int = 0) -> dict[str, Figure]:
    """The paper's Fig. 2: one figure per parameter pair of FIG2_PANELS, plus "grid" with all of them.

    kappa != 0 runs in red, kappa = 0 in cyan (RunView.colour).  The eta_t-eta_c panel carries the
    line Re g_sd = 0 (eta_c = ratio eta_t; ratio from physics.couplings when not given, -27.3).
    """
    if not runs:
        raise ValueError("fig2_panels needs at least one run")
    if eta_c_ratio is None:
        from physics.couplings import eta_c_cancellation_ratio

        eta_c_ratio = eta_c_cancellation_ratio()
    figs = {}
    for panel in FIG2_PANELS:
        fig = Figure(figsize=(5.0, 4.2), layout="constrained")
        _fig2_axes(fig.add_subplot(), runs, panel, eta_c_ratio, n_points, seed)
        figs[panel] = fig
    grid = Figure(figsize=(13.0, 8.0), layout="constrained")
    axes = grid.subplots(2, 3).ravel()
    for ax, panel in zip(axes, FIG2_PANELS, strict=False):
        _fig2_axes(ax, runs, panel, eta_c_ratio, n_points, seed)
    axes[-1].set_axis_off()
    figs["grid"] = grid
    return figs


# ----------------------------------------------------------------------------------------------- Fig. 3
def _draw_reference(ax: Axes, ref: Reference, vertical: bool) -> Line2D:
    """A measurement band, an upper limit (dashed, excluded side hatched) or the SM value (dotted)."""
    span, line = (ax.axvspan, ax.axvline) if vertical else (ax.axhspan, ax.axhline)
    if ref.kind == "measurement":
        span(ref.value - ref.error_down, ref.value + ref.error_up, color="0.5", alpha=0.25, lw=0)
        line(ref.value, color="0.3", lw=1.0)
        return Line2D([], [], color="0.3", lw=4, alpha=0.5, label=ref.label or "measurement")
    if ref.kind == "upper_limit":
        line(ref.value, color="k", ls="--", lw=1.2)
        lim = ax.get_xlim() if vertical else ax.get_ylim()
        if lim[1] > ref.value:
            span(ref.value, lim[1], facecolor="none", edgecolor="0.4", hatch="//", lw=0)
        return Line2D([], [], color="k", ls="--", label=ref.label or "upper limit")
    line(ref.value, color="0.2", ls=":", lw=1.2)
    return Line2D([], [], color="0.2", ls=":", label=ref.label or "SM")


def _fig3_axes(ax: Axes, runs: Sequence[RunView], y_name: str, x_name: str,
               references: Mapping[str, Sequence[Reference]], n_points: int, seed: int) -> None:
    values = (_reference_values(references.get(x_name, ())), _reference_values(references.get(y_name, ())))
    if not _scatter_panel(ax, runs, "observables", x_name, y_name, "colour_fig3", n_points, seed, values):
        ax.text(0.5, 0.5, "no predictions", ha="center", va="center", transform=ax.transAxes)
        return
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    extra: dict[str, Line2D] = {}
    for name, vertical in ((x_name, True), (y_name, False)):
        for ref in references.get(name, ()):
            handle = _draw_reference(ax, ref, vertical)
            extra.setdefault(str(handle.get_label()), handle)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    _legend(ax, runs, "colour_fig3", list(extra.values()))


def fig3_correlations(runs: Sequence[RunView], references: Mapping[str, Sequence[Reference]] | None = None,
                      pairs: Sequence[tuple[str, str]] = FIG3_PAIRS, n_points: int = _SCATTER_POINTS,
                      seed: int = 0) -> Figure:
    """The paper's Fig. 3: predicted branching fractions (SM + NP) against each other, one panel per pair.

    kappa != 0 in blue, kappa = 0 in green (RunView.colour_fig3).  `references` maps an observable to the
    measured values, limits and SM values to draw on its axis (passed in, never hard-coded here).
    Axes spanning more than a factor 30 are logarithmic.
    """
    if not runs:
        raise ValueError("fig3_correlations needs at least one run")
    refs = references or {}
    ncol = min(3, len(pairs))
    nrow = -(-len(pairs) // ncol)
    fig = Figure(figsize=(4.6 * ncol, 4.0 * nrow), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrow, ncol)).ravel()
    for ax, (y_name, x_name) in zip(axes, pairs, strict=False):
        _fig3_axes(ax, runs, y_name, x_name, refs, n_points, seed)
    for ax in axes[len(pairs):]:
        ax.set_axis_off()
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
