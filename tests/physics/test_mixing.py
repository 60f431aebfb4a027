"""Delta M_Bs and Delta M_K from S exchange against docs/physics/flavour.md §5, §10 and the §7 benchmark table."""

from __future__ import annotations

import numpy as np
import pytest
from refcheck import assert_refs

from physics.benchmarks import all_benchmarks
from physics.constants import CONST
from physics.couplings import g_bs, g_sd
from physics.mixing import delta_m_bs, delta_m_k


@pytest.fixture(scope="module")
def bp():
    p = all_benchmarks()
    return p, g_bs(p.eta_t), g_sd(p.eta_t, p.eta_c)


def test_delta_m_bs_coefficient() -> None:
    """docs/physics/flavour.md §5/§10: Delta M_s = 3.98e9 |g_bs|^2 ps^-1 (m_S -> 0)."""
    assert delta_m_bs(1.0, 0.0) == pytest.approx(3.98e9, rel=0.01)
    assert delta_m_bs(1.0j, 0.0) == delta_m_bs(1.0, 0.0)  # depends on |g| only


def test_propagator_is_annihilation_type() -> None:
    """1/(m_M^2 - m_S^2), not the local 1/m_S^2 (docs/physics/flavour.md §5)."""
    m_S = np.array([0.0, 0.1, 0.3])
    expected = delta_m_k(1.0, 0.0) * CONST.m_K0**2 / (CONST.m_K0**2 - m_S**2)
    assert delta_m_k(1.0, m_S) == pytest.approx(expected, rel=1e-12)


def test_delta_m_at_benchmarks(bp) -> None:
    """docs/physics/flavour.md §7: Delta M_s NP (2 significant figures: rounding tolerance) and Delta M_K NP (3 figures,
    1 %); both far below the limits 0.7 ps^-1 and 0.09e8 s^-1."""
    p, gb, gs = bp
    dms = delta_m_bs(gb, p.m_S)
    dmk = delta_m_k(gs, p.m_S)
    assert_refs(dms, ["4.9e-06", "1.8e-05", "1.2e-05", "5.7e-06", "2.9e-05", "4.9e-06", "6.7e-06"])
    assert_refs(dmk, ["1.43", "5.09", "3.36", "1.65", "8.55", "1.42", "2.08"])
    assert np.all(dms < 0.7) and np.all(dmk < 0.09e8)


def test_artefact_reading_fails_only_bp1_bp4_bp6(bp) -> None:
    """docs/physics/flavour.md §0/§5: eq. (6) without 1/v (g_sd x v, rate x v^2 = 6.05e4) AND a local 1/m_S^2
    propagator give Delta M_K = 2e6 to 3.7e7 s^-1, so BP1, BP4, BP6 exceed 9e6 s^-1; the local propagator
    alone gives 33-610 s^-1, and the local B_s value stays <= 0.25 ps^-1 (2 figures: rounding + 1 %)."""
    p, gb, gs = bp
    to_local_k = (CONST.m_K0**2 - p.m_S**2) / p.m_S**2
    local = delta_m_k(gs, p.m_S) * to_local_k
    assert local.min() == pytest.approx(33.0, abs=0.5 + 0.33)
    assert local.max() == pytest.approx(610.0, abs=5.0 + 6.1)
    artefact = delta_m_k(gs * CONST.v, p.m_S) * to_local_k
    assert artefact.min() == pytest.approx(2e6, abs=0.5e6 + 0.02e6)
    assert artefact.max() == pytest.approx(3.7e7, abs=0.05e7 + 0.037e7)
    assert list(np.flatnonzero(artefact > 9e6) + 1) == [1, 4, 6]
    local_bs = delta_m_bs(gb, p.m_S) * (CONST.m_Bs**2 - p.m_S**2) / p.m_S**2
    assert local_bs.max() == pytest.approx(0.25, abs=0.005 + 0.0025)


def test_vectorised() -> None:
    g = np.full(4, 1e-8 + 1e-9j)
    m_S = np.array([0.01, 0.05, 0.1, 0.15])
    out = delta_m_bs(g, m_S)
    assert out.shape == (4,)
    assert np.all(np.diff(out) > 0.0)  # propagator grows as m_S -> m_Bs
