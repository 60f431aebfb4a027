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


def test_posterior_extras_are_a_typed_record_named_by_term_and_observable() -> None:
    """RunModel.blobs gives one log L array per term (and the domain; they sum to the total), one prediction per
    posterior-predictive observable; compute_blobs joins batches of them row by row."""
    from inference.samplers import compute_blobs
    from inference.samplers.problem import SampleExtras

    model = RunModel(load_run_config(RUNS / "kappa_zero.yaml"))
    x = model.prior_transform(np.random.default_rng(3).random((9, len(model.names))))
    extras = model.blobs(x)
    assert isinstance(extras, SampleExtras) and len(extras) == 9
    assert set(model.likelihood.term_names) <= set(extras.term_logl) and extras.predictions  # + "physics domain"
    total = np.sum([v for v in extras.term_logl.values()], axis=0)
    np.testing.assert_allclose(total, model.reference_log_likelihood(x), rtol=1e-9, atol=1e-9)
    batched = compute_blobs(model.problem(), x, batch=4)
    assert set(batched.term_logl) == set(extras.term_logl) and set(batched.predictions) == set(extras.predictions)
    for key, values in extras.predictions.items():
        np.testing.assert_array_equal(batched.predictions[key], values)
