"""`darkportal fit`: the maximum-likelihood point of a real (small) run, its chi^2 and pulls, the SM-only chi^2.

The checks are relations that must hold whatever today's physics numbers are: the best fit is at least as good
as the best posterior sample it started from; its chi^2 and pulls are what `darkportal predict` computes at
that point; chi^2 is the sum of the squared pulls; the SM-only chi^2 is predict's at zero couplings without
the hard bounds on S; independent sets of starts agree.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from quickruns import quick_run_file

from inference.analysis.fit import AGREE_CHI2, NP_COUPLINGS, FitError, minimise_chi2
from inference.cli.fit import main, run_fit
from inference.cli.predict import evaluate_point


@pytest.fixture(scope="module")
def result(kappa_free_run: Path) -> Path:
    # kappa free (the paper's range), shared with the sensitivity and islands tests (tests/inference/conftest.py)
    return kappa_free_run


@pytest.fixture(scope="module")
def fitted(result: Path):  # type: ignore[no-untyped-def]
    # 4 starts: the 3 best distinct samples and 1 posterior draw, all 4 polished (as many as with 8 starts)
    return run_fit(result, n_starts=4, seed=1, maxfev=1500)[0]


def test_minimiser_finds_a_known_minimum_in_the_box() -> None:
    centre = np.array([0.3, 0.8, 0.55])  # chi^2 = sum ((u - c) / s)^2 with unequal scales, minimum 0 at c

    def chi2(u: np.ndarray) -> float:
        return float(np.sum(((u - centre) / np.array([0.1, 0.02, 0.5])) ** 2))

    u, c, _, _ = minimise_chi2(chi2, np.array([0.9, 0.1, 0.1]))
    assert c < 1e-8
    np.testing.assert_allclose(u, centre, atol=1e-4)


def test_best_fit_beats_the_best_posterior_sample(fitted) -> None:  # type: ignore[no-untyped-def]
    assert fitted.best_sample_chi2 is not None
    assert fitted.best.chi2 <= fitted.best_sample_chi2 + 1e-9


def test_chi2_and_pulls_are_what_predict_gives_at_the_best_point(fitted) -> None:  # type: ignore[no-untyped-def]
    ref = evaluate_point(fitted.best.params, "2023", "paper", "gaussian")
    assert -2.0 * ref["loglike"] == pytest.approx(fitted.best.chi2, rel=1e-9, abs=1e-12)
    by_name = {c["name"]: c for c in ref["constraints"]}
    assert {t.name for t in fitted.best.terms} == set(by_name)
    for t in fitted.best.terms:
        c = by_name[t.name]
        assert c["enabled"] == t.enabled
        if c["pull"] is None:
            assert t.pull is None
        else:
            assert t.pull == pytest.approx(c["pull"], rel=1e-9, abs=1e-12)
        assert t.chi2 == pytest.approx(-2.0 * float(c["loglike"]), rel=1e-9, abs=1e-12)
    # the terms are -chi^2/2 without constants: chi^2 is the sum of the squared pulls of the enabled terms
    pulls = [t.pull for t in fitted.best.terms if t.enabled and t.pull is not None]
    assert fitted.best.chi2 == pytest.approx(float(np.sum(np.square(pulls))), rel=1e-9, abs=1e-12)


def test_sm_only_chi2_is_predict_at_zero_couplings_without_the_bounds_on_s(fitted) -> None:  # type: ignore[no-untyped-def]
    sm = fitted.sm
    assert all(sm.params[n] == 0.0 for n in NP_COUPLINGS)
    ref = evaluate_point(sm.params, "2023", "paper", "gaussian")
    expected = sum(-2.0 * float(c["loglike"]) for c in ref["constraints"] if c["enabled"] and c["kind"] != "hard_bound")
    assert sm.chi2 == pytest.approx(expected, rel=1e-12)
    assert set(sm.left_out) == {c["name"] for c in ref["constraints"] if c["enabled"] and c["kind"] == "hard_bound"}
    assert fitted.delta_chi2 == pytest.approx(sm.chi2 - fitted.best.chi2)
    assert fitted.delta_chi2 > 0  # the excesses (MiniBooNE, g-2) are not explained by the SM


def test_independent_starts_agree(result: Path, fitted) -> None:  # type: ignore[no-untyped-def]
    assert fitted.n_agree >= 2  # several polished starts end within AGREE_CHI2 of the best
    other = run_fit(result, n_starts=4, seed=7, maxfev=1500)[0]  # another posterior draw among the starts
    assert abs(other.best.chi2 - fitted.best.chi2) <= AGREE_CHI2


def test_cli_writes_bestfit_json(result: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(result), "--out", str(tmp_path), "--starts", "1", "--maxfev", "200"]) == 0
    doc = json.loads((tmp_path / "bestfit.json").read_text())
    assert doc["best_fit"]["chi2"] <= doc["best_posterior_sample_chi2"] + 1e-9
    assert doc["delta_chi2"] == pytest.approx(doc["sm_only"]["chi2"] - doc["best_fit"]["chi2"])
    assert set(doc["best_fit"]["parameters"]) == {"kappa", "eta_d", "eta_c", "eta_t", "g_D", "U_mu4", "m_S", "m_nu4"}
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically: no temporary file left
    assert "Delta chi2" in capsys.readouterr().out


def test_report_shows_the_best_fit(result: Path) -> None:
    from inference.output.report import collect_report_data

    assert main([str(result), "--starts", "1", "--maxfev", "200"]) == 0  # default --out: the results folder
    data = collect_report_data([result])
    rows = data.runs[0].tables["Best fit and SM-only chi^2 per term (darkportal fit)"]
    assert {"term", "pull", "chi2", "SM chi2"} <= set(rows[0]) and any("Delta chi2" in n for n in data.notes)


def test_a_cuts_run_is_refused_with_the_reason(tmp_path: Path) -> None:
    run_file = quick_run_file(tmp_path, "cuts", {"likelihood": {"data": "2023", "mode": "cuts"}})
    with pytest.raises(FitError, match=r"cuts.*no maximum"):
        run_fit(run_file)


def test_profiles_lie_below_the_samples_and_above_the_best_fit(result: Path, tmp_path: Path) -> None:
    import csv

    from inference.cli.profile import main as profile_main

    assert profile_main([str(result), "--out", str(tmp_path), "--bins", "3", "--maxfev", "40"]) == 0
    with open(tmp_path / "profile_1d.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["parameter"] for r in rows} == {"kappa", "eta_d", "eta_c", "eta_t", "g_D", "U_mu4", "m_S", "m_nu4"}
    for r in rows:
        assert float(r["chi2"]) <= float(r["chi2_best_sample_in_bin"]) + 1e-12  # the simplex only improves
        assert float(r["delta_chi2"]) >= -1e-9  # the reference is the best point found anywhere
    assert (tmp_path / "profile_2d.csv").exists() and (tmp_path / "profile_1d.png").exists()
