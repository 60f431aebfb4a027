"""PriorSet: the map between sampler vectors and named parameters, and the paper's default box."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

from priors import PAPER_RANGES, PARAMETER_ORDER, Fixed, LogUniform, Normal, PriorSet, Uniform, paper_priors


def _set() -> PriorSet:
    return PriorSet({"a": Uniform(0.0, 2.0), "b": Fixed(3.0), "c": LogUniform(1e-3, 1e-1),
                     "d": Normal(0.0, 1.0, min=-1.0, max=1.0)})


def test_names_ndim_fixed() -> None:
    ps = _set()
    assert ps.names == ("a", "c", "d")
    assert ps.ndim == 3
    assert ps.fixed == {"b": 3.0}
    assert list(ps) == ["a", "b", "c", "d"]
    assert len(ps) == 4 and isinstance(ps["c"], LogUniform)
    np.testing.assert_array_equal(ps.bounds, [[0.0, 2.0], [1e-3, 1e-1], [-1.0, 1.0]])


def test_logpdf_is_the_sum_over_free_parameters() -> None:
    ps = _set()
    x = np.array([[1.0, 1e-2, 0.0], [3.0, 1e-2, 0.0]])  # second point outside a's support
    expected = ps["a"].logpdf(1.0) + ps["c"].logpdf(1e-2) + ps["d"].logpdf(0.0)
    out = ps.logpdf(x)
    assert out.shape == (2,)
    assert out[0] == pytest.approx(float(expected))
    assert out[1] == -np.inf
    assert ps.logpdf(x[0]).shape == ()  # one point as a 1-D vector


def test_ppf_cdf_round_trip_and_shapes() -> None:
    ps = _set()
    u = np.random.default_rng(3).random((5, 3))
    x = ps.ppf(u)
    assert x.shape == (5, 3)
    np.testing.assert_allclose(ps.cdf(x), u, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ps.ppf(u[0]), x[0])  # dynesty calls it with one (ndim,) vector


def test_sample_within_bounds_and_reproducible() -> None:
    ps = _set()
    a = ps.sample(np.random.default_rng(5), 200)
    b = ps.sample(np.random.default_rng(5), 200)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (200, 3)
    assert np.all(np.isfinite(ps.logpdf(a)))


def test_to_dict_fills_fixed_and_from_dict_inverts() -> None:
    ps = _set()
    x = ps.sample(np.random.default_rng(2), 4)
    d = ps.to_dict(x)
    assert list(d) == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(d["b"], np.full(4, 3.0))
    np.testing.assert_array_equal(d["c"], x[:, 1])
    np.testing.assert_array_equal(ps.from_dict(d), x)
    with pytest.raises(KeyError, match="missing free parameter"):
        ps.from_dict({"a": 1.0})


def test_wrong_width_is_an_error() -> None:
    with pytest.raises(ValueError, match="last axis of length 3"):
        _set().logpdf(np.zeros((2, 4)))
    with pytest.raises(TypeError, match="must be a Prior"):
        PriorSet({"a": (0.0, 1.0)})  # type: ignore[dict-item]


def test_paper_priors_are_the_scan_ranges() -> None:
    """arXiv:2310.15136, "Analysis and results": the ranges listed below eq. (8) of the paper."""
    ps = paper_priors()
    expected = {"kappa": (0, 2), "eta_d": (0, 1), "eta_c": (-0.5, 0), "eta_t": (0, 0.02),
                "g_D": (0, math.sqrt(4 * math.pi)), "U_mu4": (0, 0.006), "m_S": (10, 150), "m_nu4": (400, 700)}
    assert ps.names == PARAMETER_ORDER
    for name, (lo, hi) in expected.items():
        assert ps[name] == Uniform(lo, hi)
        assert PAPER_RANGES[name] == (lo, hi)
    zero = paper_priors(kappa_fixed=0.0)
    assert zero.fixed == {"kappa": 0.0}
    assert zero.names == PARAMETER_ORDER[1:]


def test_parameter_order_matches_physics() -> None:
    from physics.params import PAPER_UNITS, PARAM_NAMES
    from priors import PAPER_UNITS as PRIOR_UNITS

    assert PARAM_NAMES == PARAMETER_ORDER
    assert PAPER_UNITS == PRIOR_UNITS


def test_priors_imports_neither_physics_nor_likelihoods() -> None:
    """Layering rule (README.md, Layout): priors imports neither physics nor likelihoods, but for the error base
    class that every package's errors derive from (``physics.errors``, a module importing nothing of ours)."""
    package = Path(__file__).resolve().parents[2] / "priors"
    for file in package.glob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name == "physics.errors":
                    continue
                assert name.split(".")[0] not in {"physics", "likelihoods", "inference"}, (file, name)
