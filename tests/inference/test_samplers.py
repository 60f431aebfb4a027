"""Sampler adapters on analytic targets: each checked against an answer known in closed form.

Targets: a normalised Gaussian likelihood under a uniform prior box, whose evidence is
Z = (box volume)^-1 x (Gaussian mass inside the box), and an indicator likelihood of two balls in the
unit cube, whose evidence is their total volume.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from inference.samplers import (
    SAMPLER_NAMES,
    SAMPLERS,
    Sampler,
    SamplerSettingsError,
    StopKind,
    StopReason,
    dynesty_backend,
    emcee_backend,
    run_sampler,
    sampler,
    sampler_defaults,
    scan_backend,
)
from inference.samplers.cost import (
    CostTimings,
    NestedPilot,
    cost_estimate,
    estimate_cost,
    measure_timings,
    nested_iterations,
    nested_pilot,
)
from inference.samplers.pool import make_pool, map_chunked
from inference.samplers.problem import NonFiniteLikelihoodError, SamplingProblem


class Box:
    """Uniform prior on [lo, hi]^d: transform and log-density, vectorised."""

    def __init__(self, lo: list[float], hi: list[float]) -> None:
        self.lo, self.hi = np.asarray(lo, float), np.asarray(hi, float)

    def transform(self, u: np.ndarray) -> np.ndarray:
        return self.lo + u * (self.hi - self.lo)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        inside = np.all((x >= self.lo) & (x <= self.hi), axis=1)
        return np.where(inside, -np.sum(np.log(self.hi - self.lo)), -np.inf)

    def log_volume(self) -> float:
        return float(np.sum(np.log(self.hi - self.lo)))


class Gauss:
    """Normalised multivariate normal log-density as a log-likelihood."""

    def __init__(self, mean: list[float], cov: list[list[float]]) -> None:
        self.mean, self.cov = np.asarray(mean, float), np.asarray(cov, float)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.atleast_1d(multivariate_normal.logpdf(x, self.mean, self.cov))


class Balls:
    """log L = 0 inside either of two balls in the unit cube, -inf outside (a cuts-mode indicator)."""

    centres = np.array([[0.3, 0.3, 0.3], [0.75, 0.7, 0.6]])
    radii = np.array([0.08, 0.05])

    def inside(self, x: np.ndarray) -> np.ndarray:
        dist = np.linalg.norm(x[:, None, :] - self.centres[None], axis=2)
        return dist < self.radii[None]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.where(np.any(self.inside(x), axis=1), 0.0, -np.inf)

    def volume(self) -> float:
        return float(np.sum(4.0 / 3.0 * np.pi * self.radii**3))


class NaNAt:
    """A broken likelihood: NaN where the first coordinate exceeds 0.9."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.where(x[:, 0] > 0.9, np.nan, 0.0)


BOX3 = Box([-5.0] * 3, [5.0] * 3)
GAUSS3 = Gauss([0.5, -1.0, 0.0], [[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 0.25]])
# Mass outside the box: every mean is >= 4 sigma inside each face, so < 6 x 3.2e-5: ln(mass) > -2e-4,
# negligible next to the dynesty error (~0.1).
TRUE_LOGZ3 = -BOX3.log_volume()


def gaussian_problem() -> SamplingProblem:
    return SamplingProblem(("a", "b", "c"), BOX3.transform, BOX3.logpdf, GAUSS3)


def test_problem_is_picklable() -> None:
    problem = gaussian_problem()
    clone = pickle.loads(pickle.dumps(problem))
    x = np.array([[0.1, 0.2, 0.3]])
    assert clone.log_likelihood(x) == pytest.approx(problem.log_likelihood(x))


def test_dynesty_recovers_gaussian_evidence(tmp_path: Path) -> None:
    out = run_sampler("dynesty", gaussian_problem(), {"nlive": 200, "dlogz": 0.1, "refine": "none"}, tmp_path,
                      seed=3)
    assert out.logz_err is not None and 0.02 < out.logz_err < 0.5
    assert abs(out.logz - TRUE_LOGZ3) < 3 * out.logz_err, (out.logz, out.logz_err, TRUE_LOGZ3)
    assert len(out.logz_resampled) == 20 and np.std(out.logz_resampled) > 0
    assert out.weights.sum() == pytest.approx(1.0)
    mean = np.average(out.samples, axis=0, weights=out.weights)
    np.testing.assert_allclose(mean, GAUSS3.mean, atol=0.15)
    assert (tmp_path / "dynesty.save").exists()
    assert out.stop.kind is StopKind.CONVERGED and out.converged
    assert "dlogz" in out.stop.text and out.info["ncall"] > 0


