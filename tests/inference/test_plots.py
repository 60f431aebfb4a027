"""Plot functions: each returns a figure and writes non-empty PNG and PDF files (issue 5, must-show)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from inference.output import plots
from inference.output.plots_axes import axis_label, bounded_contours, label_axis, scale_power
from inference.output.plots_data import Reference, RunView, measurement_references, sm_references, style_runs
from physics import PARAM_NAMES
from physics.couplings import eta_c_cancellation_ratio

N = 160  # small posteriors keep the rendering fast


def _samples(rng: np.random.Generator, kappa_zero: bool) -> dict[str, np.ndarray]:
    eta_t = rng.uniform(0.005, 0.012, N)
    return {"kappa": np.zeros(N) if kappa_zero else rng.uniform(0.5, 1.3, N),
            "eta_d": rng.uniform(0.1, 0.9, N), "eta_c": -27.3 * eta_t * rng.normal(1.0, 0.05, N),
            "eta_t": eta_t, "g_D": rng.uniform(0.5, 3.4, N), "U_mu4": rng.uniform(0.003, 0.006, N),
            "m_S": rng.uniform(20.0, 140.0, N), "m_nu4": rng.uniform(400.0, 520.0, N)}


def _observables(rng: np.random.Generator) -> dict[str, np.ndarray]:
    scale = {"BR(K+->pi+nunu)": 1e-9, "BR(KL->pi0nunu)": 1e-10, "BR(B+->K+nunu)": 2e-5,
             "BR(B0->K*0nunu)": 3e-5, "BR(Bs->invisible)": 1e-7}
    return {k: v * rng.lognormal(0.0, 1.0, N) for k, v in scale.items()}


@pytest.fixture(scope="module")
def runs() -> list[RunView]:
    rng = np.random.default_rng(7)
    out = []
    for kappa_zero in (False, True):
        terms = {"BR(B+->K+nunu)": -0.5 * rng.chisquare(1, N), "Delta_a_mu": -0.5 * rng.chisquare(1, N)}
        out.append(RunView.build("kappa_zero" if kappa_zero else "kappa_nonzero", _samples(rng, kappa_zero),
                                 rng.uniform(0.1, 1.0, N), observables=_observables(rng), terms=terms,
                                 bounds={"eta_d": (0.0, 1.0), "m_nu4": (400.0, 700.0)}))
    return style_runs(out)


def _assert_written(paths: list, stem: str) -> None:
    assert sorted(p.suffix for p in paths) == [".pdf", ".png"]
    for p in paths:
        assert p.name.startswith(stem) and p.stat().st_size > 1000, p
    assert paths[0].with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths[0].with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"


def test_corner_plot_returns_figure_and_writes_files(tmp_path, runs):
    names = ["eta_t", "eta_c", "m_S"]
    x = np.column_stack([runs[0].samples[n] for n in names])
    fig = plots.corner_plot(x, runs[0].weights, names, [plots.axis_label(n) for n in names])
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 9  # 3 x 3 grid
    _assert_written(plots.save_figure(fig, tmp_path, "corner"), "corner")


def test_corner_plot_drops_constant_parameter(runs):
    """kappa = 0 (fixed) cannot be histogrammed: it is left out, the other 7 parameters stay."""
    fig = plots.run_corner(runs[1])
    assert len(fig.axes) == 7 * 7


def test_corner_plot_rejects_bad_shape():
    with pytest.raises(ValueError, match="shape"):
        plots.corner_plot(np.zeros((10, 2)), None, ["a", "b", "c"])


def _legends(fig: Figure) -> list:
    return [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)]


def test_fig2_panels_overlay_the_runs_with_one_legend(tmp_path, runs):
    figs = plots.fig2_panels(runs, n_points=200)
    assert set(figs) == {*plots.FIG2_PANELS, "grid"}
    assert all(isinstance(f, Figure) for f in figs.values())
    for stem in ("grid", "eta_t_vs_eta_c"):  # writing every panel would only repeat the same code path
        _assert_written(plots.save_figure(figs[stem], tmp_path, f"fig2_{stem}"), f"fig2_{stem}")
    assert [r.colour for r in runs] == ["tab:red", "tab:blue"]  # by run, in the order given
    for fig in figs.values():  # one legend per figure, not one per panel
        assert len(_legends(fig)) == 1
    labels = [t.get_text() for t in _legends(figs["grid"])[0].get_texts()]
    assert any("kappa_nonzero" in t for t in labels) and any("kappa_zero" in t for t in labels)
    assert any(r"{\rm Re}\,g_{sd}=0" in t for t in labels)
    ax = figs["eta_t_vs_eta_c"].axes[0]
    assert ax.get_xlabel() == r"$\eta_c$" and ax.get_ylabel() == r"$\eta_t$"
    assert figs["m_S_vs_m_nu4"].axes[0].get_ylabel() == "$m_S$ [MeV]"
    assert figs["g_D_vs_U_mu4"].axes[0].get_xlabel() == r"$|U_{\mu 4}|$ [$10^{-3}$]"  # scaled, no offset text


def test_runs_of_the_same_case_get_their_own_colour_and_label(runs, tmp_path):
    twins = [RunView.build("kappa_nonzero", runs[0].samples, runs[0].weights) for _ in range(3)]
    style_runs(twins, [tmp_path / "mine" / "kappa_nonzero", tmp_path / "ref" / "kappa_nonzero",
                       tmp_path / "kappa_nonzero"])
    assert len({v.colour for v in twins}) == 3
    assert len({v.label for v in twins}) == 3
    assert twins[0].label.startswith("mine/kappa_nonzero") and twins[1].label.startswith("ref/kappa_nonzero")


def test_contours_stay_inside_the_prior_box():
    """Samples piled against a prior edge (eta_d near 0, kappa near 0): no contour vertex outside the box."""
    from matplotlib.figure import Figure as Fig

    rng = np.random.default_rng(3)
    x, y = np.abs(rng.normal(0.0, 0.15, 4000)), rng.uniform(0.0, 1.0, 4000) ** 3
    ax = Fig().add_subplot()
    assert bounded_contours(ax, x, y, np.ones_like(x), "k", (0.0, 1.0), (0.0, 1.0))
    verts = np.concatenate([p.vertices for c in ax.collections for p in c.get_paths() if len(p.vertices)])
    assert len(verts) > 10
    assert verts[:, 0].min() >= 0.0 and verts[:, 1].min() >= 0.0 and verts.max() <= 1.0
    assert verts[:, 0].min() == 0.0  # the density does not vanish at the edge: the contour runs up to it


def test_scaled_axis_labels():
    assert scale_power(0.0, 0.006) == -3 and scale_power(0.0, 3.5) == 0 and scale_power(1e-5, 4e-5) == -5
    assert axis_label("m_S", 3) == "$m_S$ [$10^{3}$ MeV]"
    from matplotlib.figure import Figure as Fig

    ax = Fig().add_subplot()
    ax.set_xlim(1e-5, 4e-5)
    label_axis(ax, "x", "BR(B+->K+nunu)")
    assert ax.get_xlabel().endswith("[$10^{-5}$]")
    assert ax.xaxis.get_major_formatter()(2e-5, 0) == "2"


def test_corner_overlays_several_runs(runs):
    fig = plots.run_corner(runs)
    assert len(fig.legends) == 1 and len(fig.legends[0].get_texts()) == 2
    colours = {tuple(np.round(c.get_edgecolor()[0][:3], 3)) for ax in fig.axes for c in ax.collections
               if len(c.get_edgecolor())}
    assert len(colours) >= 2


def test_fig2_re_gsd_line_follows_the_ratio(runs):
    """The dashed line is eta_c = r eta_t with r from physics.couplings (-27.3, docs/physics/flavour.md §0)."""
    ratio = eta_c_cancellation_ratio()
    assert ratio == pytest.approx(-27.3, rel=0.01)
    ax = plots.fig2_panels(runs[:1], n_points=100)["eta_t_vs_eta_c"].axes[0]
    line = next(ln for ln in ax.get_lines() if ln.get_linestyle() == "--")
    x, y = line.get_data()
    np.testing.assert_allclose(np.asarray(x) / np.asarray(y), ratio, rtol=1e-12)


def test_fig3_correlations_draws_references(tmp_path, runs):
    refs = {"BR(B+->K+nunu)": [Reference("BR(B+->K+nunu)", "measurement", 2.3e-5, 0.7e-5, 0.7e-5, "Belle II")],
            "BR(KL->pi0nunu)": [Reference("BR(KL->pi0nunu)", "upper_limit", 4.9e-9, label="KOTO")],
            "BR(K+->pi+nunu)": [Reference("BR(K+->pi+nunu)", "sm", 8.4e-11, label="SM")]}
    pairs = plots.FIG3_PAIRS[:3]  # three of the six panels: the rendering is the slow part of this test
    assert {n for pair in plots.FIG3_PAIRS for n in pair} == {
        "BR(K+->pi+nunu)", "BR(KL->pi0nunu)", "BR(B+->K+nunu)", "BR(B0->K*0nunu)", "BR(Bs->invisible)"}
    fig = plots.fig3_correlations(runs, refs, pairs=pairs, n_points=200)
    assert isinstance(fig, Figure)
    drawn = [ax for ax in fig.axes if ax.axison]
    assert len(drawn) == len(pairs)
    # the references are named on the panels beside their lines; one legend below names runs and styles
    names = {t.get_text().strip() for ax in drawn for t in ax.texts}
    assert {"Belle II", "KOTO", "SM"} <= names
    assert all(ax.get_legend() is None for ax in drawn) and len(fig.legends) == 1
    legend_text = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend_text[:2] == [r.label for r in runs] and any("upper limit" in t for t in legend_text)
    _assert_written(plots.save_figure(fig, tmp_path, "fig3"), "fig3")


def test_fig3_log_axes_for_wide_ranges(runs):
    fig = plots.fig3_correlations(runs, {}, pairs=[("BR(KL->pi0nunu)", "BR(K+->pi+nunu)")], n_points=100)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"


def test_term_pulls(tmp_path, runs):
    terms = {**runs[0].best_terms(), "KOTO": -np.inf, "far off": -4.5}
    fig = plots.term_pulls(terms)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(terms)  # top to bottom
    widths = sorted(round(p.get_width(), 6) for p in ax.patches if isinstance(p, Rectangle))
    assert 3.0 in widths  # sqrt(-2 * -4.5) = 3 sigma
    assert any("infty" in t.get_text() for t in ax.texts)
    _assert_written(plots.save_figure(fig, tmp_path, "term_pulls"), "term_pulls")


def test_save_figure_leaves_no_temporary_files(tmp_path, runs):
    plots.save_figure(plots.term_pulls({"a": -0.5}), tmp_path, "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.pdf", "x.png"]


def test_run_view_weights_and_best_point():
    s = {"eta_t": np.array([1.0, 2.0, 3.0])}
    view = RunView.build("r", s, [1.0, 1.0, 2.0], terms={"t": np.array([-3.0, -0.1, -1.0])})
    np.testing.assert_allclose(view.weights, [0.25, 0.25, 0.5])
    assert view.best == 1
    assert view.best_terms() == {"t": -0.1}
    draws = view.resample(20000, seed=3)
    assert np.mean(draws == 2) == pytest.approx(0.5, abs=0.02)  # resampled in proportion to the weights
    with pytest.raises(ValueError, match="weights"):
        RunView.build("r", s, [1.0, -1.0, 1.0])


def test_axis_labels_use_registry_latex_and_units():
    assert plots.axis_label("kappa") == r"$\kappa$ [TeV$^{-1}$]"
    assert plots.axis_label("BR(B+->K+nunu)") == r"$\mathcal{B}(B^+\to K^+\nu\bar\nu)$"
    assert plots.axis_label("m_nu4") == r"$m_{\nu_4}$ [MeV]"
    assert plots.axis_label("not an observable") == "not an observable"
    assert plots.axis_label("eta_t", -3) == r"$\eta_t$ [$10^{-3}$]"


def test_fig2_panels_cover_every_parameter():
    assert {p for pair in plots.FIG2_PANELS.values() for p in pair} == set(PARAM_NAMES)


def test_references_from_the_measurement_database():
    """Numbers from likelihoods/data/measurements.yaml (paper Table I): Belle II 2.3(0.7)e-5, KOTO < 4.9e-9,
    and the NP-only B0 -> K*0 nu nu limit 1.8e-5 drawn on the SM + NP axis at 1.8e-5 + 9.2e-6."""
    refs = measurement_references(plots.FIG3_OBSERVABLES, "2023")
    by_kind = {(k, r.kind): r for k, rs in refs.items() for r in rs}
    belle2 = by_kind[("BR(B+->K+nunu)", "measurement")]
    assert (belle2.value, belle2.error_up) == pytest.approx((2.3e-5, 0.7e-5))
    assert by_kind[("BR(KL->pi0nunu)", "upper_limit")].value == pytest.approx(4.9e-9)
    assert by_kind[("BR(B0->K*0nunu)", "upper_limit")].value == pytest.approx(1.8e-5 + 9.2e-6)
    assert by_kind[("BR(K+->pi+nunu)", "sm")].value == pytest.approx(8.4e-11)
    assert set(sm_references(["BR(Bs->invisible)"])) == set()  # no SM value for a pure NP prediction
