"""The emcee convergence gate: when a chain of several independent ensembles may stop, and why it stopped.

Criteria (all must hold, every parameter):

- the chain is longer than `tau_factor` (default 50) integrated autocorrelation times, tau estimated per
  ensemble (emcee's estimator, Goodman & Weare 2010 / Sokal 1997, walkers of the ensemble averaged) and the
  largest over ensembles taken;
- the rank-normalised split R-hat (Vehtari et al. 2021, Bayesian Anal. 16, 667; `mcmc_stats`, equal to ArviZ's)
  between the ensembles is <= `rhat_max` (default 1.01); each ensemble is one chain, its draws the
  positions of its walkers step after step, after the burn-in;
- the bulk effective sample size (same reference; walkers as chains) is >= `ess_min` (default 1000);
- optionally (`tau_rtol`), the tau estimate changed by less than that fraction since the previous check.

Burn-in: 2 tau (the largest) from the start. Every number is computed from the stored chain, thinned by
`thin_by` steps; tau in stored steps times `thin_by` is tau in steps (an overestimate by up to one
`thin_by` when tau is shorter than the thinning, which only makes the gate stricter).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import emcee
import numpy as np

from inference.samplers import StopKind, StopReason
from inference.samplers.mcmc_stats import bulk_ess, split_rhat


@dataclass(frozen=True)
class GateCriteria:
    tau_factor: float = 50.0
    rhat_max: float = 1.01
    ess_min: float = 1000.0
    tau_rtol: float | None = None


@dataclass(frozen=True)
class Diagnostics:
    """The gate's numbers at one check; arrays are per parameter, in the order of `names`."""

    names: tuple[str, ...]
    steps: int
    tau: np.ndarray  # largest over ensembles, in steps
    rhat: np.ndarray  # between ensembles
    ess_bulk: np.ndarray
    burn_in: int  # steps
    ensembles: int

    def failures(self, criteria: GateCriteria, previous_tau: np.ndarray | None = None) -> list[str]:
        """Why the chain may not stop yet (empty: converged)."""
        out = []
        worst = int(np.nanargmax(self.tau)) if np.any(np.isfinite(self.tau)) else 0
        if not np.all(np.isfinite(self.tau)) or not self.steps > criteria.tau_factor * np.max(self.tau):
            out.append(f"{self.steps} steps < {criteria.tau_factor:g} x tau {np.max(self.tau):.1f} "
                       f"({self.names[worst]})")
        if not np.all(np.isfinite(self.rhat)) or np.max(self.rhat) > criteria.rhat_max:
            j = int(np.nanargmax(self.rhat)) if np.any(np.isfinite(self.rhat)) else 0
            out.append(f"R-hat {self.rhat[j]:.3f} > {criteria.rhat_max:g} ({self.names[j]})")
        if not np.all(np.isfinite(self.ess_bulk)) or np.min(self.ess_bulk) < criteria.ess_min:
            j = int(np.nanargmin(self.ess_bulk)) if np.any(np.isfinite(self.ess_bulk)) else 0
            out.append(f"bulk ESS {self.ess_bulk[j]:.0f} < {criteria.ess_min:g} ({self.names[j]})")
        if criteria.tau_rtol is not None:
            if previous_tau is None:
                out.append("tau not yet compared with a previous check")
            elif not np.all(np.abs(previous_tau - self.tau) < criteria.tau_rtol * self.tau):
                out.append(f"tau changed by more than {criteria.tau_rtol:g} since the previous check")
        return out

    def summary(self) -> str:
        """One line: the worst value of each criterion."""
        return (f"{self.steps} steps, max tau {np.max(self.tau):.1f} ({self.steps / np.max(self.tau):.1f} tau), "
                f"max R-hat {np.max(self.rhat):.4f} over {self.ensembles} ensembles, min bulk ESS "
                f"{np.min(self.ess_bulk):.0f}")

    def as_info(self) -> dict[str, object]:
        return {"autocorr_time": [float(t) for t in self.tau], "r_hat": [float(r) for r in self.rhat],
                "ess_bulk": [float(e) for e in self.ess_bulk], "burn_in": int(self.burn_in),
                "ensembles": int(self.ensembles), "gate_steps": int(self.steps)}


def ensemble_tau(chain: np.ndarray, ensembles: int, thin_by: int) -> np.ndarray:
    """Integrated autocorrelation time per parameter in steps, the largest over the ensembles.
    chain: (stored steps, walkers, d), walkers in consecutive equal blocks per ensemble."""
    per = chain.shape[1] // ensembles
    taus = [emcee.autocorr.integrated_time(chain[:, g * per:(g + 1) * per], tol=0) for g in range(ensembles)]
    return np.max(np.array(taus), axis=0) * thin_by


def diagnose(chain: np.ndarray, names: Sequence[str], ensembles: int, thin_by: int) -> Diagnostics:
    """The gate's numbers for a stored chain (stored steps, walkers, d)."""
    stored, nwalkers, d = chain.shape
    steps = stored * thin_by
    nan = np.full(d, np.nan)
    if stored < 8:
        return Diagnostics(tuple(names), steps, np.full(d, np.inf), nan, nan, steps, ensembles)
    tau = ensemble_tau(chain, ensembles, thin_by)
    burn = int(np.ceil(2 * np.max(tau))) if np.all(np.isfinite(tau)) else steps // 2
    start = min(int(np.ceil(burn / thin_by)), stored - 4)
    post = chain[start:]
    per = nwalkers // ensembles
    rhat, ess = np.empty(d), np.empty(d)
    for j in range(d):
        by_ensemble = post[:, :, j].reshape(len(post), ensembles, per).transpose(1, 0, 2).reshape(ensembles, -1)
        rhat[j] = split_rhat(by_ensemble)
        ess[j] = bulk_ess(post[:, :, j].T)
    return Diagnostics(tuple(names), steps, tau, rhat, ess, start * thin_by, ensembles)


def stop_reason(kind: StopKind, diag: Diagnostics, failures: list[str], criteria: GateCriteria,
                cap: float | None = None) -> StopReason:
    """Why a run stopped, with its one-line sentence: ``kind`` is CONVERGED, STEP_CAP or TIME_CAP."""
    if kind is StopKind.CONVERGED:
        return StopReason(kind, f"converged: {diag.summary()}; every parameter > {criteria.tau_factor:g} tau, R-hat <= "
                f"{criteria.rhat_max:g}, bulk ESS >= {criteria.ess_min:g}")
    limit = f"max_steps = {cap:.0f}" if kind is StopKind.STEP_CAP else f"max_time = {cap:g} s"
    return StopReason(kind, f"stopped at the {kind.value} {limit}: NOT converged ({'; '.join(failures)}); "
                      f"{diag.summary()}")
