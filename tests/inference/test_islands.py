"""Islands of a weighted posterior (inference.analysis.islands) on analytic targets with known answers, and
`darkportal islands` on a small real run.

Analytic targets are mixtures of Gaussians whose component weights are known. The samples are weighted:
drawn from a proposal (the same components, 1.3x wider, in equal proportions) and given the importance weight
target / proposal, as a nested or refined run gives weighted samples. The coordinates have scales from 0.01 to
1000, which the standardisation must absorb.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm

from inference.analysis.islands import IslandsError, find_islands

SCALES = np.array([1.0, 1000.0, 0.01, 5.0])


def weighted_mixture(means: np.ndarray, sds: np.ndarray, true_w: np.ndarray, n: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(samples, normalised importance weights, generating component) for a mixture of axis-aligned Gaussians."""
    k, d = means.shape
    comp = rng.integers(0, k, n)
    x = means[comp] + 1.3 * sds[comp] * rng.standard_normal((n, d))
    target = sum(w * _pdf(x, m, s) for w, m, s in zip(true_w, means, sds, strict=True))
    proposal = sum(_pdf(x, m, 1.3 * s) for m, s in zip(means, sds, strict=True)) / k
    w = target / proposal
    return x, w / w.sum(), comp


def _pdf(x: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Density of an axis-aligned Gaussian (a product of normal densities)."""
    return np.asarray(np.prod(norm.pdf(x, mean, sd), axis=1))


THREE_MEANS = np.array([[0.0, 0.0, 0.0, 0.0], [8.0, 0.0, 0.0, 0.0], [0.0, 8.0, 8.0, 0.0]]) * SCALES
THREE_SDS = np.array([[1.0, 1.0, 1.0, 1.0], [0.7, 1.2, 0.8, 1.0], [1.0, 0.6, 1.0, 1.4]]) * SCALES
THREE_W = np.array([0.78, 0.2, 0.02])  # the third, like the kappa -> 0 island of the physics runs, is small


@pytest.mark.parametrize("seed", [1, 2])
def test_three_separated_gaussians_give_three_islands_with_their_weights(seed: int) -> None:
    x, w, comp = weighted_mixture(THREE_MEANS, THREE_SDS, THREE_W, 6000, np.random.default_rng(seed))
    cl = find_islands(x, w, rng=np.random.default_rng(seed))
    assert cl.n_islands == 3
    assert np.sum(cl.weights) == pytest.approx(1.0)
    for found, err, true in zip(cl.weights, cl.weight_errs, THREE_W, strict=True):  # heaviest first
        assert abs(found - true) < 3.0 * err, (found, err, true)
        assert 0 < err < 0.05
    # each island is one component: the samples where that component's density dominates (the components are
    # 8 sigma apart; a proposal draw from one component's far tail may sit nearer another, and counts as it)
    owner = np.argmax([tw * _pdf(x, m, s) for tw, m, s in zip(THREE_W, THREE_MEANS, THREE_SDS, strict=True)], axis=0)
    for i in range(3):
        assert np.sum(w[(cl.labels == i) & (owner != np.bincount(owner[cl.labels == i]).argmax())]) < 1e-3
    assert sorted(np.bincount(comp[cl.labels == i]).argmax() for i in range(3)) == [0, 1, 2]
    # the centres are placed in the islands that hold them
    assert sorted(cl.assign(THREE_MEANS).tolist()) == [0, 1, 2]


def test_the_bootstrap_error_is_the_spread_over_repetitions() -> None:
    """Over 60 independent weighted samples the found weight of the small island scatters as its bootstrap
    error says (ratio within 0.7-1.5). The Kish binomial error is only of the same order (here twice as large:
    the island's samples are many and light, which Kish's single ESS does not see), hence the bootstrap."""
    means, sds, true_w = THREE_MEANS[:2, :3] / SCALES[:3], THREE_SDS[:2, :3] / SCALES[:3], np.array([0.9, 0.1])
    found, errs, kish = [], [], []
    for seed in range(60):
        x, w, _ = weighted_mixture(means, sds, true_w, 1500, np.random.default_rng(100 + seed))
        cl = find_islands(x, w, n_boot=100, rng=np.random.default_rng(seed))
        assert cl.n_islands == 2
        found.append(cl.weights[1])
        errs.append(cl.weight_errs[1])
        kish.append(cl.weight_errs_kish[1])
    spread = float(np.std(found, ddof=1))
    assert 0.7 < spread / float(np.mean(errs)) < 1.5
    assert 1.0 / 3.0 < float(np.mean(kish)) / float(np.mean(errs)) < 3.0
    assert abs(float(np.mean(found)) - 0.1) < 3.0 * spread / np.sqrt(len(found))


def test_one_gaussian_with_unequal_scales_and_correlation_is_one_island() -> None:
    rng = np.random.default_rng(3)
    d = 6
    a = rng.standard_normal((d, d))
    cov = a @ a.T + 0.1 * np.eye(d)  # strongly correlated
    scale = np.array([1e-3, 1.0, 1e3, 0.1, 10.0, 1.0])
    x = rng.multivariate_normal(np.zeros(d), cov, 5000) * scale
    w = rng.uniform(0.5, 1.5, 5000)  # weights that do not change the target much
    cl = find_islands(x, w / w.sum())
    assert cl.n_islands == 1 and cl.weights[0] == pytest.approx(1.0)
    assert np.all(cl.labels == 0)


def test_a_curved_ridge_is_one_island() -> None:
    """A banana: the trade-off of two couplings (as kappa against eta_d in the physics runs), one connected
    region however curved, with its thin end holding a few per cent of the mass."""
    rng = np.random.default_rng(4)
    t = rng.uniform(0.0, np.pi / 2, 8000)
    r = 1.0 + 0.03 * rng.standard_normal(8000)
    x = np.column_stack([r * np.cos(t), 0.02 * r * np.sin(t), rng.standard_normal((8000, 2))])
    w = np.exp(-2.0 * t)  # the end at t ~ pi/2 is light
    cl = find_islands(x, w / w.sum())
    assert cl.n_islands == 1


def test_too_few_samples_with_weight_is_refused_with_the_number() -> None:
    x = np.random.default_rng(5).standard_normal((200, 4))
    w = np.zeros(200)
    w[:12] = 1.0
    with pytest.raises(IslandsError, match="only 12 samples") as err:
        find_islands(x, w / w.sum(), tail=0.0)
    assert err.value.n_samples == 12


def test_cli_on_a_small_real_run(kappa_free_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from inference.cli.islands import main
    from inference.cli.predict import evaluate_point
    from inference.config.runfile import parse_run_config
    from inference.output.report import collect_report_data
    from inference.output.results import read_results
    from inference.samplers.model import RunModel

    assert main([str(kappa_free_run), "--out", str(tmp_path), "--maxfev", "300", "--bootstrap", "50"]) == 0
    assert "island 0: weight" in capsys.readouterr().out
    doc = json.loads((tmp_path / "islands.json").read_text())
    assert (tmp_path / "islands.md").read_text().startswith("# Islands of q")
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically
    islands = doc["islands"]
    assert doc["n_islands"] == len(islands) >= 1
    assert sum(i["weight"] for i in islands) == pytest.approx(1.0)
    res = read_results(kappa_free_run)
    ws = res.posterior["weighted_samples"].ds
    usable = int(np.sum((np.asarray(ws["weights"]) > 0) & np.isfinite(np.asarray(ws["logl"]))))
    assert sum(i["n_samples"] for i in islands) == usable
    config = parse_run_config(res.config, kappa_free_run / "run.yaml")
    # what the numbers were computed under, as bestfit.json records it
    assert doc["data_set"] == config.likelihood.data and doc["likelihood_mode"] == config.likelihood.mode
    assert doc["theory_options"] == config.theory.theory_options().as_dict()
    model = RunModel(config)
    for isl in islands:
        best, sample = isl["best_point"], isl["best_sample"]
        assert best["loglike"] >= sample["loglike"]  # polishing only improves
        # the stored log L and observables are those of the run's likelihood and of `darkportal predict`
        ref = evaluate_point(best["parameters"], "2023", "paper", "gaussian", likelihood=model.likelihood)
        assert ref["loglike"] == pytest.approx(best["loglike"], rel=1e-9, abs=1e-12)
        by_name = {o["name"]: o for o in isl["observables"]}
        assert set(by_name) == set(ref["observables"])
        for name in ("R_MiniBooNE", "Delta_a_mu", "BR(B+->K+nunu)"):
            assert by_name[name]["total"] == pytest.approx(ref["observables"][name]["total"], rel=1e-12)
    # the report shows the islands when the results folder has islands.json
    (kappa_free_run / "islands.json").write_text((tmp_path / "islands.json").read_text())
    try:
        data = collect_report_data([kappa_free_run])
        rows = data.runs[0].tables["Islands of the posterior (darkportal islands)"]
        assert len(rows) == len(islands) and {"weight", "± (bootstrap)", "kappa (95 %)"} <= set(rows[0])
        assert any(n.startswith("Islands (darkportal islands)") for n in data.notes)
    finally:
        (kappa_free_run / "islands.json").unlink()
