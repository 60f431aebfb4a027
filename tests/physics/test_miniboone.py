"""Tests of physics.miniboone (R of eq. 7, CHARM-II eq. 8) against docs/physics/g2-scattering.md §5-§7."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest
from refcheck import K_REF

from physics.benchmarks import all_benchmarks, benchmark
from physics.constants import CONST
from physics.decays import s_widths
from physics.miniboone import (
    UntabulatedOptionError,
    calibration_factor,
    check_options,
    in_table_domain,
    load_tables,
    r_charm2,
    r_charm2_direct,
    r_miniboone,
    r_miniboone_direct,
    zp_denominator,
)
from physics.options import TheoryOptions
from physics.params import ModelParams
from physics.scattering import helm_radii, miniboone_flux

ABS = TheoryOptions(r_normalisation="absolute")
# docs/physics/g2-scattering.md §5.4 "R (coh+incoh)" and the "no nucleon FF in scalar incoherent" variant
R_ABS_REF = [0.634, 0.574, 0.527, 0.583, 0.534, 0.627, 0.530]
R_NOFF_REF = [0.684, 0.660, 0.614, 0.686, 0.656, 0.666, 0.646]
# docs/physics/g2-scattering.md §6 table, column "r (coh, m4_Z' = m_nu4)"
CHARM_REF = [0.151, 0.032, 0.037, 0.494, 0.016, 0.286, 0.025]


@pytest.fixture(scope="module")
def bps() -> tuple[ModelParams, np.ndarray]:
    p = all_benchmarks()
    return p, s_widths(p).br_vis


def _random_points(n: int, seed: int) -> ModelParams:
    """Random points inside the table domain, couplings in the paper's scan ranges."""
    rng = np.random.default_rng(seed)
    return ModelParams(
        kappa=rng.uniform(0, 2e-3, n), eta_d=rng.uniform(0, 1, n), eta_c=rng.uniform(-0.5, 0, n),
        eta_t=rng.uniform(0, 0.02, n), g_D=rng.uniform(0.1, 4, n), U_mu4=rng.uniform(1e-3, 1e-2, n),
        m_S=np.exp(rng.uniform(np.log(0.010), np.log(0.150), n)), m_nu4=rng.uniform(0.400, 0.700, n), units="GeV")


def test_zp_denominator() -> None:
    """§5.3: D_Z' = 4.889e-22 GeV^-2 nu/cm^2/POT per CH2 (m4 = 420 MeV, |U|^2 = 9e-7)."""
    np.testing.assert_allclose(zp_denominator(ABS), 4.889e-22, rtol=1e-3)


def test_table_K_values_at_benchmarks(bps) -> None:
    """§7 reference K values from the interpolated tables (tolerance 5e-4, as for the direct path in
    test_scattering.py: quadrature error of the reference script near the nucleon threshold)."""
    p, _ = bps
    t = load_tables()
    K = np.column_stack([t.K(name, p.m_S, p.m_nu4) for name in ("K_C12", "K_p", "K_n")])
    np.testing.assert_allclose(K, K_REF, rtol=5e-4)


def test_r_absolute_at_benchmarks(bps) -> None:
    """§5.4: R (coh+incoh) = 0.634 ... 0.530; 3 digits quoted, tolerance 1.5e-3."""
    p, br = bps
    np.testing.assert_allclose(r_miniboone(p, br, ABS), R_ABS_REF, rtol=1.5e-3)


def test_r_without_nucleon_form_factor(bps) -> None:
    """§5.4 variant "no nucleon FF in scalar incoherent" (3 digits quoted)."""
    p, br = bps
    R = r_miniboone(p, br, ABS.with_(nucleon_ff_incoherent=False))
    np.testing.assert_allclose(R, R_NOFF_REF, rtol=1.5e-3)


CAL = TheoryOptions(r_normalisation="calibrated")
# docs/physics/g2-scattering.md §5.6 (independent implementation of the same conventions): R at BP1..BP7
R_RECAST_REF = [0.990, 0.994, 0.933, 1.062, 0.995, 0.943, 0.987]
R_COHERENT_ZP_REF = [0.875, 0.793, 0.727, 0.804, 0.737, 0.866, 0.732]  # convention 1 alone


