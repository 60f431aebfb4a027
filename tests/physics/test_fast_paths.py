"""The optimised paths agree with the straightforward ones (issue 6): 1e-10 relative at 100 random points.

Reference paths: ``physics.predict`` (Context + the physics modules), ``RectBivariateSpline`` /
``CubicSpline`` for the scattering tables, the 32-node quadrature of K+ -> mu+ nu S, and
``JointLikelihood.loglike`` on a ModelParams built by ``RunConfig.to_params``. The fast paths are the fused
kernel of physics.registry (one point on Python floats, a batch on arrays), the piecewise-polynomial form of
the tables, the Chebyshev form of K+ -> mu+ nu S and the closed-form terms of likelihoods.terms.
The tables' fast form is an exact re-expression of the same splines (not a new table), so 1e-10 holds
there too.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from inference.config.runfile import load_run_config
from inference.samplers.model import RunModel
from likelihoods import JointLikelihood
from physics import kaon, kernel, miniboone
from physics.fused import fused_predictor, in_domain_point
from physics.g2 import yukawa_loop_integral, yukawa_loop_integral_point
from physics.options import TheoryOptions
from physics.params import PARAM_NAMES, ModelParams
from physics.registry import REGISTRY, in_domain, predict

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


FUSED_NAMES = tuple(sorted(n for n in REGISTRY if n not in {
    "BR(Bs->nunu)", "BR(Bs->nuDnuD)", "BR(Bs->invisible)", "Delta_a_e", "Gamma_nu4", "|g_bs|", "Re(g_sd)",
    "Im(g_sd)"}))
OPTIONS = [TheoryOptions(), TheoryOptions(r_normalisation="absolute"), TheoryOptions(kl_convention="im"),
           TheoryOptions(kl_convention="abs"), TheoryOptions(nucleon_ff_incoherent=False, fTs=0.06)]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: f"{o.kl_convention}-{o.r_normalisation}-"
                                                           f"{o.nucleon_ff_incoherent}")
def test_fused_predictor_matches_predict(options: TheoryOptions) -> None:
    params = ModelParams.from_array(_points(1))
    ref = predict(params, FUSED_NAMES, options)
    fused = fused_predictor(FUSED_NAMES, options)
    assert fused is not None
    batch = fused.predict(params)
    theta = params.to_array()
    points = [fused.point(row) for row in theta.tolist()]
    for j, name in enumerate(FUSED_NAMES):
        assert np.max(_rel(batch[name].np, ref[name].np)) < RTOL, name
        assert np.max(_rel(batch[name].total, ref[name].total)) < RTOL, name
        assert np.max(_rel(np.array([p[j] for p in points]), ref[name].np)) < RTOL, name


def test_fused_predictor_declines_what_it_does_not_cover() -> None:
    assert fused_predictor(("Delta_a_e",), TheoryOptions()) is None
    assert fused_predictor(("Delta_a_mu",), TheoryOptions(g2_two_loop_bz=True)) is None
    # an option the shipped tables do not cover is a named error on every path, never a silent slow path
    with pytest.raises(miniboone.UntabulatedOptionError, match="charm_E = 25"):
        fused_predictor(("R_CHARMII",), TheoryOptions(charm_E=25.0))


def test_in_domain_point_matches_in_domain() -> None:
    theta = _points(2, 400)
    theta[:40, 6] = np.linspace(0.005, 0.16, 40)  # some outside the m_S range
    theta[40:60, 7] = np.linspace(0.35, 0.75, 20)
    theta[60, 0] = np.nan
    theta[61, 4] = -1.0
    theta[62, 6:] = [0.150 * (1 + 1e-13), 0.700 * (1 + 1e-13)]
    ref = in_domain(ModelParams.from_array(theta))
    assert not ref.all() and ref.any()
    assert [in_domain_point(row) for row in theta.tolist()] == ref.tolist()


def test_spline_pieces_match_scipy() -> None:
    tables = miniboone.load_tables()
    names2, names1 = miniboone.fast_table_names(TheoryOptions())
    pieces2, pieces1 = miniboone.SplinePieces(names2), miniboone.CubicPieces(names1)
    theta = _points(3)
    x, y = np.log(theta[:, 6]), theta[:, 7]
    x[4], y[4] = math.log(0.150 * (1 + 1e-9)), 0.700 * (1 + 1e-9)  # clamped like FITPACK
    ref2 = np.stack([tables.splines[n].ev(x, y) for n in names2], axis=1)
    ref1 = np.stack([tables.charm_zp[n](y) for n in names1], axis=1)
    # compared in K = exp(ln K): relative error of K = absolute error of ln K
    assert np.max(np.abs(pieces2.ln_values(x, y) - ref2)) < RTOL
    assert np.max(np.abs(pieces1.ln_values(y) - ref1)) < RTOL
    pts2 = np.array([pieces2.ln_values_point(a, b) for a, b in zip(x.tolist(), y.tolist(), strict=True)])
    pts1 = np.array([pieces1.ln_values_point(b) for b in y.tolist()])
    assert np.max(np.abs(pts2 - ref2)) < RTOL
    assert np.max(np.abs(pts1 - ref1)) < RTOL


def test_kmunus_chebyshev_matches_quadrature() -> None:
    rng = np.random.default_rng(4)
    m_S = np.concatenate([rng.uniform(0.140, 0.150, N_POINTS), [0.17, 0.30]])  # last two: quadrature
    eta_d = rng.random(m_S.size)
    ref = kaon.br_K_to_munu_S(eta_d, m_S)
    assert np.max(_rel(kaon.br_K_to_munu_S_fast(eta_d, m_S), ref)) < RTOL
    point = [kaon.br_K_to_munu_S_point(a, b) for a, b in zip(eta_d.tolist(), m_S.tolist(), strict=True)]
    assert np.max(_rel(np.array(point), ref)) < RTOL


def test_yukawa_point_matches_array() -> None:
    r = np.concatenate([np.geomspace(1e-3, 3.98, N_POINTS), [4.0, 10.0, 2e3]])  # last three: other branches
    ref = yukawa_loop_integral(r)
    assert np.max(_rel(np.array([yukawa_loop_integral_point(v) for v in r.tolist()]), ref)) < RTOL


@pytest.fixture(params=["compiled", "python"])
def fast_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test on the compiled fast path and again on the Python fused path (the fallback without numba)."""
    if request.param == "python":
        monkeypatch.setattr(kernel, "ENABLED", False)
    elif not kernel.ENABLED:
        pytest.skip("numba missing or DARKPORTAL_JIT=0")
    return str(request.param)


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: f"{o.kl_convention}-{o.r_normalisation}-"
                                                           f"{o.nucleon_ff_incoherent}")