def test_emcee_recovers_mean_and_covariance(tmp_path: Path) -> None:
    box = Box([-10.0, -10.0], [10.0, 10.0])
    gauss = Gauss([1.0, -2.0], [[1.0, 0.8], [0.8, 1.0]])
    problem = SamplingProblem(("x", "y"), box.transform, box.logpdf, gauss)
    # tau_factor 30 instead of the default 50 keeps the test short; the tolerances use the sample size.
    settings = {"nwalkers": 32, "max_steps": 4000, "check_every": 50, "tau_factor": 30}
    out = run_sampler("emcee", problem, settings, tmp_path, seed=5)
    assert out.converged and out.stop.text.startswith("converged"), out.stop.text
    assert out.logz_err is None and out.chains == 4 * 32  # 4 independent ensembles of 32 walkers
    n_eff = len(out.samples) / 2  # thinned by tau / 2
    # Tolerance: 4 standard errors of the mean (sigma = 1) for the effective sample size.
    np.testing.assert_allclose(out.samples.mean(axis=0), gauss.mean, atol=4 / np.sqrt(n_eff))
    # Standard error of a sample (co)variance of unit-variance normals is <= sqrt(2 / n): 4 of them.
    np.testing.assert_allclose(np.cov(out.samples.T), gauss.cov, atol=4 * np.sqrt(2 / n_eff))
    assert (tmp_path / "chain.h5").exists()


def test_emcee_reports_the_step_cap(tmp_path: Path) -> None:
    out = run_sampler("emcee", gaussian_problem(), {"max_steps": 150, "check_every": 50}, tmp_path, seed=1)
    assert out.stop.kind is StopKind.STEP_CAP and not out.converged
    assert "step cap" in out.stop.text and out.info["niter"] == 150


def test_emcee_buffered_writes_store_what_per_step_writes_store(tmp_path: Path) -> None:
    """Flushing after every step (the old per-step write) and once per check give the same file."""
    import emcee

    settings = {"max_steps": 300, "check_every": 100, "thin_by": 1}
    files = []
    for name, flush_every in (("per_step", 1e-12), ("buffered", 1e9)):
        run_sampler("emcee", gaussian_problem(), {**settings, "flush_every": flush_every}, tmp_path / name, seed=3)
        files.append(emcee.backends.HDFBackend(str(tmp_path / name / "chain.h5"), read_only=True))
    per_step, buffered = files
    assert per_step.iteration == buffered.iteration == 300
    np.testing.assert_array_equal(per_step.get_chain(), buffered.get_chain())
    np.testing.assert_array_equal(per_step.get_log_prob(), buffered.get_log_prob())
    np.testing.assert_array_equal(per_step.accepted, buffered.accepted)
    assert per_step.random_state[1].tolist() == buffered.random_state[1].tolist()


def test_emcee_check_schedule() -> None:
    from inference.samplers.emcee_backend import check_steps

    steps = check_steps(100, 20000)
    assert steps[:20] == list(range(100, 2001, 100))  # every check_every steps up to 20 of them
    gaps = np.diff(steps)
    assert np.all(gaps % 100 == 0) and np.all(gaps >= 100)
    assert np.all(gaps[20:] <= 0.05 * np.array(steps[20:-1]) + 100)  # then ~5 % of the chain
    assert len(steps) < 80  # a fixed spacing would check 200 times, each reading the whole chain
    assert check_steps(100, 20000) == steps and check_steps(100, 5000) == [c for c in steps if c <= 5000]


def test_scan_finds_allowed_volume_and_weights_it_uniformly(tmp_path: Path) -> None:
    balls = Balls()
    cube = Box([0.0] * 3, [1.0] * 3)
    problem = SamplingProblem(("p", "q", "r"), cube.transform, cube.logpdf, balls)
    out = run_sampler("scan", problem, {"n_eff": 3000, "batch_size": 4096}, tmp_path, seed=2)
    true = np.log(balls.volume())
    assert out.logz_err is not None
    assert abs(out.logz - true) < 3 * out.logz_err, (out.logz, out.logz_err, true)
    assert out.logz_err < 0.1
    # Adaptive proposal: far more efficient than the prior acceptance fraction (the volume, 0.27 %).
    assert out.info["efficiency"] > 10 * balls.volume()
    # Weighted fraction in each ball equals its share of the volume (binomial 4-sigma tolerance).
    share = np.sum(out.weights[balls.inside(out.samples)[:, 0]])
    expected = balls.radii[0] ** 3 / np.sum(balls.radii**3)
    assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / out.info["kish_ess"])
    assert (tmp_path / "scan.npz").exists()


