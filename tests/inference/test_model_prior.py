"""RunModel.log_prior's box fast path (all priors uniform) equals the prior set's own log density."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inference.config.runfile import load_run_config
from inference.samplers.model import RunModel

RUNS = Path(__file__).resolve().parents[2] / "runs"


def test_uniform_box_log_prior_equals_the_prior_set() -> None:
    model = RunModel(load_run_config(RUNS / "emcee_kappa_nonzero.yaml"))
    assert model._columns.uniform is not None  # the fast path is the one under test
    rng = np.random.default_rng(1)
    x = model.prior_transform(rng.random((2000, model._columns.ndim)))
    x[::3] += rng.normal(size=x[::3].shape) * x.std(axis=0)  # a third pushed about, many outside the box
    x[5] = model._columns.uniform[:, 2]  # the upper corner itself is inside
    expected = model.config.priors.logpdf(x)
    got = model.log_prior(x)
    assert np.isfinite(expected).sum() > 1000 and np.isinf(expected).sum() > 100
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(expected))
    np.testing.assert_allclose(got[np.isfinite(got)], expected[np.isfinite(expected)], rtol=1e-14)
