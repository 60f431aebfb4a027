"""The physics kernel agrees with the straightforward paths (issue 6): 1e-10 relative at 100 random points.

Reference paths: ``physics.predict`` (Context + the physics modules), ``RectBivariateSpline`` /
``CubicSpline`` for the scattering tables, the 32-node quadrature of K+ -> mu+ nu S, and
``JointLikelihood.evaluate`` on a ModelParams built by ``RunConfig.to_params``. The fast path is the kernel
(physics.kernel: the piecewise-polynomial form of the tables, the Chebyshev form of K+ -> mu+ nu S) with the
closed-form terms (likelihoods.compiled), each checked compiled and as plain Python (``py_func``; the Makefile
runs this file again with DARKPORTAL_JIT=0, where every call is Python). The tables' fast form is an exact
re-expression of the same splines (not a new table), so 1e-10 holds there too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from inference.config.runfile import load_run_config
from inference.samplers.model import RunModel
from likelihoods import JointLikelihood
from likelihoods.compiled import map_columns
from likelihoods.joint import DOMAIN_TERM
from physics import g2, kaon, kernel, miniboone, observables
from physics.jit import clear_stale_cache
from physics.options import TheoryOptions
from physics.params import PARAM_NAMES, ModelParams
from physics.registry import in_domain, predict

RTOL = 1e-10  # issue 6: optimised vs straightforward, relative
N_POINTS = 100
# paper scan ranges (arXiv:2310.15136, "Analysis and results"), GeV units, PARAM_NAMES order
BOX = np.array([[0.0, 2e-3], [0.0, 1.0], [-0.5, 0.0], [0.0, 0.02], [0.0, math.sqrt(4 * math.pi)],
                [0.0, 0.006], [0.010, 0.150], [0.400, 0.700]])


def _points(seed: int, n: int = N_POINTS) -> np.ndarray:
    rng = np.random.default_rng(seed)
    theta = BOX[:, 0] + (BOX[:, 1] - BOX[:, 0]) * rng.random((n, len(PARAM_NAMES)))
    # corners of the tables and both sides of the K -> mu nu ee cut (m_S = 140 MeV)
    theta[0, 6:] = [0.010, 0.400]
    theta[1, 6:] = [0.150, 0.700]
    theta[2, 6] = 0.1400000001
    theta[3, 6] = 0.1399999999
    return theta


def _rel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(same, 0.0, np.abs(a - b) / np.abs(b))


OPTIONS = [TheoryOptions(), TheoryOptions(r_normalisation="absolute"), TheoryOptions(kl_convention="im"),
           TheoryOptions(kl_convention="abs"), TheoryOptions(nucleon_ff_incoherent=False, fTs=0.06)]
IDENTITY = (tuple(range(8)), (1.0,) * 8, (0.0,) * 8)  # column map of 8 GeV values


def _as_python(fn: Any) -> Any:
    """The plain Python function behind a jitted one (what DARKPORTAL_JIT=0 runs); itself without numba."""
    return getattr(fn, "py_func", fn)


@pytest.fixture(params=["compiled", "python"])
def run_as(request: pytest.FixtureRequest) -> Callable[[Any], Any]:
    """A kernel function as compiled and as plain Python (with DARKPORTAL_JIT=0 both are Python)."""
    return (lambda fn: fn) if request.param == "compiled" else _as_python


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: f"{o.kl_convention}-{o.r_normalisation}-"
                                                           f"{o.nucleon_ff_incoherent}")
def test_kernel_matches_predict(options: TheoryOptions, run_as: Callable[[Any], Any]) -> None:
    theta = _points(11)
    ref = predict(ModelParams.from_array(theta), kernel.KERNEL_NAMES, options)
    data = kernel.kernel_data(options)
    evaluate, inside = run_as(kernel.evaluate), run_as(kernel.in_domain)
    out = np.empty((len(theta), kernel.N_OUT))
    for row, o in zip(theta, out, strict=True):
        assert inside(row)
        evaluate(row, data.consts, data.t2, data.x2, data.y2, data.t1, data.x1, o)
    for j, name in enumerate(kernel.KERNEL_NAMES):
        assert np.max(_rel(out[:, j], ref[name].np)) < RTOL, name


def test_constant_layout_follows_the_field_order() -> None:
    k = observables.kernel_constants(TheoryOptions(kl_convention="im"))
    flat = observables.flatten(k)
    assert flat.size == observables.N_CONSTS
    for name, value in zip(observables.KernelConstants._fields, k, strict=True):
        i = getattr(observables.SLOT, name)
        if isinstance(value, tuple):
            assert flat[i:i + len(value)].tolist() == list(value), name
        else:
            assert flat[i] == value, name
    assert flat[observables.SLOT.kl_mode] == 1.0
    assert np.array_equal(kernel.kernel_data(TheoryOptions()).consts, observables.flatten(
        observables.kernel_constants(TheoryOptions())))
    # predict's constants differ only in R's two denominators, which it does not read
    differs = observables.flavour_constants(TheoryOptions()) != kernel.kernel_data(TheoryOptions()).consts
    assert np.flatnonzero(differs).tolist() == [observables.SLOT.r_denominator, observables.SLOT.charm_denominator]


def test_kernel_declines_what_it_does_not_cover() -> None:
    assert kernel.supports(kernel.KERNEL_NAMES, TheoryOptions())
    assert not kernel.supports(("Delta_a_e",), TheoryOptions())
    assert not kernel.supports(("Delta_a_mu",), TheoryOptions(g2_two_loop_bz=True))
    assert not kernel.supports(("Delta_a_mu",), TheoryOptions(g2_kappa_finite=True))
    # an option the shipped tables do not cover is a named error on every path, never a silent slow path
    with pytest.raises(miniboone.UntabulatedOptionError, match="charm_E = 25"):
        kernel.kernel_data(TheoryOptions(charm_E=25.0))
    with pytest.raises(miniboone.UntabulatedOptionError, match="charm_E = 25"):
        JointLikelihood.from_config("2023", "gaussian", options=TheoryOptions(charm_E=25.0)).logpdf(_points(7))


def test_kernel_in_domain_matches_in_domain(run_as: Callable[[Any], Any]) -> None:
    theta = _points(2, 400)
    theta[:40, 6] = np.linspace(0.005, 0.16, 40)  # some outside the m_S range
    theta[40:60, 7] = np.linspace(0.35, 0.75, 20)
    theta[60, 0], theta[61, 4], theta[63, 3] = np.nan, -1.0, np.inf
    theta[62, 6:] = [0.150 * (1 + 1e-13), 0.700 * (1 + 1e-13)]
    theta[64, 5] = 1.0 + 1e-9
    ref = in_domain(ModelParams.from_array(theta))
    assert not ref.all() and ref.any()
    inside = run_as(kernel.in_domain)
    assert [bool(inside(row)) for row in theta] == ref.tolist()


def test_table_pieces_match_scipy(run_as: Callable[[Any], Any]) -> None:
    tables = miniboone.load_tables()
    names2, names1 = miniboone.fast_table_names(TheoryOptions())
    data = kernel.kernel_data(TheoryOptions())
    theta = _points(3)
    x, y = np.log(theta[:, 6]), theta[:, 7]
    x[4], y[4] = math.log(0.150 * (1 + 1e-9)), 0.700 * (1 + 1e-9)  # clamped like FITPACK
    ref2 = np.stack([tables.splines[n].ev(x, y) for n in names2], axis=1)
    ref1 = np.stack([tables.charm_zp[n](y) for n in names1], axis=1)
    got2, got1 = np.empty_like(ref2), np.empty_like(ref1)
    ln2, ln1 = run_as(miniboone.ln_pieces_2d), run_as(miniboone.ln_pieces_1d)
    for i in range(len(x)):
        ln2(data.t2, data.x2, data.y2, x[i], y[i], got2[i])
        ln1(data.t1, data.x1, y[i], got1[i])
    # compared in K = exp(ln K): relative error of K = absolute error of ln K
    assert np.max(np.abs(got2 - ref2)) < RTOL
    assert np.max(np.abs(got1 - ref1)) < RTOL


def test_kmunus_chebyshev_matches_quadrature(run_as: Callable[[Any], Any]) -> None:
    rng = np.random.default_rng(4)
    m_S = np.concatenate([rng.uniform(0.140, 0.150, N_POINTS), [0.140, 0.160]])
    eta_d = rng.random(m_S.size)
    ref = kaon.br_K_to_munu_S(eta_d, m_S)
    lo, hi, coef = kaon.kmunus_chebyshev()
    cheb = run_as(kaon.chebyshev_sum)
    got = [a * a * cheb(np.array(coef), 2.0 * (2.0 * b - (lo + hi)) / (hi - lo))
           for a, b in zip(eta_d.tolist(), m_S.tolist(), strict=True)]
    assert np.max(_rel(np.array(got), ref)) < RTOL


def test_yukawa_closed_form_compiled_and_python_agree() -> None:
    r = np.concatenate([np.geomspace(1e-3, 3.98, N_POINTS), [4.0, 10.0, 49.0]])  # last three: other branches
    ref = np.array([_as_python(g2.yukawa_closed_form)(v) for v in r.tolist()])
    assert np.max(_rel(g2.yukawa_loop_integral(r), ref)) < RTOL
    assert np.max(_rel(np.array([g2.yukawa_closed_form(v) for v in r.tolist()]), ref)) < RTOL
    # and the closed form is the integral: the quadrature the electron's large r uses
    np.testing.assert_allclose(ref, g2._yukawa_quadrature(r), rtol=1e-9)


@pytest.mark.parametrize(("data", "mode", "softening"), [("2023", "gaussian", 0.0), ("2025", "gaussian", 0.0),
                                                         ("2023", "cuts", 0.0), ("2023", "cuts", 0.3)])
def test_kernel_loglike_matches_reference(data: str, mode: str, softening: float) -> None:
    lik = JointLikelihood.from_config(data, mode, softening=softening, options=TheoryOptions())
    path = lik.kernel_path(*IDENTITY)
    assert path is not None
    theta = _points(5)
    theta[5, 6] = 0.009  # outside the domain
    ref = lik.evaluate(ModelParams.from_array(theta))[0]
    batch = lik.logpdf(theta)
    point = np.array([path.point(row) for row in theta])
    for got in (batch, point, lik.logpdf(ModelParams.from_array(theta))):
        assert np.array_equal(np.isfinite(got), np.isfinite(ref))
        assert np.array_equal(got == -np.inf, ref == -np.inf)
        fin = np.isfinite(ref)
        assert fin.sum() >= (10 if mode == "gaussian" or softening > 0 else 0)
        assert np.max(_rel(got[fin], ref[fin]), initial=0.0) < RTOL
    per_term = lik.logpdf(theta, per_term=True)
    assert isinstance(per_term, dict) and DOMAIN_TERM in per_term
    assert np.array_equal(np.sum(np.stack(list(per_term.values())), axis=0), ref)


@pytest.mark.parametrize("run", ["runs/kappa_nonzero.yaml", "runs/kappa_zero.yaml"])
def test_run_model_fast_path_matches_reference(run: str) -> None:
    model = RunModel(load_run_config(run))
    assert model._kernel_path is not None
    x = model.prior_transform(np.random.default_rng(6).random((N_POINTS, model._columns.ndim)))
    ref = model.reference_log_likelihood(x)
    assert np.isfinite(ref).sum() >= 10
    fast = model.log_likelihood(x)
    single = np.array([model.log_likelihood(x[i:i + 1])[0] for i in range(len(x))])
    dynesty_point = np.array([model.point_log_likelihood(row) for row in x])
    for got in (fast, single, dynesty_point):
        assert np.array_equal(np.isfinite(got), np.isfinite(ref))
        fin = np.isfinite(ref)
        assert np.max(_rel(got[fin], ref[fin])) < RTOL
    # the column map is RunConfig.to_params without the ModelParams
    assert np.array_equal(map_columns(x, *model._columns.spec), model.config.to_params(x).to_array())


def test_no_kernel_path_with_stand_in_predictor() -> None:
    lik = JointLikelihood.from_config("2023", "gaussian", predictor=lambda p, names, opts: predict(p, names, opts))
    assert lik.kernel_path(*IDENTITY) is None
    theta = _points(7)
    assert np.array_equal(lik.logpdf(theta), lik.evaluate(ModelParams.from_array(theta))[0])


def test_kernel_column_map_is_checked() -> None:
    lik = JointLikelihood.from_config("2023", "gaussian", options=TheoryOptions())
    with pytest.raises(ValueError, match="column map needs 8 entries"):
        lik.kernel_path(range(7), [1.0] * 7, [0.0] * 7)
    with pytest.raises(ValueError, match=r"numbered 0\.\.ndim-1"):
        lik.kernel_path([0, 1, 2, 3, 4, 5, 6, 8], [1.0] * 8, [0.0] * 8)
    with pytest.raises(ValueError, match="rows of 8 values"):
        lik.logpdf(_points(3)[:, :7])


def test_non_finite_from_kernel_goes_to_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """A NaN out of the kernel is never returned: the reference path decides (and raises on its own NaN)."""
    lik = JointLikelihood.from_config("2023", "gaussian", options=TheoryOptions())
    theta = _points(8)
    ref = lik.evaluate(ModelParams.from_array(theta))[0]
    plan = lik._kernel()
    assert plan is not None
    monkeypatch.setattr(plan, "batch", lambda xs: np.full(len(xs), math.inf))
    assert np.array_equal(lik.logpdf(theta), ref)
    model = RunModel(load_run_config("runs/kappa_nonzero.yaml"))
    x = model.prior_transform(np.random.default_rng(9).random((20, model._columns.ndim)))
    path = model._kernel_path
    assert path is not None
    monkeypatch.setattr(path, "point", lambda row: math.nan)
    monkeypatch.setattr(path, "batch", lambda xs: np.full(len(xs), math.nan))
    want = model.reference_log_likelihood(x)
    got = np.array([model.point_log_likelihood(row) for row in x])
    assert np.array_equal(np.isfinite(got), np.isfinite(want)) and np.isfinite(want).sum() >= 3
    assert np.max(_rel(got, want)) < 1e-14  # the reference on rows mapped as to_params maps them


@pytest.mark.parametrize("run", ["runs/kappa_nonzero.yaml", "runs/kappa_zero.yaml"])
def test_prior_transform_point_path_is_ppf(run: str) -> None:
    model = RunModel(load_run_config(run))
    u = np.random.default_rng(10).random((N_POINTS, model._columns.ndim))
    u[0], u[1] = 0.0, 1.0
    single = np.concatenate([model.prior_transform(u[i:i + 1]) for i in range(len(u))])
    assert np.array_equal(single, model.config.priors.ppf(u))
    dynesty_point = np.array([model.point_prior_transform(row) for row in u])
    assert np.array_equal(dynesty_point, model.config.priors.ppf(u))
    assert model._columns.uniform is not None  # all uniform: both paths take _uniform_box_point
    with pytest.raises(ValueError, match="ppf takes u in"):
        model.prior_transform(np.full((1, model._columns.ndim), 1.5))
    with pytest.raises(ValueError, match="ppf takes u in"):
        model.point_prior_transform(np.full(model._columns.ndim, -0.5))


def test_stale_numba_cache_is_cleared_when_a_dependency_changes(tmp_path: Path) -> None:
    """numba re-compiles a cached function only when its own file changes; clear_stale_cache covers the files
    whose functions and constants it compiles in."""
    module, dep = tmp_path / "mod.py", tmp_path / "dep.py"
    module.write_text("x = 1\n")
    dep.write_text("LIMIT = 0.15\n")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    entries = [cache / "mod.f-3.py312.nbi", cache / "mod.f-3.py312.1.nbc"]
    other = cache / "other.g-1.py312.nbi"  # another module's cache is left alone
    for p in (*entries, other):
        p.write_bytes(b"compiled")
    assert clear_stale_cache(str(module), [str(dep)])  # first sight: no stamp yet
    assert not any(p.exists() for p in entries) and other.exists()
    for p in entries:
        p.write_bytes(b"compiled")
    assert not clear_stale_cache(str(module), [str(dep)])  # nothing changed: the cache stays
    assert all(p.exists() for p in entries)
    dep.write_text("LIMIT = 0.16\n")
    assert clear_stale_cache(str(module), [str(dep)])
    assert not any(p.exists() for p in entries) and other.exists()


def test_point_wrappers_pickled_before_the_point_paths_still_work() -> None:
    """A dynesty checkpoint written before SamplingProblem had point paths holds wrappers without ``_point``:
    resuming it must take the vectorised path, with the same values."""
    import pickle

    from inference.samplers.problem import PointLogLikelihood, PointPriorTransform

    model = RunModel(load_run_config("runs/kappa_nonzero.yaml"))
    u = np.random.default_rng(12).random((20, model._columns.ndim))
    for cls, fn in ((PointLogLikelihood, model.log_likelihood), (PointPriorTransform, model.prior_transform)):
        old = cls(model.problem())
        del old.__dict__["_point"]  # the state such an object had before
        restored = pickle.loads(pickle.dumps(old))
        assert restored._point is None
        x = model.prior_transform(u)
        args = x if cls is PointLogLikelihood else u
        got = np.array([restored(row) for row in args])
        want = np.asarray(fn(args)).reshape(got.shape)
        assert np.array_equal(np.isfinite(got), np.isfinite(want))
        # one point vs a batch: the same kernel arithmetic, equal to rounding
        assert np.max(_rel(got[np.isfinite(got)], want[np.isfinite(want)]), initial=0.0) < RTOL
