"""`darkportal compare`: Bayes factor, Jeffreys-scale words and the Savage-Dickey cross-check.

Analytic case: A has kappa ~ U[0, 2] and L_A(kappa) = exp(-kappa^2 / (2 s^2)) with s = 0.5; B fixes
kappa = 0, so Z_B = L_A(0) = 1 and Z_A = (1/2) s sqrt(pi/2) erf(2 / (s sqrt 2)).  The Savage-Dickey ratio
p(0 | d) / pi(0) = Z_B / Z_A holds exactly here, so both routes must give ln B_AB = ln Z_A.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.special import erf

from inference.analysis.compare import SavageDickey, compare, jeffreys_scale, main, savage_dickey
from inference.output.results import collect_provenance, write_results
from inference.samplers import SamplerOutput
from inference.samplers.problem import SampleExtras

S = 0.5
LN_ZA = float(np.log(0.5 * S * np.sqrt(np.pi / 2) * erf(2 / (S * np.sqrt(2)))))
CONFIG_A = {"parameters": {"kappa": {"prior": "uniform", "min": 0.0, "max": 2.0},
                           "eta_t": {"prior": "uniform", "min": 0.0, "max": 0.02}}}
CONFIG_B = {"parameters": {"kappa": {"prior": "fixed", "value": 0.0},
                           "eta_t": {"prior": "uniform", "min": 0.0, "max": 0.02}}}


def make_runs(tmp_path: Path, n: int = 40000) -> tuple[Path, Path]:
    rng = np.random.default_rng(42)
    kappa = rng.uniform(0.0, 2.0, n)  # prior draws, importance-weighted by L_A
    eta = rng.uniform(0.0, 0.02, n)
    logl = -0.5 * (kappa / S) ** 2
    w = np.exp(logl) / np.exp(logl).sum()
    out_a = SamplerOutput(("kappa", "eta_t"), np.column_stack([kappa, eta]), w, logl, LN_ZA + 0.02, 0.05,
                          info={}, logz_resampled=[LN_ZA, LN_ZA + 0.05, LN_ZA - 0.03], sampler="dynesty")
    out_b = SamplerOutput(("eta_t",), eta[:, None], np.full(n, 1 / n), np.zeros(n), 0.0, 0.04, info={},
                          logz_resampled=[0.0, 0.02, -0.02], sampler="dynesty")
    a, b = tmp_path / "kappa_nonzero", tmp_path / "kappa_zero"
    write_results(a, out_a, SampleExtras(), CONFIG_A, collect_provenance(1, "dynesty", {}))
    write_results(b, out_b, SampleExtras(), CONFIG_B, collect_provenance(1, "dynesty", {}))
    return a, b


@pytest.mark.parametrize(("ln_b", "words"), [(0.5, "bare mention"), (-2.0, "substantial"), (3.0, "strong"),
                                             (4.0, "very strong"), (5.0, "decisive")])
def test_jeffreys_scale(ln_b: float, words: str) -> None:
    assert words in jeffreys_scale(ln_b)
    # edges from Kass & Raftery (1995) Sect. 3.2: log10 B = 0.5, 1, 1.5, 2
    assert jeffreys_scale(np.log(10 ** 0.49)) != jeffreys_scale(np.log(10 ** 0.51))


def test_boundary_density_methods() -> None:
    rng = np.random.default_rng(0)
    # half-normal (flat at the edge): reflection is unbiased; true density at 0 is 2 / sqrt(2 pi).
    # Tolerance: 3 bootstrap standard errors of the estimate (about 1.5 % each for 50000 samples).
    x = np.abs(rng.normal(size=50000))
    sd = savage_dickey(x, np.ones_like(x), (0.0, 10.0), "reflection", n_boot=50)
    assert sd.ln_b_err is not None and sd.ln_b_err < 0.03
    assert abs(np.log(sd.posterior_density_at_edge / np.sqrt(2 / np.pi))) < 3 * sd.ln_b_err
    # triangle p(k) = (2 - k) / 2 on [0, 2] (slope at the edge): the straight-line fit gets p(0) = 1
    k = 2 - 2 * np.sqrt(rng.random(50000))
    sd = savage_dickey(k, np.ones_like(k), (0.0, 2.0), "linear", n_boot=50)
    assert sd.ln_b_err is not None and abs(np.log(sd.posterior_density_at_edge)) < 3 * sd.ln_b_err


def test_compare_bayes_factor_and_savage_dickey(tmp_path: Path) -> None:
    a, b = make_runs(tmp_path)
    result = compare(a, b)
    bf = result.bayes_factor
    assert bf.ln_b == pytest.approx(LN_ZA + 0.02)
    assert bf.ln_b_err == pytest.approx(np.hypot(0.05, 0.04))
    assert bf.ln_b_err_resampled == pytest.approx(np.hypot(np.std([0, 0.05, -0.03], ddof=1), 0.02))
    # ln B = -1.14, log10 B = -0.495: just inside the "bare mention" band (|log10 B| < 0.5)
    assert "bare mention evidence for B" in bf.jeffreys
    assert result.not_converged == () and result.incomparable == () and result.a.converged
    sd = result.savage_dickey
    assert isinstance(sd, SavageDickey)
    assert sd.prior_range == (0.0, 2.0) and sd.prior_range_source == "run file"
    assert sd.ln_b_err is not None and sd.ln_b_err < 0.05
    assert abs(sd.ln_b_ab - LN_ZA) < 3 * sd.ln_b_err + 0.02, (sd.ln_b_ab, LN_ZA)
    assert "reflection" in sd.method
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.a = result.b  # type: ignore[misc]
    data = result.as_dict()  # what --json prints: the keys of the dictionaries compare returned before
    assert list(data) == ["A", "B", "bayes_factor", "not_converged", "savage_dickey"]
    assert data["bayes_factor"]["ln_B"] == bf.ln_b and data["A"]["logz"] == result.a.logz
    assert data["savage_dickey"]["ln_B_AB"] == sd.ln_b_ab and data["savage_dickey"]["prior_range"] == [0.0, 2.0]


def test_main_table_json_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = make_runs(tmp_path, n=5000)
    assert main([str(a), str(b)]) == 0
    table = capsys.readouterr().out
    assert "ln B (A vs B)" in table and "Jeffreys" in table and "Savage-Dickey" in table
    assert main([str(a), str(b), "--json", "--method", "linear"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "straight-line" in data["savage_dickey"]["method"]
    assert main([str(a), str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "finished run" in err and "Traceback" not in err


def test_conditional_edge_density_is_exact_for_a_gaussian():
    """Savage-Dickey numerator by conditional densities: for L = N(x; 0.3, 0.2) N(y; 0, 1) (independent) and
    a uniform prior on x in [0, 2], p(x = 0 | d) = N(0; 0.3, 0.2) / int_0^2 N(x; 0.3, 0.2) dx for every y."""
    from scipy.stats import norm

    from inference.analysis.compare import conditional_edge_density

    def loglike(z):
        return norm.logpdf(z[:, 0], 0.3, 0.2) + norm.logpdf(z[:, 1], 0.0, 1.0)

    rng = np.random.default_rng(4)
    draws = np.column_stack([rng.uniform(0, 2, 300), rng.normal(size=300)])  # x column is overwritten
    got = conditional_edge_density(loglike, draws, 0, (0.0, 2.0), n_grid=2001)
    expect = norm.pdf(0.0, 0.3, 0.2) / (norm.cdf(2.0, 0.3, 0.2) - norm.cdf(0.0, 0.3, 0.2))
    assert got.density == pytest.approx(expect, rel=1e-5)  # trapezoid on 2001 points: O(h^2) ~ 1e-6
    assert got.ln_err == pytest.approx(0.0, abs=1e-9)  # independent of y: no spread
    assert got.carried_by == pytest.approx(300.0)  # every draw contributes equally


def test_conditional_edge_density_says_when_few_draws_carry_it():
    """If the edge value fits only where the draws rarely go, the mean rests on a few draws."""
    from scipy.stats import norm

    from inference.analysis.compare import conditional_edge_density

    def loglike(z):  # x = 0 fits only where y is near 2.5, which few standard-normal draws reach
        return norm.logpdf(z[:, 0], np.abs(z[:, 1] - 2.5), 0.05)

    draws = np.column_stack([np.zeros(400), np.random.default_rng(5).normal(size=400)])
    got = conditional_edge_density(loglike, draws, 0, (0.0, 2.0))
    assert got.carried_by < 0.1 * len(draws)