def test_calibrated_geometric_mean_is_one(bps) -> None:
    p, br = bps
    R_cal = r_miniboone(p, br, CAL)
    np.testing.assert_allclose(np.exp(np.mean(np.log(R_cal))), 1.0, rtol=1e-12)
    # the factor is the geometric mean of the absolute R (≈ 0.57, §5.4 mean 0.573), not a constant
    np.testing.assert_allclose(calibration_factor(CAL), np.exp(np.mean(np.log(R_ABS_REF))), rtol=2e-3)
    np.testing.assert_allclose(calibration_factor(CAL), calibration_factor(ABS), rtol=1e-15)
    shifted = CAL.with_(fTs=CONST.fTs + 0.02)
    assert calibration_factor(shifted) > 1.2 * calibration_factor(CAL)  # §5.4: f_Ts +0.02 -> R x1.27-1.57
    np.testing.assert_allclose(np.exp(np.mean(np.log(r_miniboone(p, br, shifted)))), 1.0, rtol=1e-12)


def test_recast_is_the_default_and_matches_the_reference(bps) -> None:
    """§5.6: R under the recast conventions, no constant. The reference prints 3 digits of an independent
    implementation; 1 % tolerance (the issue's and the docs' stated agreement; measured here <= 1e-3)."""
    p, br = bps
    opts = TheoryOptions()
    assert (opts.r_normalisation, opts.nuclear_form_factor, opts.zp_denominator, opts.nucleon_ff_incoherent) \
        == ("recast", "engel", "coherent", False)
    np.testing.assert_allclose(r_miniboone(p, br), R_RECAST_REF, rtol=0.01)
    # the constant a user could still fit is close to one: 1/geometric mean = 1.015
    assert 0.95 <= 1.0 / calibration_factor(opts) <= 1.05


def test_each_recast_convention_is_its_own_option(bps) -> None:
    """§5.6: convention 1 alone gives R x 1.38 at every BP; 1 + point-like nucleons (Lewin-Smith) a mean
    of 0.91; each choice is a separate field, so a user can see the systematic it carries."""
    p, br = bps
    coh = ABS.with_(zp_denominator="coherent")
    np.testing.assert_allclose(r_miniboone(p, br, coh), R_COHERENT_ZP_REF, rtol=0.01)
    np.testing.assert_allclose(r_miniboone(p, br, coh) / r_miniboone(p, br, ABS), 1.381, rtol=2e-3)
    mean_13 = np.mean(r_miniboone(p, br, coh.with_(nucleon_ff_incoherent=False)))
    assert mean_13 == pytest.approx(0.91, abs=0.005)
    # a new r_normalisation brings its own preset; explicit fields win over it
    assert TheoryOptions().with_(r_normalisation="absolute") == ABS
    assert TheoryOptions(r_normalisation="absolute", nuclear_form_factor="engel").nuclear_form_factor == "engel"
    with pytest.raises(ValueError, match="r_normalisation"):
        TheoryOptions(r_normalisation="fitted")  # type: ignore[arg-type]


def test_engel_radius_for_carbon() -> None:
    """§5.6: R0 = sqrt((1.2 A^(1/3))^2 - 5 s^2) = 1.60 fm for C12 with s = 1 fm; Lewin-Smith 2.66 fm (§4.5)."""
    assert helm_radii(12, "engel") == pytest.approx((1.596, 1.0), abs=1e-3)
    assert helm_radii(12, "lewin_smith")[0] == pytest.approx(2.66, abs=0.005)
    with pytest.raises(ValueError, match="unknown nuclear form factor"):
        helm_radii(12, "woods_saxon")


def test_recast_direct_quadrature_matches_tables(bps) -> None:
    p, br = bps
    sel = [0, 5]
    np.testing.assert_allclose(r_miniboone_direct(p.take(sel), br[sel]), r_miniboone(p.take(sel), br[sel]),
                               rtol=1e-4)


def test_zp_m4_option_is_honoured(bps) -> None:
    """§5.3: R scales by 0.79 and 1.43 for m4(Z') = 0.40 and 0.45 GeV (direct Z' quadrature)."""
    p, br = bps
    base = r_miniboone(p.take([0]), br[:1], ABS)
    for m4, factor in ((0.40, 0.79), (0.45, 1.43)):
        R = r_miniboone(p.take([0]), br[:1], ABS.with_(zp_m4=m4))
        np.testing.assert_allclose(R / base, factor, rtol=5e-3)  # 2 digits after the point quoted


