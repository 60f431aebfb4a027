"""The scan sampler on an analytic cuts-mode target whose allowed region is ~1e-6 of the box (issue 18).

Target: in the 6-dimensional unit cube, the union of a ball and a rotated, elongated ellipsoid (two disjoint
islands; the ellipsoid is thin along a diagonal, like the eta_c ~ -27 eta_t band of the paper's cuts). Its
volume is known in closed form, V = V_6 (r^6 + a1 ... a6) with V_6 = pi^3 / 6 the unit 6-ball's volume, so
the exact ln Z = ln V is the reference; plain prior draws would need ~1e9 calls for the same precision
(benchmarks/scan_small_region.py runs that brute force beside the scan). The pilot likelihood is the cuts'
softened form: -1/2 (distance outside the nearest island / 0.05)^2, 0 inside.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inference.samplers import StopKind, run_sampler, scan_backend
from inference.samplers.problem import SamplingProblem

D = 6
UNIT_BALL_6 = np.pi**3 / 6


def _rotation(d: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return q * np.sign(np.diag(r))


class TwoIslands:
    """Indicator of a ball (centre c1, radius r) and an ellipsoid (centre c2, semi-axes a, rotation R)."""

    c1 = np.full(D, 0.3)
    r = 0.065
    c2 = np.array([0.7, 0.65, 0.7, 0.6, 0.72, 0.68])
    a = np.array([0.25, 0.06, 0.05, 0.04, 0.04, 0.03])
    rot = _rotation(D, 3)
    soft = 0.05

    def volumes(self) -> tuple[float, float]:
        return UNIT_BALL_6 * self.r**D, UNIT_BALL_6 * float(np.prod(self.a))

    def distances(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scaled radius of each island at x (< 1 inside): |x - c1| / r and |R^T (x - c2) / a|."""
        return (np.linalg.norm(x - self.c1, axis=1) / self.r,
                np.linalg.norm(((x - self.c2) @ self.rot) / self.a, axis=1))

    def in_island(self, x: np.ndarray) -> np.ndarray:
        """(n,) 0 in the ball, 1 in the ellipsoid, -1 outside both."""
        b, e = self.distances(x)
        return np.where(b < 1, 0, np.where(e < 1, 1, -1))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.where(self.in_island(x) >= 0, 0.0, -np.inf)

    def pilot(self, x: np.ndarray) -> np.ndarray:
        b, e = self.distances(x)
        outside = np.minimum(np.maximum(b - 1, 0) * self.r, np.maximum(e - 1, 0) * float(self.a.min()))
        return -0.5 * (outside / self.soft) ** 2


class Cube:
    def transform(self, u: np.ndarray) -> np.ndarray:
        return np.asarray(u, dtype=float)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        return np.where(np.all((x >= 0) & (x <= 1), axis=1), 0.0, -np.inf)


class Pilot:
    def __init__(self, target: TwoIslands) -> None:
        self.target = target

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.target.pilot(x)


def problem(with_pilot: bool = True) -> SamplingProblem:
    islands, cube = TwoIslands(), Cube()
    names = tuple(f"x{i}" for i in range(D))
    return SamplingProblem(names, cube.transform, cube.logpdf, islands,
                           pilot_log_likelihood=Pilot(islands) if with_pilot else None)


def test_target_is_as_small_as_claimed() -> None:
    v_ball, v_ell = TwoIslands().volumes()
    assert 5e-7 < v_ball + v_ell < 2e-6
    # the islands lie inside the cube and apart (else the closed-form volume would be wrong)
    t = TwoIslands()
    assert np.all(t.c1 - t.r > 0) and np.all(t.c1 + t.r < 1)
    assert np.all(np.abs(t.rot * t.a).sum(axis=1) < np.minimum(t.c2, 1 - t.c2))
    assert np.linalg.norm(t.c1 - t.c2) > t.r + t.a.max()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_volume_fraction_is_unbiased_and_islands_weighted_by_volume(tmp_path: Path, seed: int) -> None:
    target = TwoIslands()
    v_ball, v_ell = target.volumes()
    out = run_sampler("scan", problem(), {"n_eff": 2000, "batch_size": 4096}, tmp_path, seed=seed)
    assert out.logz_err is not None and out.logz_err < 0.05
    # 4 quoted errors: three seeds, each a two-sided check; the exact value is known in closed form
    assert abs(out.logz - np.log(v_ball + v_ell)) < 4 * out.logz_err, (out.logz, out.logz_err)
    assert out.info["kish_ess"] >= 2000 and out.info["ncall"] < 3_000_000
    # each island gets its share of the volume (binomial 4-sigma tolerance with the Kish ESS)
    share = float(np.sum(out.weights[target.in_island(out.samples) == 1]))
    expected = v_ell / (v_ball + v_ell)
    assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / out.info["kish_ess"]), share
    assert np.all(target.in_island(out.samples) >= 0)