def test_the_registry_names_each_adapter_once_and_the_run_file_reads_its_defaults() -> None:
    """One registry: its names are the run file's sampler names, each entry is a `Sampler` (statically: the
    adapter modules are assigned to the protocol below), and the run file's setting rules name only settings
    the adapter's DEFAULTS know (those DEFAULTS are the only place a default is written)."""
    from inference.config.sections import SETTING_CHECKS

    adapters: dict[str, Sampler] = {"dynesty": dynesty_backend, "emcee": emcee_backend, "scan": scan_backend}
    assert tuple(SAMPLERS) == SAMPLER_NAMES == tuple(adapters) == tuple(SETTING_CHECKS)
    for name, module in adapters.items():
        assert sampler(name) is module
        assert sampler_defaults(name) == module.DEFAULTS and sampler_defaults(name) is not module.DEFAULTS
        assert set(SETTING_CHECKS[name]) <= set(module.DEFAULTS), name
        assert module.RESUMABLE <= set(module.DEFAULTS) and "progress_every" in module.RESUMABLE, name
    assert dynesty_backend.DEFAULTS["dlogz"] == 0.1
    with pytest.raises(SamplerSettingsError, match="choose one of dynesty, emcee, scan"):
        sampler("multinest")


def test_stop_reasons_round_trip_and_old_records_still_read() -> None:
    """What write_results stores (stop_reason, stop_kind, converged) reads back to the same StopReason; a
    record of the same format version written before stop_kind existed is read from its sentence."""
    for kind in StopKind:
        stop = StopReason(kind, f"a sentence about {kind.value}")
        assert StopReason.from_record(stop.as_record()) == stop
        assert stop.as_record()["converged"] is (kind in (StopKind.CONVERGED, StopKind.REWEIGHTED))
    old = {
        "remaining evidence estimate below dlogz = 0.1": StopKind.CONVERGED,
        "stopped at the maxiter/maxcall cap: the evidence is NOT converged": StopKind.ITERATION_CAP,
        "stopped at the step cap max_steps = 150: NOT converged (R-hat); tau": StopKind.STEP_CAP,
        "stopped at the time cap max_time = 1 s: NOT converged (R-hat); tau": StopKind.TIME_CAP,
        "stopped at max_calls = 5000 with effective sample size 3 < n_eff = 400 (NOT enough points)": StopKind.CALL_CAP,
        "effective sample size 2100 >= n_eff = 2000": StopKind.CONVERGED,
        "importance reweighting of results/a": StopKind.REWEIGHTED,
    }
    for text, kind in old.items():
        stop = StopReason.from_record({"stop_reason": text})
        assert stop is not None and stop.kind is kind and stop.text == text, text
    assert StopReason.from_record({"stop_reason": "converged: ...", "converged": False}).converged is False
    assert StopReason.from_record({}) is None


def test_unknown_setting_gets_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(SamplerSettingsError, match=r"(?i)did you mean 'nlive'"):
        run_sampler("dynesty", gaussian_problem(), {"nlives": 100}, tmp_path, seed=0)
    with pytest.raises(SamplerSettingsError, match="unknown sampler"):
        run_sampler("multinest", gaussian_problem(), {}, tmp_path, seed=0)


def test_nan_likelihood_is_an_error_naming_the_point(tmp_path: Path) -> None:
    cube = Box([0.0, 0.0], [1.0, 1.0])
    problem = SamplingProblem(("alpha", "beta"), cube.transform, cube.logpdf, NaNAt())
    with pytest.raises(NonFiniteLikelihoodError, match=r"alpha=0\.9\d*"):
        run_sampler("scan", problem, {}, tmp_path, seed=0)


def test_estimate_cost_line() -> None:
    line = estimate_cost(gaussian_problem(), {"nlive": 100}, "dynesty")
    assert "nested sampling ~" in line and "calls" in line and "total ~" in line
    assert "importance refinement" in estimate_cost(gaussian_problem(), {"nlive": 100, "refine": "importance"})


