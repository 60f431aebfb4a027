"""`--pool processes`: the pipe pool keeps order, raises workers' errors, survives them, and reports a dead
worker; dynesty's walks come back without their evaluation history."""

from __future__ import annotations

import os
import signal
from collections import namedtuple

import numpy as np
import pytest

from inference.samplers.dynesty_backend import _WithoutHistory
from inference.samplers.pool import PipePool, PoolError


def square_with_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError(f"no threes please (got {x})")
    return x


def kill_self(x: int) -> int:
    if x == 5:
        os.kill(os.getpid(), signal.SIGKILL)
    return x


@pytest.mark.parametrize("size", [1, 2, 3])
def test_map_keeps_order_and_uses_every_process(size: int) -> None:
    pool = PipePool(size)
    try:
        for n in (0, 1, 2, 7, 20):
            out = pool.map(square_with_pid, range(n))
            assert [v for v, _ in out] == [i * i for i in range(n)]
        pids = {pid for _, pid in pool.map(square_with_pid, range(3 * size))}
        assert len(pids) == size and os.getpid() in pids  # the caller computes its share
    finally:
        pool.close()


def test_worker_exception_is_raised_and_the_pool_stays_usable() -> None:
    pool = PipePool(2)
    try:
        with pytest.raises(ValueError, match="no threes please"):
            pool.map(fail_on_three, [0, 1, 2, 3])  # 3 is in the worker's chunk
        with pytest.raises(ValueError, match="no threes please"):
            pool.map(fail_on_three, [3, 0, 1, 2])  # 3 is in the caller's chunk: the worker's answer is still read
        assert pool.map(fail_on_three, [0, 1, 2, 4]) == [0, 1, 2, 4]
    finally:
        pool.close()


def test_dead_worker_is_a_pool_error() -> None:
    pool = PipePool(2)
    try:
        with pytest.raises(PoolError, match="died"):
            pool.map(kill_self, [0, 1, 4, 5])
    finally:
        pool.close()


def test_pool_size_is_checked() -> None:
    with pytest.raises(PoolError, match="at least 1"):
        PipePool(0)


Walk = namedtuple("Walk", ["u", "evaluation_history", "ncalls"])


def a_walk(x: float) -> Walk:
    return Walk(np.array([x]), [(x, x)] * 25, 25)


def test_walk_results_come_back_without_history() -> None:
    out = _WithoutHistory(a_walk)(0.5)
    assert out.evaluation_history == [] and out.ncalls == 25 and out.u[0] == 0.5
    assert _WithoutHistory(square_with_pid)(3)[0] == 9  # other results pass unchanged


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_nprocs_must_be_a_positive_count(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    from inference.cli.run import main

    with pytest.raises(SystemExit) as exc:
        main(["runs/quick.yaml", "--pool", "processes", "--nprocs", value])
    assert exc.value.code == 2
    assert f"--nprocs: expected a whole number of processes >= 1, got '{value}'" in capsys.readouterr().err


class SlowLogL:
    """A log-likelihood that costs ~0.2 ms per call (more than dynesty's own work per call)."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        import time

        time.sleep(2e-4)
        return -0.5 * np.sum(x**2, axis=1)


class QuickLogL:
    def __call__(self, x: np.ndarray) -> np.ndarray:
        return -0.5 * np.sum(x**2, axis=1)


class UnitBox:
    def transform(self, u: np.ndarray) -> np.ndarray:
        return u

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        return np.zeros(len(x))


def test_pool_advice_only_for_cheap_dynesty_likelihoods(monkeypatch: pytest.MonkeyPatch) -> None:
    """The advice follows the measured cost per call: the decision is tested with the measurement replaced
    (a timing threshold would fail on a loaded machine), the measurement by its order (a sleeping likelihood
    costs more than an arithmetic one, whatever the load)."""
    import inference.samplers.cost as samplers
    from inference.samplers.cost import DYNESTY_OWN_SECONDS_PER_CALL, point_seconds_per_call, pool_advice
    from inference.samplers.problem import SamplingProblem

    box = UnitBox()
    cheap = SamplingProblem(("a", "b"), box.transform, box.logpdf, QuickLogL())
    slow = SamplingProblem(("a", "b"), box.transform, box.logpdf, SlowLogL())
    x = np.random.default_rng(0).random((33, 2))
    assert point_seconds_per_call(slow, x) >= 2e-4 > point_seconds_per_call(cheap, x)  # SlowLogL sleeps 0.2 ms
    monkeypatch.setattr(samplers, "point_seconds_per_call", lambda problem, x: 0.1 * DYNESTY_OWN_SECONDS_PER_CALL)
    advice = pool_advice(cheap, "dynesty")
    assert advice is not None and "cannot speed" in advice and "us per call" in advice and "nruns" in advice
    assert "--pool mpi" in (pool_advice(cheap, "dynesty", kind="mpi") or "")
    assert pool_advice(cheap, "dynesty", settings={"nruns": 2}) is None  # each worker runs a whole nested run
    assert pool_advice(cheap, "emcee") is None  # emcee sends whole batches: chunks are worth a pool
    monkeypatch.setattr(samplers, "point_seconds_per_call", lambda problem, x: 10 * DYNESTY_OWN_SECONDS_PER_CALL)
    assert pool_advice(slow, "dynesty") is None
