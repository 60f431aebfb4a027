"""posterior.nc as nested-sampling post-processors read it, and `darkportal export`, checked with the real
GetDist and anesthetic on a small real dynesty run of an analytic target.

Target: a normalised 3-d Gaussian likelihood inside a uniform prior box, with L = 0 (ln L = -inf) for
kappa > 1.8 as the model's disallowed regions have: Z = (Gaussian mass below kappa = 1.8) / (box volume)
= (1 - 3.2e-5) / V, so ln Z = -ln V to 3e-5, far below the sampling error.  The -inf region makes ~10 % of
the initial live points worthless, which a reader that drops them gets wrong by ~0.1 in ln Z.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from inference.cli import export as cmd_export
from inference.output.results import collect_provenance, read_results, write_results
from inference.samplers import run_sampler
from inference.samplers.problem import SampleExtras, SamplingProblem

NAMES = ("kappa", "eta_t", "m_S")
LO, HI = np.array([0.0, 0.0, 10.0]), np.array([2.0, 0.02, 150.0])
MEAN, SD = np.array([1.0, 0.01, 80.0]), np.array([0.2, 0.002, 15.0])
LOGZ_TRUE = -float(np.sum(np.log(HI - LO)))


class _Transform:
    def __call__(self, u: np.ndarray) -> np.ndarray:
        return LO + np.asarray(u) * (HI - LO)


class _LogPrior:
    def __call__(self, x: np.ndarray) -> np.ndarray:
        inside = np.all((x >= LO) & (x <= HI), axis=1)
        return np.where(inside, LOGZ_TRUE, -np.inf)


class _LogL:
    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(x)
        z = (x - MEAN) / SD
        logl = -0.5 * np.sum(z * z, axis=1) - float(np.sum(np.log(SD * math.sqrt(2 * math.pi))))
        return np.where(x[:, 0] > 1.8, -np.inf, logl)


CONFIG = {"name": "gauss", "seed": 11,
          "parameters": {**{n: {"prior": "uniform", "min": float(lo), "max": float(hi)}
                            for n, lo, hi in zip(NAMES, LO, HI, strict=True)},
                         "eta_d": {"fixed": 0.3}},
          "sampler": {"name": "dynesty", "settings": {"nlive": 150}}}


def _run(base: Path, seed: int) -> Path:
    problem = SamplingProblem(NAMES, _Transform(), _LogPrior(), _LogL())
    out = run_sampler("dynesty", problem, {"nlive": 150, "dlogz": 0.1, "n_resample": 4}, base / "work", seed)
    outdir = base / f"gauss_{seed}"
    write_results(outdir, out, SampleExtras(), {**CONFIG, "seed": seed},
                  collect_provenance(seed, "dynesty", {"nlive": 150}, None))
    return outdir


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[Path]:
    base = tmp_path_factory.mktemp("export")
    return [_run(base, seed) for seed in (3, 4)]


def test_draws_are_shuffled_with_the_seed(runs, tmp_path):
    import arviz as az

    for run in runs:
        res = read_results(run)
        logl = np.asarray(res.posterior["sample_stats"].ds["logl"].values).ravel()
        # nested-sampling order would give a rank correlation of ~1 between draw index and log L
        rho = stats.spearmanr(np.arange(len(logl)), logl).statistic
        assert abs(rho) < 4.0 / math.sqrt(len(logl)), rho  # 4 sigma of the null distribution
        ess = az.ess(res.posterior["posterior"], method="bulk")
        assert all(float(ess[n]) > 0.3 * len(logl) for n in NAMES)
        assert res.summary[0].ess_kish is not None and res.summary[0].r_hat is None and res.summary[0].ess_bulk is None
        kish = 1.0 / np.sum(np.asarray(res.posterior["weighted_samples"].ds["weights"]) ** 2)
        assert res.summary[0].ess_kish == pytest.approx(kish)
    # the same seed gives the same draws
    a = read_results(runs[0]).posterior["posterior"].ds["kappa"].values
    again = read_results(runs[0]).posterior
    np.testing.assert_array_equal(a, again["posterior"].ds["kappa"].values)


def test_anesthetic_rebuilds_the_run_from_posterior_nc(runs):
    from anesthetic import NestedSamples

    for run in runs:
        res = read_results(run)
        ws = res.posterior["weighted_samples"].ds
        logl = ws["logl"].values
        assert np.sum(logl <= -1e30) > 5  # the zero-likelihood points are there (dynesty's -1e300)
        # logzero=-inf: those points are prior volume of zero likelihood, not outside the prior
        ns = NestedSamples(data=np.column_stack([ws[n].values for n in NAMES]), columns=list(NAMES),
                           logL=logl, logL_birth=ws["logl_birth"].values, logzero=-np.inf)
        # anesthetic's own bookkeeping from the birth contours agrees with what dynesty stored (the count
        # of live points where log L is unique: anesthetic orders the tied zero-likelihood points its way)
        unique = logl > -1e30
        np.testing.assert_array_equal(ns.nlive.to_numpy()[unique], ws["nlive"].values[unique])
        np.testing.assert_allclose(ns.logX().to_numpy(), ws["log_volume"].values, rtol=1e-9)
        logz = float(ns.logZ())
        assert logz == pytest.approx(res.evidence.logz, abs=1e-3)
        # and with the analytic evidence, within 4 of anesthetic's own simulated errors
        err = float(np.std(ns.logZ(200).to_numpy()))
        assert abs(logz - LOGZ_TRUE) < 4 * err, (logz, LOGZ_TRUE, err)


def test_export_getdist_loads_in_getdist(runs, tmp_path):
    from getdist import loadMCSamples

    run = runs[0]
    assert cmd_export.main([str(run), "--format", "getdist", "--out", str(tmp_path)]) == 0
    g = loadMCSamples(str(tmp_path / "gauss"), settings={"ignore_rows": 0})
    assert [p.name for p in g.getParamNames().names] == list(NAMES)
    assert g.getParamNames().parWithName("eta_t").label == r"\eta_t"
    for n, lo, hi in zip(NAMES, LO, HI, strict=True):
        assert g.ranges.getLower(n) == lo and g.ranges.getUpper(n) == hi
    res = read_results(run)
    ws = res.posterior["weighted_samples"].ds
    w = ws["weights"].values
    for j, n in enumerate(NAMES):
        ours = float(np.sum(w * ws[n].values) / np.sum(w))
        assert g.getMeans()[j] == pytest.approx(ours, rel=1e-9)
        assert abs(ours - MEAN[j]) < 5 * SD[j] / math.sqrt(res.summary[0].ess)
    best = int(np.argmax(ws["logl"].values))
    assert float(np.min(g.loglikes)) == pytest.approx(-float(ws["logl"].values[best]), rel=1e-12)


def test_export_anesthetic_reads_as_nested_samples(runs, tmp_path):
    from anesthetic import NestedSamples, read_chains

    run = runs[1]
    assert cmd_export.main([str(run), "--format", "anesthetic", "--out", str(tmp_path)]) == 0
    ns = read_chains(str(tmp_path / "gauss"))
    assert isinstance(ns, NestedSamples)
    assert list(ns.columns.get_level_values(0)[:3]) == list(NAMES)
    assert float(ns.logZ()) == pytest.approx(read_results(run).evidence.logz, abs=1e-3)
    labels = ns.get_labels_map()
    assert labels["m_S"] == "$m_S$" and labels["eta_t"] == r"$\eta_t$"  # from ROOT.paramnames


def test_export_csv_and_default_folder(runs):
    import pandas as pd

    run = runs[0]
    assert cmd_export.main([str(run), "--format", "csv"]) == 0
    df = pd.read_csv(run / "export" / "csv" / "gauss.csv", float_precision="round_trip")
    assert list(df.columns) == ["weight", "logL", *NAMES, "logl_birth", "nlive", "log_volume"]
    ws = read_results(run).posterior["weighted_samples"].ds
    np.testing.assert_allclose(df["kappa"], ws["kappa"].values, rtol=1e-15)
    np.testing.assert_allclose(df["weight"] / df["weight"].sum(), ws["weights"].values, rtol=1e-12)


def test_export_of_an_mcmc_run_keeps_the_chains(tmp_path):
    """emcee-like output (4 chains of independent draws, written without sampling): one GetDist file per chain,
    read by GetDist as 4 chains and by anesthetic as MCMCSamples."""
    from anesthetic import MCMCSamples, read_chains
    from getdist import loadMCSamples

    from inference.samplers import SamplerOutput

    rng = np.random.default_rng(5)
    chains, draws = 4, 300
    x = MEAN + SD * rng.normal(size=(chains * draws, 3))
    out = SamplerOutput(names=NAMES, samples=x, weights=np.full(len(x), 1 / len(x)),
                        logl=_LogL()(x), logz=float("nan"), logz_err=None, chains=chains, sampler="emcee")
    run = tmp_path / "mcmc"
    write_results(run, out, SampleExtras(), {**CONFIG, "name": "mc"}, collect_provenance(1, "emcee", {}, None))
    assert cmd_export.main([str(run), "--format", "getdist", "--out", str(tmp_path / "gd")]) == 0
    assert sorted(p.name for p in (tmp_path / "gd").glob("mc_*.txt")) == [f"mc_{i}.txt" for i in range(1, 5)]
    g = loadMCSamples(str(tmp_path / "gd" / "mc"), settings={"ignore_rows": 0})
    assert len(g.getSeparateChains()) == chains and g.numrows == chains * draws
    np.testing.assert_allclose(g.getMeans()[:3], x.mean(axis=0), rtol=1e-12)
    assert cmd_export.main([str(run), "--format", "anesthetic", "--out", str(tmp_path / "an")]) == 0
    mc = read_chains(str(tmp_path / "an" / "mc"))
    assert isinstance(mc, MCMCSamples) and len(mc) == chains * draws