def test_cost_estimate_arithmetic_with_stand_in_timings() -> None:
    """The estimate is calls x measured seconds per call, phase by phase (timings given, not measured)."""
    problem = gaussian_problem()  # 3 parameters
    t = CostTimings(point=2e-6, batch=1e-6, dynesty_own=30e-6, mixture=4e-6, step=1e-3, scan_call=3e-6)
    est = cost_estimate(problem, {"nlive": 500, "refine": "importance"}, "dynesty", 0, t)
    nested, refine = est.phases
    assert nested.calls == 500 * (4 + 3) * 25 and nested.seconds_each == pytest.approx(32e-6)
    assert refine.calls == 5 * 100_000 + 2 * 200_000 and refine.seconds_each == pytest.approx(5e-6)
    assert est.seconds == pytest.approx(87_500 * 32e-6 + 900_000 * 5e-6)
    assert "total ~7 s" in est.text()
    two = cost_estimate(problem, {"nlive": 500, "nruns": 2, "sample": "rslice", "maxcall": 10_000}, "dynesty", 0, t)
    assert [p.calls for p in two.phases] == [20_000]  # maxcall per run x nruns; no refinement asked for
    rslice = cost_estimate(problem, {"nlive": 100, "sample": "rslice"}, "dynesty", 0, t)
    assert rslice.phases[0].calls == 100 * (4 + 3) * 5 * (3 + 3)  # ~5 calls per slice, 3 + d slices
    mc = cost_estimate(problem, {"max_steps": 5000}, "emcee", 0, t)
    assert mc.bound == "upper bound" and mc.seconds == pytest.approx(5.0) and "1 s per 1000 steps" in mc.text()
    scan = cost_estimate(problem, {"n_eff": 1000, "max_calls": 50_000}, "scan", 0, t)
    assert scan.phases[-1].seconds_each == 3e-6 and scan.phases[-1].calls <= 50_000


# ln L_max of GAUSS3: the normal density at its mean, -(d/2) ln(2 pi) - (1/2) ln det(cov)
GAUSS3_LOGL_MAX = float(-1.5 * np.log(2 * np.pi) - 0.5 * np.log(np.linalg.det(GAUSS3.cov)))


def test_nested_pilot_recovers_the_analytic_evidence_and_peak() -> None:
    """ln Z from 1e5 plain prior draws (the Gaussian holds ~0.7 % of the box: ~700 draws carry it, so its
    error is ~0.04; 0.25 is 6 of those) and ln L_max from the polished best draw (1e-3: Nelder-Mead's fatol)."""
    pilot = nested_pilot(gaussian_problem(), seed=0, draws=100_000, budget=60.0)
    assert pilot is not None and pilot.draws == 100_000
    assert pilot.logz == pytest.approx(TRUE_LOGZ3, abs=0.25)
    assert pilot.logl_max == pytest.approx(GAUSS3_LOGL_MAX, abs=1e-3)
    assert nested_pilot(SamplingProblem(("a", "b", "c"), BOX3.transform, BOX3.logpdf, lambda x: np.full(
        len(x), -np.inf)), draws=1000) is None


def test_nested_iterations_match_a_dynesty_run(tmp_path: Path) -> None:
    """The rule i ~ nlive (ln L_max - ln Z - ln(e^dlogz - 1)) against the iterations dynesty takes on the
    analytic Gaussian: the run's length scatters by ~sqrt(nlive H) ~ 35 iterations and its stop by the scatter
    of its own ln Z (~0.2 nlive); 15 % is ~3 times both together."""
    exact = NestedPilot(logz=TRUE_LOGZ3, logl_max=GAUSS3_LOGL_MAX, draws=0)
    predicted = nested_iterations(exact, nlive=200, dlogz=0.5)
    assert predicted == pytest.approx(200 * (GAUSS3_LOGL_MAX - TRUE_LOGZ3 - np.log(np.expm1(0.5))))
    out = run_sampler("dynesty", gaussian_problem(), {"nlive": 200, "dlogz": 0.5, "n_resample": 0}, tmp_path, seed=3)
    assert int(out.info["niter"]) == pytest.approx(predicted, rel=0.15)
    with_pilot = cost_estimate(gaussian_problem(), {"nlive": 200, "dlogz": 0.5}, "dynesty", 0,
                               CostTimings(point=1e-6, batch=1e-6, pilot=exact))
    assert with_pilot.phases[0].calls == int(200 + predicted * 25)


def test_measured_timings_are_positive_and_small() -> None:
    problem = gaussian_problem()
    for name, settings in (("dynesty", {"refine": "importance"}), ("scan", {}), ("emcee", {"thin_by": 10})):
        t = measure_timings(problem, settings, name, 0)
        assert 0 < t.point < 1e-2 and 0 < t.batch < 1e-2
        assert {"dynesty": t.dynesty_own, "scan": t.scan_call, "emcee": t.step}[name] > 0


def test_process_pool_gives_the_same_numbers(tmp_path: Path) -> None:
    problem = gaussian_problem()
    x = BOX3.transform(np.random.default_rng(0).random((50, 3)))
    with make_pool("processes", 2) as pool:
        assert pool.size == 2
        np.testing.assert_array_equal(map_chunked(pool, problem.log_likelihood, x), problem.log_likelihood(x))
        pooled = run_sampler("scan", problem, {"n_eff": 500}, tmp_path / "pooled", seed=4, pool=pool)
    serial = run_sampler("scan", problem, {"n_eff": 500}, tmp_path / "serial", seed=4)
    np.testing.assert_array_equal(pooled.samples, serial.samples)
    assert pooled.logz == serial.logz