def test_r_charm2_at_benchmarks(bps) -> None:
    """§6 table, coherent, m4_Z' = m_nu4. 2-3 digits quoted: half a unit of the last digit (5e-4) plus
    2e-3 relative for the reference script's recoil quadrature (BP6: 0.28550 here vs 0.286)."""
    p, br = bps
    np.testing.assert_allclose(r_charm2(p, br, ABS), CHARM_REF, rtol=2e-3, atol=5e-4)
    # the normalisation of R does not enter eq. (8); its form factor does (§5.6: 0.018-0.50 under recast)
    np.testing.assert_array_equal(r_charm2(p, br, CAL), r_charm2(p, br, ABS))
    recast = r_charm2(p, br)
    assert 0.017 < recast.min() and recast.max() < 0.51
    np.testing.assert_allclose(recast, r_charm2_direct(p, br), rtol=2e-3)


def test_r_charm2_untabulated_option_is_a_named_error(bps) -> None:
    """A non-tabulated E is an error naming the option; the direct quadrature computes it and is continuous
    with the table at 20 GeV."""
    p, br = bps
    with pytest.raises(UntabulatedOptionError, match=r"charm_E = 40.*tabulated: 20"):
        r_charm2(p, br, ABS.with_(charm_E=40.0))
    with pytest.raises(UntabulatedOptionError, match="zp_m_Zp"):
        check_options(ABS.with_(zp_m_Zp=0.05))
    np.testing.assert_allclose(r_charm2_direct(p, br, ABS.with_(charm_E=20.0 + 1e-7)), r_charm2(p, br, ABS),
                               rtol=2e-3)
    assert np.all(r_charm2_direct(p, br, ABS.with_(charm_E=40.0)) < r_charm2(p, br, ABS))


def test_table_matches_direct_at_random_points() -> None:
    """Table vs direct quadrature: documented accuracy 1e-4 (measured <= 1e-5) at random points."""
    p = _random_points(3, seed=7)
    br = s_widths(p).br_vis
    np.testing.assert_allclose(r_miniboone(p, br, ABS), r_miniboone_direct(p, br, ABS), rtol=1e-4)


def test_r_independent_of_flux_normalisation() -> None:
    """§5.2: R does not depend on the flux normalisation (flux x 3 in numerator and denominator)."""
    p = benchmark("BP4")
    br = s_widths(p).br_vis
    R1 = r_miniboone_direct(p, br, ABS)
    R3 = r_miniboone_direct(p, br, ABS, flux=miniboone_flux().scaled(3.0))
    np.testing.assert_allclose(R3, R1, rtol=1e-12)
    np.testing.assert_allclose(R1, R_ABS_REF[3], rtol=1.5e-3)


def test_batch_is_vectorised_and_finite() -> None:
    p = _random_points(2000, seed=3)
    br = s_widths(p).br_vis
    R = r_miniboone(p, br)
    assert R.shape == (2000,) and np.all(np.isfinite(R)) and np.all(R >= 0)
    np.testing.assert_allclose(r_miniboone(p.take([5]), br[5:6]), R[5:6], rtol=1e-12)
    assert np.all(np.isfinite(r_charm2(p, br)))


def test_domain_mask_and_error() -> None:
    p = ModelParams.from_paper_units({"kappa": 1.0, "eta_d": 0.2, "eta_c": -0.1, "eta_t": 0.005,
                                      "g_D": 1.0, "U_mu4": 5e-3,
                                      "m_S": [10, 150, 9.9, 40], "m_nu4": [400, 700, 500, 701]})
    np.testing.assert_array_equal(in_table_domain(p), [True, True, False, False])
    br = s_widths(p).br_vis
    with pytest.raises(ValueError, match=r"m_S outside the scattering-table domain \[10, 150\] MeV"):
        r_miniboone(p, br, ABS)
    with pytest.raises(ValueError, match=r"m_nu4 outside .*\[400, 700\] MeV"):
        r_charm2(p.take([3]), br[3:], ABS)
    assert np.all(np.isfinite(r_miniboone(p.take([0, 1]), br[:2], ABS)))


def test_tables_cover_domain_and_match_shipped_flux() -> None:
    """The npz grid covers m_S in [10, 150] MeV, m_nu4 in [400, 700] MeV and was built from the CSV."""
    meta = load_tables().metadata
    grid = meta["grid"]
    assert grid["m_S"]["min"] <= 0.010 and grid["m_S"]["max"] >= 0.150
    assert grid["m_nu4"]["min"] <= 0.400 and grid["m_nu4"]["max"] >= 0.700
    assert meta["domain"] == {"m_S": [0.010, 0.150], "m_nu4": [0.400, 0.700]}
    csv_header = resources.files("physics.data").joinpath("miniboone_numu_flux.csv").read_text("utf-8")
    assert f"sha256 of MiniBooNE_FHC.dat: {meta['flux_sha256']}" in csv_header
