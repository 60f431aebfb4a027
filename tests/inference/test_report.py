"""`darkportal plot` and `darkportal report` on fake results folders written by inference.output.results.

The folders are written with `inference.output.results.write_results` from small arrays (no sampling), so these
tests check the real file format.  Plotting runs once per module: rendering dominates the time.  The report
pages are checked for the defects a reader would see (tests/report_checks.py) and, where Chromium is
installed, rendered in headless Chromium and the screenshot checked not to be blank.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest
from report_checks import chromium, html_defects, screenshot

from inference.cli import plot as cmd_plot
from inference.cli import report as cmd_report
from inference.output import plots
from inference.output.plots_data import load_run_view
from inference.output.report import ReportData, figures_in, format_cell, html_table, render_report
from inference.output.report_data import run_section
from inference.output.results import collect_provenance, read_results, write_results
from inference.output.tables import TABLE3_OBSERVABLES
from inference.samplers import SamplerOutput
from inference.samplers.problem import SampleExtras
from physics import PARAM_NAMES, ModelParams, predict
from priors import PAPER_RANGES

N = 120
FIXED = {"eta_d": 0.3, "g_D": 2.0, "U_mu4": 0.005, "m_nu4": 420.0}  # paper units
LOGZ = {"kappa_nonzero": -3.2, "kappa_zero": -4.7}
OVERLAYS = {*(f"fig2_{p}" for p in plots.FIG2_PANELS), "fig2_grid", "fig3", "corner"}


def _write_run(path: Path, kappa_zero: bool, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    eta_t = rng.uniform(0.005, 0.012, N)
    free = {"eta_c": -27.3 * eta_t * rng.normal(1.0, 0.05, N), "eta_t": eta_t, "m_S": rng.uniform(30, 140, N)}
    if not kappa_zero:
        free = {"kappa": rng.uniform(0.4, 1.4, N), **free}
    fixed = {**FIXED, **({"kappa": 0.0} if kappa_zero else {})}
    full = {p: free[p] if p in free else np.full(N, fixed[p]) for p in PARAM_NAMES}
    pred = predict(ModelParams.from_paper_units(full), ["BR(B+->K+nunu)", "BR(KL->pi0nunu)"])
    terms = {"BR(B+->K+nunu)": -0.5 * ((pred["BR(B+->K+nunu)"].total - 2.3e-5) / 0.7e-5) ** 2,
             "Delta_a_mu": -0.5 * rng.chisquare(1, N)}
    logl = terms["BR(B+->K+nunu)"] + terms["Delta_a_mu"]
    blobs = SampleExtras(term_logl=terms, predictions={
        "BR(KL->pi0nunu)": pred["BR(KL->pi0nunu)"].total,
        "BR(B+->K+nunu)": pred["BR(B+->K+nunu)"].np})  # NP part only: the reader must notice
    names = tuple(free)
    w = rng.uniform(0.2, 1.0, N)
    name = "kappa_zero" if kappa_zero else "kappa_nonzero"
    out = SamplerOutput(names=names, samples=np.column_stack([free[n] for n in names]), weights=w / w.sum(),
                        logl=logl, logz=LOGZ[name], logz_err=0.1, info={"ncall": 1000},
                        logz_resampled=[LOGZ[name] + d for d in (-0.1, 0.0, 0.1)], sampler="dynesty")
    config = {"name": name, "seed": seed,
              "parameters": {**{p: {"fixed": v} for p, v in fixed.items()},
                             **{p: {"prior": "uniform", "min": PAPER_RANGES[p][0], "max": PAPER_RANGES[p][1]}
                                for p in names}},
              "likelihood": {"data": "2023", "mode": "gaussian", "terms": {}},
              "theory": {"scenario": "paper", "options": {}},
              "sampler": {"name": "dynesty", "settings": {"nlive": 50}}}
    write_results(path / name, out, blobs, config, collect_provenance(seed, "dynesty", {"nlive": 50}, "2023"))
    return path / name


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory) -> list[Path]:
    base = tmp_path_factory.mktemp("results")
    dirs = [_write_run(base, False, 1), _write_run(base, True, 2)]
    before = {d: _snapshot(d) for d in dirs}
    assert cmd_plot.main([str(d) for d in dirs] + ["--points", "300", "--out", str(base / "both")]) == 0
    assert cmd_report.main([str(d) for d in dirs] + ["--out", str(base / "both")]) == 0
    for d in dirs:  # several runs: no input folder is changed
        assert _snapshot(d) == before[d]
    assert cmd_report.main([str(dirs[0])]) == 0  # one run: its own folder, as asked
    return [*dirs, base / "both"]


def test_several_runs_need_out(run_dirs):
    with pytest.raises(cmd_plot.PlotUsageError, match="--out"):
        cmd_plot.main([str(d) for d in run_dirs[:2]])
    with pytest.raises(cmd_plot.PlotUsageError, match="--out"):
        cmd_report.main([str(d) for d in run_dirs[:2]])


def test_run_view_reads_results(run_dirs):
    view = load_run_view(run_dirs[1], wanted=["BR(Bs->invisible)"])
    assert view.kappa_zero
    assert list(view.samples) == list(PARAM_NAMES)  # fixed parameters filled from run.yaml
    assert np.all(view.samples["kappa"] == 0.0) and np.all(view.samples["g_D"] == FIXED["g_D"])
    assert view.bounds["m_S"] == PAPER_RANGES["m_S"] and "g_D" not in view.bounds  # prior ranges of the free ones
    full = ModelParams.from_paper_units({p: view.samples[p] for p in PARAM_NAMES})
    ref = predict(full, ["BR(B+->K+nunu)", "BR(KL->pi0nunu)", "BR(Bs->invisible)"])
    for name in ref:  # the NP-only stored value was replaced by SM + NP; the others agree
        np.testing.assert_allclose(view.observables[name], ref[name].total, rtol=1e-9)
    assert set(view.terms) == {"BR(B+->K+nunu)", "Delta_a_mu"}
    res = read_results(run_dirs[1])
    logl = np.asarray(res.posterior["sample_stats"].ds["logl"]).ravel()
    assert view.best == int(np.argmax(logl))


def test_plot_writes_every_figure_as_png_and_pdf(run_dirs):
    both = run_dirs[2]
    assert set(figures_in(both)) == {*OVERLAYS, "term_pulls_kappa_nonzero", "term_pulls_kappa_zero"}
    assert set(figures_in(run_dirs[0])) == {*OVERLAYS, "term_pulls"}
    assert figures_in(run_dirs[1]) == {}  # never plotted alone, never written into
    for stem in figures_in(both):
        for ext in ("png", "pdf"):
            assert (both / "figures" / f"{stem}.{ext}").stat().st_size > 1000, (stem, ext)


def test_plot_writes_tables(run_dirs):
    for folder in (run_dirs[2] / "kappa_nonzero", run_dirs[2] / "kappa_zero", run_dirs[0]):
        for stem in ("posterior_intervals", "benchmark_predictions"):
            for ext in ("md", "csv", "tex"):
                assert (folder / f"{stem}.{ext}").stat().st_size > 100
        text = (folder / "posterior_intervals.csv").read_text()
        quantities = [line.split(",")[0].strip('"') for line in text.splitlines()[1:]]
        assert quantities == [*PARAM_NAMES, *TABLE3_OBSERVABLES]


def test_report_embeds_every_figure(run_dirs):
    for folder in (run_dirs[0], run_dirs[2]):
        page = (folder / "report.html").read_text(encoding="utf-8")
        for stem, png in figures_in(folder).items():
            embedded = base64.b64encode(png.read_bytes()).decode("ascii") in page
            # the single Fig. 2 panels are linked, not shown a second time beside the grid
            assert embedded == (not stem.startswith("fig2_") or stem == "fig2_grid"), stem
            assert f'href="figures/{stem}.pdf"' in page
        # self-contained: no scripts, no remote resources
        assert "<script" not in page
        assert not re.search(r'(src|href)="https?:', page)
        prov = json.loads((run_dirs[0] / "provenance.json").read_text())
        assert str(prov["git_revision"]) in page
        assert "Table III-style predictions" in page and "Posterior intervals" in page


def test_report_pages_have_no_reader_visible_defects(run_dirs):
    for folder in (run_dirs[0], run_dirs[2]):
        page = (folder / "report.html").read_text(encoding="utf-8")
        assert html_defects(page) == []
        assert "<td>seed</td><td>1</td>" in page


def test_html_checker_finds_the_defects_it_names():
    clean = render_report(ReportData(name="x"))
    bad = clean.replace("</body>", '<table><tr><th>seed</th><td>2.02402e+07</td></tr><tr><td>nan</td></tr>'
                                   '<tr><td>[1.0, 2.0, 3.0]</td></tr><tr><td>{"a": 1}</td></tr></table>'
                                   "<pre>Savage-Dickey cross-check</pre></body>")
    problems = "\n".join(html_defects(bad))
    for word in ("seed", "'nan'", "raw list", "Savage-Dickey", "priors"):
        assert word in problems, word


@pytest.mark.skipif(chromium() is None, reason="Chromium not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(run_dirs, tmp_path):
    from matplotlib.image import imread

    png = tmp_path / "report.png"
    screenshot(run_dirs[2] / "report.html", png)
    img = imread(png)[..., :3]
    assert img.shape[0] > 1000 and img.shape[1] > 800
    ink = np.mean(np.any(img < 0.9, axis=2))  # share of pixels that are not (near) white
    assert ink > 0.03, ink
    colours = {tuple(c) for c in (img[::7, ::7].reshape(-1, 3) * 8).astype(int)}
    assert len(colours) > 30  # figures and text, not a flat page


def test_report_compares_the_runs(run_dirs):
    page = (run_dirs[2] / "report.html").read_text(encoding="utf-8")
    ln_b = LOGZ["kappa_nonzero"] - LOGZ["kappa_zero"]
    assert f"<td>{ln_b:.4g}</td>" in page  # ln B = ln Z_A - ln Z_B = 1.5
    assert "Savage-Dickey" in page


def test_run_section_best_fit_is_the_highest_likelihood_sample(run_dirs):
    sec = run_section(run_dirs[0])
    ws = read_results(run_dirs[0]).posterior["weighted_samples"].ds
    i = int(np.argmax(ws["logl"].values))
    assert sec.best is not None and sec.best.logl == pytest.approx(float(ws["logl"].values[i]))
    values = {r["parameter"]: r["value"] for r in sec.best.params}
    assert values["kappa"] == pytest.approx(float(ws["kappa"].values[i])) and values["g_D"] == FIXED["g_D"]
    assert {r["parameter"] for r in sec.priors} == set(PARAM_NAMES)
    assert "ess_kish" not in {k for r in sec.summary for k in r} and "ESS (Kish)" in sec.summary[0]


def test_report_runs_plot_when_figures_are_missing(tmp_path, monkeypatch):
    run = _write_run(tmp_path, True, 3)
    calls = []
    monkeypatch.setattr(cmd_report, "make_plots", lambda dirs, data=None, out=None: calls.append(list(dirs)))
    assert cmd_report.main([str(run)]) == 0
    assert calls == [[run]]
    page = (run / "report.html").read_text(encoding="utf-8")
    assert "No figures" in page


def test_render_report_from_plain_data(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [0, 1])
    pngs = {}
    for stem in ("extra_plot", "corner"):
        fig.savefig(tmp_path / f"{stem}.png")
        pngs[stem] = tmp_path / f"{stem}.png"
    data = ReportData(name="a<b", figures=pngs, comparison=[{"quantity": "<x>", "value": 1.5e-9}])
    page = render_report(data)
    for png in pngs.values():
        assert base64.b64encode(png.read_bytes()).decode("ascii") in page
    assert page.index('id="fig-corner"') < page.index('id="fig-extra_plot"')  # known figures first
    assert "a&lt;b" in page and "&lt;x&gt;" in page and "<x>" not in page
    assert "<td>1.5e-09</td>" in page


def test_cells_are_formatted_for_reading():
    assert [format_cell(v) for v in (None, float("nan"), float("-inf"), 20240215, 20240215.0, True, (0.1, 2.0))] \
        == ["–", "–", "−∞", "20240215", "20240215", "yes", "[0.1, 2]"]
    assert "empty" in html_table([])
