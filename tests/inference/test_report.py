"""`darkportal plot` and `darkportal report` on fake results folders written by inference.results.

The folders are written with `inference.results.write_results` from small arrays (no sampling), so these
tests check the real file format.  Plotting runs once per module: rendering dominates the time.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest

from inference import cmd_plot, cmd_report, plots
from inference.plots_data import load_run_view
from inference.report import ReportData, figures_in, html_table, render_report
from inference.results import collect_provenance, read_results, write_results
from inference.samplers import SamplerOutput
from inference.tables import TABLE3_OBSERVABLES
from physics import PARAM_NAMES, ModelParams, predict

N = 120
FIXED = {"eta_d": 0.3, "g_D": 2.0, "U_mu4": 0.005, "m_nu4": 420.0}  # paper units
LOGZ = {"kappa_nonzero": -3.2, "kappa_zero": -4.7}
OVERLAYS = {*(f"fig2_{p}" for p in plots.FIG2_PANELS), "fig2_grid", "fig3"}


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
    blobs = {f"logl:{k}": v for k, v in terms.items()}
    blobs["pred:BR(KL->pi0nunu)"] = pred["BR(KL->pi0nunu)"].total
    blobs["pred:BR(B+->K+nunu)"] = pred["BR(B+->K+nunu)"].np  # NP part only: the reader must notice
    names = tuple(free)
    w = rng.uniform(0.2, 1.0, N)
    name = "kappa_zero" if kappa_zero else "kappa_nonzero"
    out = SamplerOutput(names=names, samples=np.column_stack([free[n] for n in names]), weights=w / w.sum(),
                        logl=logl, logz=LOGZ[name], logz_err=0.1, info={"ncall": 1000},
                        logz_resampled=[LOGZ[name] + d for d in (-0.1, 0.0, 0.1)], sampler="dynesty")
    config = {"name": name, "seed": seed,
              "parameters": {**{p: {"fixed": v} for p, v in fixed.items()},
                             **{p: {"prior": "uniform", "min": 0.0, "max": 2.0} for p in names}},
              "likelihood": {"data": "2023", "mode": "gaussian", "terms": {}},
              "theory": {"scenario": "paper", "options": {}},
              "sampler": {"name": "dynesty", "settings": {"nlive": 50}}}
    write_results(path / name, out, blobs, config, collect_provenance(seed, "dynesty", {"nlive": 50}, "2023"))
    return path / name


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory) -> list[Path]:
    base = tmp_path_factory.mktemp("results")
    dirs = [_write_run(base, False, 1), _write_run(base, True, 2)]
    assert cmd_plot.main([str(d) for d in dirs] + ["--points", "300"]) == 0
    assert cmd_report.main([str(d) for d in dirs]) == 0
    return dirs


def test_run_view_reads_results(run_dirs):
    view = load_run_view(run_dirs[1], wanted=["BR(Bs->invisible)"])
    assert view.kappa_zero and view.colour == "c" and view.colour_fig3 == "tab:green"
    assert list(view.samples) == list(PARAM_NAMES)  # fixed parameters filled from run.yaml
    assert np.all(view.samples["kappa"] == 0.0) and np.all(view.samples["g_D"] == FIXED["g_D"])
    full = ModelParams.from_paper_units({p: view.samples[p] for p in PARAM_NAMES})
    ref = predict(full, ["BR(B+->K+nunu)", "BR(KL->pi0nunu)", "BR(Bs->invisible)"])
    for name in ref:  # the NP-only stored value was replaced by SM + NP; the others agree
        np.testing.assert_allclose(view.observables[name], ref[name].total, rtol=1e-9)
    assert set(view.terms) == {"BR(B+->K+nunu)", "Delta_a_mu"}
    res = read_results(run_dirs[1])
    logl = np.asarray(res.posterior["sample_stats"].ds["logl"]).ravel()
    assert view.best == int(np.argmax(logl))


def test_plot_writes_every_figure_as_png_and_pdf(run_dirs):
    for d in run_dirs:
        stems = set(figures_in(d))
        assert stems == {"corner", "term_pulls", *OVERLAYS}
        for stem in stems:
            for ext in ("png", "pdf"):
                assert (d / "figures" / f"{stem}.{ext}").stat().st_size > 1000, (d, stem, ext)
    # the overlays are drawn once and copied into the second run's folder
    for stem in OVERLAYS:
        a, b = (d / "figures" / f"{stem}.png" for d in run_dirs)
        assert a.read_bytes() == b.read_bytes()


def test_plot_writes_tables(run_dirs):
    for d in run_dirs:
        for stem in ("posterior_intervals", "benchmark_predictions"):
            for ext in ("md", "csv", "tex"):
                assert (d / f"{stem}.{ext}").stat().st_size > 100
        text = (d / "posterior_intervals.csv").read_text()
        quantities = [line.split(",")[0].strip('"') for line in text.splitlines()[1:]]
        assert quantities == [*PARAM_NAMES, *TABLE3_OBSERVABLES]


def test_report_embeds_every_figure(run_dirs):
    for d in run_dirs:
        page = (d / "report.html").read_text(encoding="utf-8")
        for stem, png in figures_in(d).items():
            assert base64.b64encode(png.read_bytes()).decode("ascii") in page, stem
            assert f'href="figures/{stem}.pdf"' in page
        # self-contained: no scripts, no remote resources
        assert "<script" not in page
        assert not re.search(r'(src|href)="https?:', page)
        prov = json.loads((d / "provenance.json").read_text())
        assert str(prov["git_revision"]) in page
        assert "Table III-style predictions" in page and "Posterior intervals" in page
        assert "eta_t" in page and "logz" in page


def test_report_compares_the_runs(run_dirs):
    page = (run_dirs[0] / "report.html").read_text(encoding="utf-8")
    ln_b = LOGZ["kappa_nonzero"] - LOGZ["kappa_zero"]
    assert f"<td>{ln_b:.4g}</td>" in page  # ln B = ln Z_A - ln Z_B = 1.5
    assert "Savage-Dickey" in page


def test_report_runs_plot_when_figures_are_missing(tmp_path, monkeypatch):
    run = _write_run(tmp_path, True, 3)
    calls = []
    monkeypatch.setattr(cmd_report, "make_plots", lambda dirs, data=None: calls.append(list(dirs)))
    assert cmd_report.main([str(run)]) == 0
    assert calls == [[run]]
    page = (run / "report.html").read_text(encoding="utf-8")
    assert "No figures" in page


def test_render_report_from_plain_data(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [0, 1])
    pngs = {}
    for stem in ("corner", "extra_plot"):
        fig.savefig(tmp_path / f"{stem}.png")
        pngs[stem] = tmp_path / f"{stem}.png"
    data = ReportData(name="a<b", figures=pngs, summary=[{"parameter": "m_S", "mean": 50.0}],
                      evidence={"logz": -1.25}, provenance={"seed": 4},
                      tables={"T": [{"quantity": "<x>", "value": 1.5e-9}]})
    page = render_report(data)
    for png in pngs.values():
        assert base64.b64encode(png.read_bytes()).decode("ascii") in page
    assert page.index('id="fig-corner"') < page.index('id="fig-extra_plot"')  # known figures first
    assert "a&lt;b" in page and "&lt;x&gt;" in page and "<x>" not in page
    assert "<td>1.5e-09</td>" in page and "-1.25" in page


def test_html_table_empty():
    assert "empty" in html_table([])
