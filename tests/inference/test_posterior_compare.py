"""compare-posteriors on results folders (a weighted and an MCMC run), and posterior start points for emcee
without duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inference.analysis.posterior_compare import main as compare_main
from inference.analysis.posterior_compare import parse_box, weighted_cdf
from inference.output.results import collect_provenance, write_results
from inference.samplers import SamplerOutput
from inference.samplers.emcee_start import StartPointError, posterior_walkers
from inference.samplers.problem import SampleExtras, SamplingProblem

CONFIG = {"name": "t", "sampler": {"name": "emcee", "settings": {}}}


def folder(tmp: Path, name: str, samples: np.ndarray, weights: np.ndarray, chains: int) -> Path:
    out = SamplerOutput(names=("kappa", "eta_d"), samples=samples, weights=weights / weights.sum(),
                        logl=np.zeros(len(samples)), logz=float("nan"), logz_err=None, chains=chains,
                        sampler="emcee" if chains > 1 else "dynesty", info={"ncall": 1, "niter": 1})
    return write_results(tmp / name, out, SampleExtras(), CONFIG, collect_provenance(1, out.sampler, {}, "2023"))


def test_weighted_cdf_counts_ties_half() -> None:
    x, w = np.array([0.0, 1.0, 1.0, 2.0]), np.full(4, 0.25)
    np.testing.assert_allclose(weighted_cdf(x, w, np.array([-1.0, 0.5, 1.0, 3.0])), [0.0, 0.25, 0.5, 1.0])


def test_compare_posteriors_of_two_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(2)
    # A: an MCMC run of N(0.5, 0.1) x U(0, 1) (8 chains); B: importance-weighted uniform draws of the same
    a = np.column_stack([rng.normal(0.5, 0.1, 8000), rng.random(8000)])
    b = rng.random((40000, 2))
    wb = np.exp(-0.5 * ((b[:, 0] - 0.5) / 0.1) ** 2)
    folder(tmp_path, "a", a, np.ones(len(a)), chains=8)
    folder(tmp_path, "b", b, wb, chains=1)
    assert compare_main([str(tmp_path / "a"), str(tmp_path / "b"), "--json", "--box", "kappa=0.6:1"]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = {r["parameter"]: r for r in report["parameters"]}
    assert set(rows) == {"kappa", "eta_d"}
    # which ESS each side used is recorded: A's chains' quantile ESS, B's weighted indicator ESS, per q
    assert report["ess_a"].startswith("quantile ESS of the chains") and "over 8 chains" in report["ess_a"]
    assert report["ess_b"].startswith("weighted indicator ESS") and "Kish ESS" in report["ess_b"]
    assert all(r["ess_kind_a"] == "quantile ESS of the chains (ArviZ)" and len(r["ess_b"]) == 5 for r in rows.values())
    assert report["z"]["count"] == 10
    for row in rows.values():  # same distribution: misses within 4 of their errors
        assert row["max_sigma"] < 4.0 and len(row["miss"]) == 5, row
    box = report["box"]  # P(kappa > 0.6) = 1 - Phi(1) = 0.1587
    assert box["mass_a"] == pytest.approx(0.1587, abs=4 * box["error_a"])
    assert box["mass_b"] == pytest.approx(0.1587, abs=4 * box["error_b"])
    folder(tmp_path, "c", a + np.array([0.05, 0.0]), np.ones(len(a)), chains=8)  # kappa shifted by sigma / 2
    assert compare_main([str(tmp_path / "c"), str(tmp_path / "b")]) == 0
    text = capsys.readouterr().out
    assert "largest miss" in text and "(kappa)" in text.splitlines()[-1]


def test_box_needs_known_names() -> None:
    assert parse_box(["kappa=0:0.1"], ["kappa"]) == {"kappa": (0.0, 0.1)}
    with pytest.raises(ValueError, match="unknown parameter 'kapa'"):
        parse_box(["kapa=0:0.1"], ["kappa"])
    with pytest.raises(ValueError, match="NAME=LO:HI"):
        parse_box(["kappa=0"], ["kappa"])


def test_posterior_start_points_are_distinct(tmp_path: Path) -> None:
    """A resampled nested-sampling posterior repeats points: the walkers must not (the snooker move cannot
    move a walker that sits on another one, and DE differences of two equal walkers are zero)."""
    rng = np.random.default_rng(3)
    unique = rng.random((40, 2)) * [2.0, 1.0]
    repeated = unique[rng.integers(0, 40, size=400)]  # 400 draws, at most 40 distinct
    path = folder(tmp_path, "post", repeated, np.ones(400), chains=1)
    problem = SamplingProblem(("kappa", "eta_d"), lambda u: u, lambda x: np.zeros(len(x)),
                              lambda x: np.zeros(len(x)))
    n_distinct = len(np.unique(repeated, axis=0))
    walkers = posterior_walkers(problem, n_distinct, path, np.random.default_rng(1))
    assert len(np.unique(walkers, axis=0)) == n_distinct == len(walkers)
    with pytest.raises(StartPointError, match=f"only {n_distinct} distinct draws"):
        posterior_walkers(problem, n_distinct + 1, path, np.random.default_rng(1))
