"""inference.api: the notebook entry point gives the numbers of the command line and of the internals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inference import api
from inference.cli.predict import main as predict_main
from inference.errors import RunConfigError
from physics import benchmark

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run() -> api.Run:
    return api.load_run(ROOT / "runs" / "kappa_nonzero.yaml")


def test_evaluate_matches_the_samplers_likelihood(run):
    """The API's log L at BP1 against the run model's reference path at the same sampler vector."""
    ev = run.evaluate(api.benchmark("BP1"), label="BP1")
    x = run.config.from_params(benchmark("BP1"))
    assert ev.loglike == pytest.approx(float(run.model.reference_log_likelihood(x)[0]), rel=1e-12)
    assert np.isfinite(ev.loglike)
    assert ev.terms.keys() == set(run.model.likelihood.term_names)
    assert sum(ev.terms.values()) == pytest.approx(ev.loglike, rel=1e-12)
    window = run.model.likelihood.entries["R_MiniBooNE window"].data
    inside = window["low"] <= ev.predictions["R_MiniBooNE"] <= window["high"]
    assert ev.passed["R_MiniBooNE window"] is inside
    assert set(ev.pulls) == {t.name for t in (*run.model.likelihood.terms, *run.model.likelihood.disabled_terms)}
    assert "Constraints (2023 set)" in ev.table() and max(map(len, ev.table().splitlines())) <= 100


def test_evaluate_without_a_run_equals_predict_json(capsys):
    ev = api.evaluate(api.benchmark("BP3"), data="2025", mode="cuts")
    assert predict_main(["--point", "BP3", "--data", "2025", "--mode", "cuts", "--json"]) == 0
    assert ev.details == json.loads(capsys.readouterr().out)


def test_a_run_fills_its_fixed_parameters():
    zero = api.load_run(ROOT / "runs" / "kappa_zero.yaml")
    point = {k: v for k, v in api.benchmark("BP2").items() if k != "kappa"}
    assert zero.evaluate(point).details["params"]["kappa"] == 0.0
    with pytest.raises(ValueError, match="missing m_S"):
        zero.evaluate({k: v for k, v in point.items() if k != "m_S"})


def test_build_run_is_checked_like_a_run_file():
    built = api.build_run(seed=1, likelihood={"data": "2023"}, sampler={"name": "dynesty"})
    assert built.config.name == "notebook" and built.config.likelihood.mode == "gaussian"
    with pytest.raises(RunConfigError, match="Did you mean 'dynesty'"):
        api.build_run(seed=1, likelihood={"data": "2023"}, sampler={"name": "dynasty"})


def test_build_run_with_a_measurements_file(tmp_path, monkeypatch):
    (tmp_path / "mine.yaml").write_text(
        'schema: 1\nentries:\n  - {name: "Delta_a_mu", data: {central: 1.5e-9, error: 0.5e-9}, '
        'source: "arXiv:2006.04822"}\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    built = api.build_run(seed=1, likelihood={"data": "2023", "mode": "cuts", "measurements": "mine.yaml"},
                          sampler={"name": "scan"})
    bp1 = api.benchmark("BP1")
    ev = built.evaluate(bp1)
    assert 2.01e-9 < ev.predictions["Delta_a_mu"] < 2.97e-9  # inside the shipped window, above the new one
    assert ev.passed["Delta_a_mu"] is False
    assert api.evaluate(bp1, mode="cuts").passed["Delta_a_mu"] is True


def test_unknown_benchmark():
    with pytest.raises(KeyError, match="Did you mean 'BP1'"):
        api.benchmark("BP01")


def test_load_result_refuses_an_unfinished_folder(tmp_path):
    from inference.output.results import IncompleteResultsError

    with pytest.raises(IncompleteResultsError, match=r"no finished run|is not a darkportal results folder"):
        api.load_result(tmp_path)
