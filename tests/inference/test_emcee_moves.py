"""The emcee moves of the adapter: the DE snooker update samples its target, and the ensembles of one sampler
never exchange information (what makes R-hat between them meaningful)."""

from __future__ import annotations

import emcee
import numpy as np
import pytest

from inference.samplers import SamplerSettingsError
from inference.samplers.emcee_backend import resolve_settings
from inference.samplers.emcee_moves import (
    DEFAULT_MOVES,
    GroupedMove,
    SnookerProposal,
    _Proposal,
    make_proposal,
    parse_moves,
)

SCALE = np.array([1.0, 10.0, 0.1])  # unequal scales: emcee 3.1.6's DESnookerMove is not scale-free


def gauss(x: np.ndarray) -> np.ndarray:
    return -0.5 * np.sum((x / SCALE) ** 2, axis=1)


def test_snooker_samples_an_anisotropic_gaussian() -> None:
    """Measured for the record (64 walkers, 3e4 steps): emcee 3.1.6's DESnookerMove gives sd(x) / sigma =
    0.975 +- 0.005 and P(|x| < sigma) = 0.697 (exact 0.683); this one 0.997 +- 0.003 and 0.685."""
    sampler = emcee.EnsembleSampler(64, 3, gauss, vectorize=True, moves=GroupedMove(SnookerProposal(), 4))
    sampler.random_state = np.random.RandomState(5).get_state()
    start = np.random.default_rng(1).normal(size=(64, 3)) * SCALE
    sampler.run_mcmc(start, 2500)
    chain = sampler.get_chain(discard=300)
    tau = emcee.autocorr.integrated_time(chain, tol=0)
    flat = chain.reshape(-1, 3)
    n_eff = len(flat) / np.max(tau)
    # sd of a normal sample: relative standard error 1 / sqrt(2 n_eff); 4 of them
    np.testing.assert_allclose(flat.std(axis=0) / SCALE, 1.0, atol=4 / np.sqrt(2 * n_eff))
    inside = np.mean(np.abs(flat / SCALE) < 1.0, axis=0)
    np.testing.assert_allclose(inside, 0.6827, atol=4 * np.sqrt(0.6827 * 0.3173 / n_eff))
    assert np.all(tau < 60)  # emcee's version: ~100 on this target


def test_snooker_does_not_move_a_walker_sitting_on_its_projection_point() -> None:
    s = np.zeros((1, 2, 3))
    c = [np.zeros((1, 2, 3)), np.ones((1, 2, 3)), 2 * np.ones((1, 2, 3))]
    q, factor = SnookerProposal()(s, c, np.random.RandomState(0))
    assert np.all(np.isfinite(q))
    assert np.all(np.isneginf(factor[np.all(q == 0.0, axis=2)]))


@pytest.mark.parametrize("move", ["de", "de_snooker", "stretch", "walk"])
def test_ensembles_never_mix(move: str) -> None:
    """Every walker's first coordinate is its ensemble's number: each proposal must be built from walkers of
    one ensemble only (the walker and its complementary walkers), and each walker moved exactly once per
    step."""
    seen: list[int] = []

    class Recorder(_Proposal):
        def __init__(self, inner: _Proposal) -> None:
            self.inner, self.nsplits = inner, inner.nsplits

        def __call__(self, s: np.ndarray, c: list[np.ndarray], random: object) -> tuple[np.ndarray, np.ndarray]:
            for e in range(len(s)):
                assert np.all(s[e, :, 0] == e) and all(np.all(part[e, :, 0] == e) for part in c)
            seen.append(s.shape[0] * s.shape[1])
            _, factor = self.inner(s, c, random)
            return s.copy(), np.full(factor.shape, -np.inf)  # no walker moves: the labels stay

    spec = parse_moves({move: 1.0}, lambda *a: pytest.fail(str(a)))[0]
    proposal = Recorder(make_proposal(spec))
    sampler = emcee.EnsembleSampler(64, 2, lambda x: np.zeros(len(x)), vectorize=True,
                                    moves=GroupedMove(proposal, 4))
    start = np.column_stack([np.repeat(np.arange(4.0), 16), np.random.default_rng(2).normal(size=64)])
    sampler.run_mcmc(start, 5)
    assert sum(seen) == 5 * 64 and len(seen) == 5 * proposal.nsplits


def test_settings_are_checked_and_the_moves_normalised() -> None:
    cfg, opts = resolve_settings({}, 8)
    assert [m.name for m in cfg.moves] == list(DEFAULT_MOVES) and cfg.ensembles == 4 and cfg.nwalkers == 32
    assert opts["moves"]["de"] == {"weight": 0.8, "sigma": 1e-5, "gamma0": None}
    with pytest.raises(SamplerSettingsError, match=r"moves\.DEMove: unknown emcee move 'DEMove'\. Did you mean 'de'"):
        resolve_settings({"moves": {"DEMove": 1.0}}, 8)
    with pytest.raises(SamplerSettingsError, match="ensembles >= 4"):
        resolve_settings({"ensembles": 2}, 8)
    with pytest.raises(SamplerSettingsError, match="not a multiple of thin_by"):
        resolve_settings({"thin_by": 7, "check_every": 100}, 8)
    assert resolve_settings({"nwalkers": 18}, 8)[0].nwalkers == 20  # a multiple of 4 (the snooker's splits)
