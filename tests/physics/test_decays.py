"""S and nu4 decays at the benchmark points against docs/physics/g2-scattering.md §2.2 and
docs/physics/flavour.md §7."""

import numpy as np
import pytest

from physics.benchmarks import all_benchmarks
from physics.decays import ctau_S, s_widths, tau_S, width_nu4

# docs/physics/g2-scattering.md §2.2 table (3 significant figures -> 1 % tolerance; 2-figure BRs -> rounding)
GAMMA_GG = [4.06e-13, 1.44e-12, 5.86e-12, 4.49e-13, 3.81e-12, 0.0, 0.0]
GAMMA_EE = [1.88e-16, 1.44e-15, 7.04e-16, 3.02e-16, 4.59e-15, 3.18e-15, 4.10e-14]
GAMMA_NUNU = [4.01e-12, 5.74e-13, 5.99e-12, 2.28e-12, 8.01e-13, 4.48e-12, 1.91e-11]
BR_GG = [0.0920, 0.7145, 0.4945, 0.1644, 0.8255, 0.0, 0.0]
BR_NUNU = [0.908, 0.285, 0.505, 0.836, 0.174, 0.9993, 0.9979]
CTAU_UM = [44.7, 97.9, 16.7, 72.2, 42.7, 44.1, 10.3]
TAU_PS = [0.149, 0.327, 0.056, 0.241, 0.143, 0.147, 0.034]
GAMMA_NU4 = [9.07e-7, 8.67e-8, 3.96e-7, 1.24e-6, 3.94e-8, 1.66e-6, 8.23e-7]


@pytest.fixture(scope="module")
def widths():
    return s_widths(all_benchmarks())


def test_partial_widths(widths):
    np.testing.assert_allclose(widths.gg, GAMMA_GG, rtol=0.01)
    np.testing.assert_allclose(widths.ee, GAMMA_EE, rtol=0.01)
    np.testing.assert_allclose(widths.nunu, GAMMA_NUNU, rtol=0.01)
    assert np.all(widths.mumu == 0.0), "S -> mu mu is closed below 211 MeV"


def test_branching_ratios(widths):
    # the table quotes 4 decimals: tolerance 1e-4 absolute (rounding)
    np.testing.assert_allclose(widths.br_gg, BR_GG, atol=1e-4)
    np.testing.assert_allclose(widths.br_nunu, BR_NUNU, atol=1e-3)
    total = widths.br_gg + widths.br_ee + widths.br_mumu + widths.br_nunu
    np.testing.assert_allclose(total, 1.0, rtol=1e-14)


def test_lifetimes(widths):
    np.testing.assert_allclose(ctau_S(widths) * 1e3, CTAU_UM, rtol=0.01)
    # tau is quoted to 3 decimals in ps: tolerance = half a unit of the last digit (rounding)
    np.testing.assert_allclose(tau_S(widths), TAU_PS, atol=5e-4)
    assert np.all(ctau_S(widths) < 0.1), "every BP satisfies the paper's proper c tau < 0.1 mm"


def test_nu4_width():
    np.testing.assert_allclose(width_nu4(all_benchmarks()), GAMMA_NU4, rtol=0.01)


def test_width_scalings():
    """Gamma_nunu ~ |U|^4 and Gamma_nu4 ~ |U|^2 (paper: lifetimes ~ |U|^-4 and |U|^-2)."""
    p = all_benchmarks()
    p2 = type(p)(**{**{n: getattr(p, n) for n in p.__dataclass_fields__}, "U_mu4": 2 * p.U_mu4}, units="GeV")
    np.testing.assert_allclose(s_widths(p2).nunu / s_widths(p).nunu, 16.0, rtol=1e-12)
    u1, u2 = p.U_mu4**2, p2.U_mu4**2
    np.testing.assert_allclose(width_nu4(p2) / width_nu4(p), u2 * (1 - u2) / (u1 * (1 - u1)), rtol=1e-12)
