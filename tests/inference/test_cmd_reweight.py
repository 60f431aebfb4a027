"""`darkportal reweight` on real (small) physics runs: a dropped likelihood term against a rerun, a narrower
prior, and the refusals (wider prior, other fixed parameters, too few effective samples)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from quickruns import quick_run, quick_run_file

from inference.analysis.reweight import LowESSError, NotReweightableError
from inference.analysis.reweight_results import reweight_results
from inference.cli.reweight import main
from inference.config.runfile import load_run_config
from inference.output.results import read_results

DROPPED = {"likelihood": {"data": "2023", "mode": "gaussian",
                          "terms": {"BR(B0->K*0nunu)": {"enabled": False}}}}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reweight")


@pytest.fixture(scope="module")
def result(kappa_zero_run: Path) -> Path:
    # runs/quick.yaml (kappa = 0), 100 live points, dlogz 0.3, seed 1; shared with the sensitivity tests
    return kappa_zero_run


def test_dropped_term_agrees_with_a_rerun(folder: Path, result: Path) -> None:
    run_file = quick_run_file(folder, "dropped", DROPPED, nlive=100, dlogz=0.3, seed=2)
    out = folder / "dropped_rw"
    assert main([str(result), str(run_file), "--out", str(out), "--min-ess", "50"]) == 0
    rw = read_results(out)
    assert rw.provenance.extra["reweighted_from"] == str(result)
    assert rw.provenance.extra["reweighting"]["ess"] >= 50
    rerun = read_results(quick_run(folder, "dropped", DROPPED, nlive=100, dlogz=0.3, seed=2))
    a, b = rw.evidence, rerun.evidence
    assert a.logz_err is not None and b.logz_err is not None
    assert abs(a.logz - b.logz) < 3.0 * np.hypot(a.logz_err, b.logz_err)
    assert a.logz >= read_results(result).evidence.logz - 1e-9  # a dropped term can only raise L
    assert "BR(B0->K*0nunu)" not in rw.posterior["log_likelihood"].ds  # predictions use the new likelihood


def test_narrower_prior_and_refusals(folder: Path, result: Path) -> None:
    res = read_results(result)
    narrow = load_run_config(quick_run_file(folder, "narrow", {"parameters": {
        "kappa": {"fixed": 0}, "m_nu4": {"prior": "uniform", "min": 400, "max": 460}}}))
    run = reweight_results(res, narrow, min_ess=20)
    kept = run.samples[run.result.weights > 0]
    assert kept[:, list(narrow.priors.names).index("m_nu4")].max() <= 460
    assert run.result.ess < run.result.ess_old
    wider = load_run_config(quick_run_file(folder, "wider", {"parameters": {
        "kappa": {"fixed": 0}, "eta_d": {"prior": "uniform", "min": 0, "max": 1.5}}}))
    with pytest.raises(NotReweightableError, match="prior of eta_d is wider"):
        reweight_results(res, wider)
    free_kappa = load_run_config(quick_run_file(folder, "free", {"parameters": {}}))
    with pytest.raises(NotReweightableError, match="free parameters differ"):
        reweight_results(res, free_kappa)
    other_fixed = load_run_config(quick_run_file(folder, "fixed1", {"parameters": {"kappa": {"fixed": 1.0}}}))
    with pytest.raises(NotReweightableError, match="fixed parameters differ"):
        reweight_results(res, other_fixed)
    with pytest.raises(LowESSError) as err:
        reweight_results(res, narrow, min_ess=1e6)
    assert f"{err.value.ess:.0f}" in str(err.value) and "1000000" in str(err.value)


def test_cli_refuses_the_source_folder_as_output(folder: Path, result: Path) -> None:
    with pytest.raises(ValueError, match="source folder"):
        main([str(result), str(folder / "dropped.yaml"), "--out", str(result)])


def test_evidence_json_has_the_new_numbers(folder: Path) -> None:
    ev = json.loads((folder / "dropped_rw" / "evidence.json").read_text())
    assert ev["sampler"] == "reweight" and np.isfinite(ev["logz"]) and ev["logz_err"] > 0
