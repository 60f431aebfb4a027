"""Importance reweighting of a finished run for a changed prior or likelihood (cobaya's ``post``, bilby's
``reweight``), without sampling again.

A run's weighted samples w_i (nested sampling: w_i = L_i dX_i / Z) target p = L pi / Z. For a new prior pi'
and likelihood L' the ratio rho_i = L'_i pi'_i / (L_i pi_i) gives

    Z' = Z r,  r = sum_i w_i rho_i,   w'_i = w_i rho_i / r.

Valid only where the new target's support lies inside the old one's: a wider prior, or a likelihood that is
finite where the old one was -inf (a dropped hard bound), leaves regions without samples and is refused.
The new weights' Kish effective sample size says how much of the run still counts; below a threshold the
reweighting is refused with the number.

Error of ln Z': two parts in quadrature. The importance-sampling error of r (delta method for a
self-normalised estimate), sigma_IS^2 = sum_i w_i^2 (rho_i - r)^2 / r^2; and the nested-sampling error of the
run, which goes as sqrt(H / n_live) with H the information of the posterior relative to the prior of the
run's volume variable X, so it is rescaled by sqrt(H' / H), H' the information of the reweighted posterior
relative to the same (old) prior.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from inference.errors import DarkportalError

FloatArray = np.ndarray

#: reweightings with a Kish effective sample size below this are refused (override with --min-ess)
DEFAULT_MIN_ESS = 300.0


class NotReweightableError(DarkportalError, ValueError):
    """The change cannot be reached by reweighting this run.

    Attributes: ``reason`` (why, in words), ``fix`` (what to do instead, "" when the reason says it) and
    ``bound_released`` (the new run may drop or change a hard bound of the run's likelihood: the samples miss
    the region it released, which ``inference.analysis.sensitivity`` can add by Monte Carlo over the prior).
    """

    def __init__(self, reason: str, *, fix: str = "rerun instead", bound_released: bool = False) -> None:
        self.reason = reason
        self.fix = fix
        self.bound_released = bound_released
        super().__init__(f"{reason}; {fix}" if fix else reason)


class LowESSError(NotReweightableError):
    """The reweighted samples' effective sample size is below the threshold."""

    def __init__(self, reason: str, ess: float, threshold: float, *, fix: str = "") -> None:
        super().__init__(reason, fix=fix)
        self.ess = ess
        self.threshold = threshold


@dataclass(frozen=True)
class Reweighting:
    """New weights (normalised), new log L, the evidence before and after, and the effective sample sizes."""

    weights: FloatArray
    logl: FloatArray
    logz: float
    logz_err: float
    logz_old: float
    logz_err_old: float
    ln_ratio: float
    ln_ratio_err: float
    ess: float
    ess_old: float
    n_samples: int

    @property
    def ess_fraction(self) -> float:
        return self.ess / self.ess_old if self.ess_old > 0 else float("nan")

    def summary(self) -> dict[str, float | int]:
        return {"logz": self.logz, "logz_err": self.logz_err, "logz_old": self.logz_old,
                "logz_err_old": self.logz_err_old, "ln_ratio": self.ln_ratio, "ln_ratio_err": self.ln_ratio_err,
                "ess": self.ess, "ess_old": self.ess_old, "ess_fraction": self.ess_fraction,
                "n_samples": self.n_samples}


def kish_ess(weights: FloatArray) -> float:
    w = np.asarray(weights, dtype=float)
    s = w.sum()
    return float(s * s / np.sum(w * w)) if s > 0 else 0.0


def importance_reweight(weights: FloatArray, logl_old: FloatArray, logp_old: FloatArray, logl_new: FloatArray,
                        logp_new: FloatArray, logz_old: float, logz_err_old: float | None,
                        min_ess: float = DEFAULT_MIN_ESS) -> Reweighting:
    """Reweight samples (module docstring). Raises NotReweightableError / LowESSError."""
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    old = np.asarray(logl_old, dtype=float) + np.asarray(logp_old, dtype=float)
    new = np.asarray(logl_new, dtype=float) + np.asarray(logp_new, dtype=float)
    if np.any(np.isnan(new)) or np.any(new == np.inf):
        raise NotReweightableError("the new log-likelihood or log-prior is NaN or +inf at some samples", fix="")
    uncovered = int(np.sum(~np.isfinite(old) & np.isfinite(new)))
    if uncovered:
        raise NotReweightableError(
            f"the new target is non-zero at {uncovered} samples where the run's was zero (a wider prior or a "
            "dropped hard bound): the run has no samples of part of the new posterior", bound_released=True)
    use = (w > 0) & np.isfinite(new)
    if not np.any(use):
        raise LowESSError("no sample has a non-zero weight under the new prior and likelihood (ESS 0)", 0.0, min_ess)
    log_rho = np.full(len(w), -np.inf)
    log_rho[use] = new[use] - old[use]
    log_wr = np.full(len(w), -np.inf)
    log_wr[use] = np.log(w[use]) + log_rho[use]
    ln_r = float(logsumexp(log_wr[use]))
    w_new = np.exp(log_wr - ln_r)
    ess_old, ess = kish_ess(w), kish_ess(w_new)
    if ess < min_ess:
        raise LowESSError(f"the reweighted samples have an effective sample size of {ess:.0f} (of {ess_old:.0f} "
                          f"before), below the threshold {min_ess:.0f}: the new posterior lies where the run has few "
                          "samples", ess, min_ess, fix="rerun instead")
    # importance-sampling error of r, relative: sum w^2 (rho/r - 1)^2
    rho_rel = np.exp(log_rho - ln_r)
    sigma_is = float(np.sqrt(np.sum(w * w * (rho_rel - 1.0) ** 2)))
    lnz_new, err_new = float(logz_old) + ln_r, float("nan")
    if logz_err_old is not None and math.isfinite(logz_old):
        finite_old = use & np.isfinite(np.asarray(logl_old, dtype=float))
        h_old = _information(w, np.asarray(logl_old, dtype=float), float(logz_old), finite_old)
        g = np.asarray(logl_new, dtype=float) + np.asarray(logp_new, dtype=float) - np.asarray(logp_old, dtype=float)
        h_new = _information(w_new, g, lnz_new, use)
        scale = math.sqrt(h_new / h_old) if h_old > 0 and h_new > 0 else 1.0
        err_new = math.hypot(float(logz_err_old) * scale, sigma_is)
    return Reweighting(weights=w_new, logl=np.asarray(logl_new, dtype=float), logz=lnz_new, logz_err=err_new,
                       logz_old=float(logz_old), logz_err_old=float("nan") if logz_err_old is None else
                       float(logz_err_old), ln_ratio=ln_r, ln_ratio_err=sigma_is, ess=ess, ess_old=ess_old,
                       n_samples=int(np.sum(w_new > 0)))


def _information(w: FloatArray, log_g: FloatArray, logz: float, mask: np.ndarray) -> float:
    """Kullback-Leibler information sum_i w_i (ln g_i - ln Z) of a posterior with integrand g over the prior."""
    return float(np.sum(w[mask] * (log_g[mask] - logz)))
