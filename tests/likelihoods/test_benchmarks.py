"""All seven benchmark points through the ``cuts`` mode of the 2023 set, under each convention of R.

Every (benchmark, enabled condition) pair must pass except the misses listed for the convention, and each
miss is asserted with its value and margin. For R_MiniBooNE the test also computes the rounding band of
Table II (each parameter moved by half a unit of its last printed digit, the relative changes of R added in
quadrature) and asserts that every R miss under ``recast`` lies inside its band. Sources of the reference
values:

* BP7, B0 -> K*0 nu nu (NP) = 1.806e-5 against 1.8e-5: docs/physics/flavour.md §7 (a 0.35 % miss).
* BP3, Delta a_mu = 2.970e-9 on the upper edge 2.97e-9, BP6 = 1.900e-9 below 2.01e-9:
  docs/physics/g2-scattering.md §1.3.
* R_MiniBooNE under ``recast`` (the default): docs/physics/g2-scattering.md §5.6, R = 0.990 0.994 0.933
  1.062 0.995 0.943 0.987 from an independent implementation, rounding band 9.4 6.0 9.8 7.8 4.0 2.5 1.7 %.
  BP3, BP4 and BP6 miss [0.95, 1.05] by less than 2 %, inside their bands.
* R_MiniBooNE under ``calibrated``: the absolute R of §5.4 (coh+incoh) divided by its geometric mean over
  BP1-BP7 (docs/physics/README.md item 9), which leaves BP1, BP3, BP5, BP6 and BP7 outside the window.
Tolerance 1 % on the values (the docs quote three digits).
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

import physics
from likelihoods import DOMAIN_TERM, JointLikelihood
from physics.benchmarks import benchmark_table, printed_half_units
from physics.decays import s_widths
from physics.miniboone import r_miniboone
from physics.params import PARAM_NAMES, ModelParams

LOG = logging.getLogger(__name__)
BPS = ("BP1", "BP2", "BP3", "BP4", "BP5", "BP6", "BP7")
R_ABSOLUTE_DOC = np.array([0.634, 0.574, 0.527, 0.583, 0.534, 0.627, 0.530])  # docs/physics/g2-scattering.md §5.4
R_DOC = {
    "recast": np.array([0.990, 0.994, 0.933, 1.062, 0.995, 0.943, 0.987]),  # docs/physics/g2-scattering.md §5.6
    "calibrated": R_ABSOLUTE_DOC / np.exp(np.mean(np.log(R_ABSOLUTE_DOC))),
}
ROUNDING_BAND_DOC = np.array([9.4, 6.0, 9.8, 7.8, 4.0, 2.5, 1.7]) / 100  # docs/physics/g2-scattering.md §5.6
OTHER_MISSES: dict[tuple[str, str], float] = {
    ("BP7", "BR(B0->K*0nunu)"): 1.806e-5,
    ("BP3", "Delta_a_mu"): 2.970e-9,
    ("BP6", "Delta_a_mu"): 1.900e-9,
}
# misses that sit on an edge: beyond it by less than this fraction of the edge value
EDGE_MISSES = {("BP7", "BR(B0->K*0nunu)"): 0.005, ("BP3", "Delta_a_mu"): 0.001}
R_WINDOW = (0.95, 1.05)


def expected_misses(convention: str) -> dict[tuple[str, str], float]:
    r = R_DOC[convention]
    return {**OTHER_MISSES, **{(bp, "R_MiniBooNE window"): float(r[i]) for i, bp in enumerate(BPS)
                               if not R_WINDOW[0] <= r[i] <= R_WINDOW[1]}}


@pytest.fixture(scope="module", params=["recast", "calibrated"])
def evaluated(request):
    options = physics.scenario("paper", r_normalisation=request.param)
    like = JointLikelihood.from_config("2023", "cuts", options=options)
    assert like.options.r_normalisation == request.param
    params = physics.all_benchmarks()
    total, terms, preds = like.evaluate(params)
    rows = {r.name: r for r in like.report(preds, include_disabled=False)}
    return request.param, like, total, terms, rows


def rounding_band(options: physics.TheoryOptions) -> np.ndarray:
    """Relative change of R per BP when each printed parameter moves by half a unit of its last digit
    (central differences, added in quadrature; exact zeros such as kappa at BP6/BP7 are not rounded)."""
    table, half = benchmark_table(), printed_half_units()
    base = {p: np.array([table[b][p] for b in BPS]) for p in PARAM_NAMES}

    def r_at(values: dict[str, np.ndarray]) -> np.ndarray:
        p = ModelParams.from_paper_units(values)
        return r_miniboone(p, s_widths(p).br_vis, options)

    r0 = r_at(base)
    var = np.zeros(len(BPS))
    for name in PARAM_NAMES:
        step = np.where(base[name] == 0.0, 0.0, half[name])
        up, down = r_at({**base, name: base[name] + step}), r_at({**base, name: base[name] - step})
        var += ((up - down) / 2.0 / r0) ** 2
    return np.sqrt(var)


def test_recast_misses_are_the_documented_ones():
    # recast (§5.6): BP3, BP4, BP6 miss the R window by < 2 %; calibrated: BP1, BP3, BP5, BP6, BP7
    assert sorted(bp for bp, t in expected_misses("recast") if t == "R_MiniBooNE window") == ["BP3", "BP4", "BP6"]
    assert sorted(bp for bp, t in expected_misses("calibrated") if t == "R_MiniBooNE window") == \
        ["BP1", "BP3", "BP5", "BP6", "BP7"]


def test_every_other_condition_passes(evaluated):
    convention, like, _, _, rows = evaluated
    misses = expected_misses(convention)
    for name in like.term_names:
        row = rows[name]
        for i, bp in enumerate(BPS):
            if (bp, name) in misses:
                continue
            assert row.passed[i], (f"{convention}: {bp} fails {name}: {row.condition}, value {row.value[i]:.4g}, "
                                   f"margin {row.margin[i]:.3g}")


def test_each_miss_with_value_and_margin(evaluated):
    convention, _, _, terms, rows = evaluated
    for key, ref in expected_misses(convention).items():
        bp, name = key
        i = BPS.index(bp)
        row = rows[name]
        assert not row.passed[i], key
        assert terms[name][i] == -np.inf, key
        assert row.value[i] == pytest.approx(ref, rel=0.01), key
        # margin = distance to the nearest edge of the cut, negative for a miss
        lo, hi = {"BR(B0->K*0nunu)": (-np.inf, 1.8e-5), "Delta_a_mu": (2.01e-9, 2.97e-9),
                  "R_MiniBooNE window": R_WINDOW}[name]
        edge = hi if row.value[i] > hi else lo
        assert row.margin[i] < 0, key
        assert row.margin[i] == pytest.approx(-abs(row.value[i] - edge), rel=1e-9), key
        if key in EDGE_MISSES:
            assert -EDGE_MISSES[key] < row.relative_margin[i] < 0, key
        else:
            assert row.relative_margin[i] == pytest.approx(-abs(ref - edge) / abs(edge), abs=0.012), key


def test_r_verdicts_with_rounding_band():
    """Per BP under recast: R, its Table II rounding band and the cuts-mode verdict with its margin; every
    miss lies within its band (so c = 1 is consistent with the published points)."""
    options = physics.scenario("paper")
    p = physics.all_benchmarks()
    r = r_miniboone(p, s_widths(p).br_vis, options)
    band = rounding_band(options)
    # the band is a linearised estimate; the docs' independent numbers agree to ~10 % of the band itself
    np.testing.assert_allclose(band, ROUNDING_BAND_DOC, rtol=0.15)
    for i, bp in enumerate(BPS):
        margin = min(r[i] - R_WINDOW[0], R_WINDOW[1] - r[i])
        verdict = "pass" if margin >= 0 else "MISS"
        LOG.info("%s: R = %.3f +- %.1f %% (rounding), %s, margin %+.3f", bp, r[i], 100 * band[i], verdict, margin)
        if margin < 0:
            assert -margin < band[i] * r[i], f"{bp}: R = {r[i]:.3f} misses by more than its rounding band"
    assert [bp for i, bp in enumerate(BPS) if R_WINDOW[0] <= r[i] <= R_WINDOW[1]] == ["BP1", "BP2", "BP5", "BP7"]


def test_totals(evaluated):
    convention, _, total, terms, _ = evaluated
    missing = {bp for bp, _ in expected_misses(convention)}
    for i, bp in enumerate(BPS):
        assert total[i] == (-np.inf if bp in missing else 0.0), bp
    np.testing.assert_array_equal(terms[DOMAIN_TERM], 0.0)
    assert {bp for bp in BPS if bp not in missing} == {"recast": {"BP1", "BP2", "BP5"},
                                                         "calibrated": {"BP2", "BP4"}}[convention]


@pytest.mark.parametrize("data_set", ["2023", "2025"])
def test_gaussian_mode_is_finite_at_every_benchmark(data_set):
    like = JointLikelihood.from_config(data_set, "gaussian")
    total, terms, _ = like.evaluate(physics.all_benchmarks())
    assert np.all(np.isfinite(total)), dict(zip(BPS, total, strict=True))
    for name, value in terms.items():
        assert np.all(value <= 0.0), name