def test_compiled_kernel_matches_predict(options: TheoryOptions) -> None:
    if not kernel.ENABLED:
        pytest.skip("numba missing or DARKPORTAL_JIT=0")
    kernel.check_layout()
    theta = _points(11)
    ref = predict(ModelParams.from_array(theta), kernel.KERNEL_NAMES, options)
    fused = fused_predictor(FUSED_NAMES, options)
    assert fused is not None
    data = kernel.kernel_data(fused._k)
    out = np.empty((len(theta), kernel.N_OUT))
    for row, o in zip(theta, out, strict=True):
        assert kernel.in_domain(row)
        kernel.evaluate(row, data.consts, data.t2, data.x2, data.y2, data.t1, data.x1, o)
    for j, name in enumerate(kernel.KERNEL_NAMES):
        assert np.max(_rel(out[:, j], ref[name].np)) < RTOL, name


def test_compiled_in_domain_matches_in_domain() -> None:
    if not kernel.ENABLED:
        pytest.skip("numba missing or DARKPORTAL_JIT=0")
    theta = _points(2, 400)
    theta[:40, 6] = np.linspace(0.005, 0.16, 40)
    theta[40:60, 7] = np.linspace(0.35, 0.75, 20)
    theta[60, 0], theta[61, 4], theta[63, 3] = np.nan, -1.0, np.inf
    theta[62, 6:] = [0.150 * (1 + 1e-13), 0.700 * (1 + 1e-13)]
    theta[64, 5] = 1.0 + 1e-9
    ref = in_domain(ModelParams.from_array(theta))
    assert not ref.all() and ref.any()
    assert [bool(kernel.in_domain(row)) for row in theta] == ref.tolist()


@pytest.mark.parametrize(("data", "mode", "softening"), [("2023", "gaussian", 0.0), ("2025", "gaussian", 0.0),
                                                         ("2023", "cuts", 0.0), ("2023", "cuts", 0.3)])