def test_without_a_pilot_the_call_cap_says_what_to_change(tmp_path: Path) -> None:
    settings = {"n_eff": 2000, "pilot_particles": 0, "max_calls": 200_000}
    with pytest.raises(RuntimeError, match="no allowed point"):
        run_sampler("scan", problem(), settings, tmp_path / "nopilot", seed=0)
    capped = {"n_eff": 400, "max_calls": 5000, "batch_size": 1000, "pilot_particles": 0, "alpha": 1.0}
    out = run_sampler("scan", _gaussian_problem(), capped, tmp_path / "cap", seed=0)
    assert out.stop.kind is StopKind.CALL_CAP and not out.converged
    reason = out.stop.text
    assert "max_calls = 5000" in reason and "NOT enough points" in reason and "raise max_calls" in reason
    assert "\n" not in reason


def test_reservoir_caps_what_is_stored_and_keeps_the_estimate(tmp_path: Path) -> None:
    """Gaussian-mode-like use: a likelihood finite everywhere, so every draw is accepted."""
    settings = {"n_eff": 300, "max_points": 1000, "batch_size": 500, "checkpoint_every": 0.0, "pilot_particles": 0}
    out = run_sampler("scan", _gaussian_problem(), settings, tmp_path, seed=5)
    assert out.info["n_accepted"] >= 1500 and out.info["n_stored"] == 1000
    assert len(out.samples) == len(out.weights) == 1000
    with np.load(tmp_path / scan_backend.CHECKPOINT) as saved:
        assert len(saved["u"]) == 1000 and len(saved["logl"]) == 1000
    # normalised 2-d Gaussian (sd 0.05) well inside the unit square: Z = 1
    assert abs(out.logz) < 4 * (out.logz_err or 0.0) + 1e-9, (out.logz, out.logz_err)
    mean = np.sum(out.weights[:, None] * out.samples, axis=0)
    assert np.all(np.abs(mean - 0.4) < 4 * 0.05 / np.sqrt(out.info["kish_ess"]))


class _Normal2:
    def __call__(self, x: np.ndarray) -> np.ndarray:
        z = (x - 0.4) / 0.05
        return -0.5 * np.sum(z * z, axis=1) - np.log(2 * np.pi * 0.05**2)


def _gaussian_problem() -> SamplingProblem:
    cube = Cube()
    return SamplingProblem(("a", "b"), cube.transform, cube.logpdf, _Normal2())


def test_reservoir_keeps_each_accepted_point_with_equal_probability() -> None:
    """Algorithm R: after 10 batches of 50 points into a reservoir of 100, each point's inclusion frequency over
    many repetitions is 100 / 500 (4-sigma binomial band)."""
    counts = np.zeros(500)
    reps = 400
    for rep in range(reps):
        rng = np.random.default_rng(rep)
        state = {"u": np.empty((0, 1)), "logl": np.empty(0), "logq": np.empty((0, 1)), "n_seen": 0}
        for b in range(10):
            ids = np.arange(50 * b, 50 * (b + 1), dtype=float)
            scan_backend._reservoir_add(state, ids[:, None], ids, ids[:, None], 100, rng)
        assert len(state["logl"]) == 100 and len(np.unique(state["logl"])) == 100
        counts[state["logl"].astype(int)] += 1
    p = 100 / 500
    assert np.all(np.abs(counts / reps - p) < 4 * np.sqrt(p * (1 - p) / reps) + 1e-12)