def test_fast_loglike_matches_reference(data: str, mode: str, softening: float, fast_path: str) -> None:
    lik = JointLikelihood.from_config(data, mode, softening=softening, options=TheoryOptions())
    plan = lik._fast_plan()
    assert plan is not None and (plan.compiled is not None) == (fast_path == "compiled")
    theta = _points(5)
    theta[5, 6] = 0.009  # outside the domain
    ref = lik.loglike(ModelParams.from_array(theta))
    fast = lik.fast_loglike(theta, chunk=17)  # several chunks (Python path)
    assert fast is not None
    point = np.array([lik.fast_loglike_point(row) for row in theta.tolist()])
    for got in (fast, point):
        assert np.array_equal(np.isfinite(got), np.isfinite(ref))
        assert np.array_equal(got == -np.inf, ref == -np.inf)
        fin = np.isfinite(ref)
        assert fin.sum() >= (10 if mode == "gaussian" or softening > 0 else 0)
        assert np.max(_rel(got[fin], ref[fin]), initial=0.0) < RTOL


@pytest.mark.parametrize("run", ["runs/kappa_nonzero.yaml", "runs/kappa_zero.yaml"])
def test_run_model_fast_path_matches_reference(run: str, fast_path: str) -> None:
    model = RunModel(load_run_config(run))
    assert (model._compiled is not None) == (fast_path == "compiled")
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
    assert np.array_equal(model._columns.batch(x), model.config.to_params(x).to_array())
    assert model._columns.point(x[0].tolist()) == model.config.to_params(x[:1]).to_array()[0].tolist()


def test_no_fast_path_with_stand_in_predictor() -> None:
    lik = JointLikelihood.from_config("2023", "gaussian", predictor=lambda p, names, opts: predict(p, names, opts))
    assert lik.fast_loglike_point(_points(7)[6].tolist()) is None
    assert lik.fast_loglike(_points(7)) is None
    assert lik.compiled_loglike(range(8), [1.0] * 8, [0.0] * 8) is None


def test_compiled_column_map_is_checked() -> None:
    if not kernel.ENABLED:
        pytest.skip("numba missing or DARKPORTAL_JIT=0")
    lik = JointLikelihood.from_config("2023", "gaussian", options=TheoryOptions())
    with pytest.raises(ValueError, match="column map needs 8 entries"):
        lik.compiled_loglike(range(7), [1.0] * 7, [0.0] * 7)
    with pytest.raises(ValueError, match=r"numbered 0\.\.ndim-1"):
        lik.compiled_loglike([0, 1, 2, 3, 4, 5, 6, 8], [1.0] * 8, [0.0] * 8)


def test_non_finite_from_kernel_goes_to_reference(monkeypatch: pytest.MonkeyPatch, fast_path: str) -> None:
    """A NaN out of the fused kernel is never returned: the reference path decides (and raises on its own NaN)."""
    lik = JointLikelihood.from_config("2023", "gaussian", options=TheoryOptions())
    theta = _points(8)
    ref = lik.loglike(ModelParams.from_array(theta))
    i = int(np.flatnonzero(np.isfinite(ref))[0])
    plan = lik._fast_plan()
    assert plan is not None
    if plan.compiled is not None:
        monkeypatch.setattr(plan.compiled, "point", lambda x: math.nan)
        monkeypatch.setattr(plan.compiled, "batch", lambda xs: np.full(len(xs), math.inf))
    monkeypatch.setattr(plan.predictor, "point", lambda values: [math.nan] * len(plan.predictor.names))
    monkeypatch.setattr(plan.predictor, "batch", lambda t: [np.full(len(t), math.nan)] * len(plan.predictor.names))
    assert lik.fast_loglike_point(theta[i].tolist()) == pytest.approx(ref[i], rel=RTOL)
    fast = lik.fast_loglike(theta)
    assert fast is not None and np.array_equal(fast, ref)


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
    assert kernel.clear_stale_cache(str(module), [str(dep)])  # first sight: no stamp yet
    assert not any(p.exists() for p in entries) and other.exists()
    for p in entries:
        p.write_bytes(b"compiled")
    assert not kernel.clear_stale_cache(str(module), [str(dep)])  # nothing changed: the cache stays
    assert all(p.exists() for p in entries)
    dep.write_text("LIMIT = 0.16\n")
    assert kernel.clear_stale_cache(str(module), [str(dep)])
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
        # one point vs a batch: the same arithmetic, but the Python fused path (DARKPORTAL_JIT=0) runs floats
        # one way and arrays the other, equal to rounding
        assert np.max(_rel(got[np.isfinite(got)], want[np.isfinite(want)]), initial=0.0) < RTOL
